"""Voice: SIP calls through IVR flows into queues and to agents' phones.

The telephony service (:mod:`switchboard.voice.service`) runs sippy on its
own thread (:mod:`~switchboard.voice.sipstack`, :mod:`~switchboard.voice.signalling`)
and anchors every call's media in rtpengine (:mod:`switchboard.media`); the
call controller (:mod:`~switchboard.voice.calls`) drives the IVR interpreter and
the routing engine through the server runtime on the asyncio loop, so every
call step lands in the event log like any other channel's. See docs/voice.md.
"""
