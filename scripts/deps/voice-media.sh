# Media plane for the voice tests (tests/media): rtpengine relays, plays and
# records RTP in userspace; espeak-ng renders prompts; sox converts uploads.
need 'command -v rtpengine' rtpengine-daemon
need 'command -v espeak-ng' espeak-ng
need 'command -v sox' sox
