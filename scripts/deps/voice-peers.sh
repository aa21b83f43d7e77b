# Real SIP peers for the voice tests (tests/voice) and bench/voice.py: sipp
# (Debian sip-tester, with its RTP and RFC 2833 DTMF pcaps) as callers and load,
# baresip as an agent's auto-answering phone that records what it hears.
need 'command -v sipp' sip-tester
need 'command -v baresip' baresip
