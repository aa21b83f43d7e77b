"""The media plane: rtpengine (relay, prompts, DTMF, recording) driven over its
ng control protocol, espeak-ng prompts, G.711 and pcap-to-WAV recordings.

This is the imperative shell: it opens sockets and runs processes. The voice
call controller (``switchboard.voice``) uses it; the core never imports it.
See ``docs/voice.md`` for the API.
"""
