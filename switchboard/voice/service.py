"""The telephony service: SIP, rtpengine, DTMF and the call controller, started
and stopped together beside the server runtime.

```python
service = TelephonyService(runtime, load_voice_config("voice.yaml"))
await service.start()      # rtpengine (child or attached), DTMF log, SIP on its thread
...
await service.stop()       # calls hung up, rtpengine stopped, SIP socket closed
```

Threads: sippy's loop (SIP), rtpengine's client reader and one request worker,
the DTMF listener. Each hands its events to the asyncio loop with
``call_soon_threadsafe``; the controller and the runtime run only there.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from switchboard.domain.errors import ConfigError, SwitchboardError
from switchboard.media.control import ControlSlot, RecordingControl
from switchboard.media.daemon import RtpengineConfig, RtpengineDaemon, attach
from switchboard.media.dtmf import DtmfListener
from switchboard.media.prompts import PromptStore
from switchboard.media.recording import CallRecorder, RecordingService
from switchboard.media.rtpengine import RtpengineClient
from switchboard.server.runtime import Runtime
from switchboard.voice.calls import CallController
from switchboard.voice.config import VoiceConfig
from switchboard.voice.mediaplane import MediaPlane
from switchboard.voice.signalling import Signalling
from switchboard.voice.tones import write_beep, write_hold_music
from switchboard.voice.voicemail import Recordings

logger = logging.getLogger("switchboard.voice")


class TelephonyService:
    """See the module docstring. ``dtmf_address``: where the DTMF log listener
    binds (default: the configuration's ``rtpengine.dtmf``; port 0: a free
    one); an attached rtpengine must send its ``dtmf-log-dest`` there."""

    def __init__(self, runtime: Runtime, config: VoiceConfig, *,
                 clock: Callable[[], float] = time.time,
                 dtmf_address: tuple[str, int] | None = None,
                 recordings: RecordingService | None = None,
                 media_control: ControlSlot | None = None) -> None:
        self.runtime = runtime
        self.recordings = recordings or RecordingService(runtime.db, config.recording.media,
                                                         clock=clock)
        self.media_control = media_control
        self.recording_control = RecordingControl()
        self.config = config
        self.clock = clock
        self.dtmf_address = dtmf_address or config.rtpengine.dtmf
        self.daemon: RtpengineDaemon | None = None
        self.client: RtpengineClient | None = None
        self.dtmf: DtmfListener | None = None
        self.media: MediaPlane | None = None
        self.signalling: Signalling | None = None
        self.calls: CallController | None = None

    @property
    def sip_port(self) -> int:
        assert self.signalling is not None, "not started"
        return self.signalling.port

    async def start(self) -> None:
        """Start everything; on any failure, stop what started and raise."""
        loop = asyncio.get_running_loop()
        try:
            await self._start(loop)
        except BaseException:
            await self.stop()
            raise

    async def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        cfg = self.config
        for number in cfg.numbers.values():
            try:
                self.runtime.ensure_tenant(number.tenant)
            except SwitchboardError:
                raise ConfigError(f"no tenant {number.tenant!r}; create it first "
                                  f"(switchboard admin)",
                                  field=f"numbers.{number.number}.tenant") from None
        def on_dtmf(event: Any) -> None:
            loop.call_soon_threadsafe(self._dtmf, event)

        self.dtmf = DtmfListener(*self.dtmf_address, on_event=on_dtmf)
        if cfg.rtpengine.start:
            self.daemon = RtpengineDaemon(RtpengineConfig(
                interfaces=(cfg.rtpengine.interface,), port_min=cfg.rtpengine.port_min,
                port_max=cfg.rtpengine.port_max, dtmf_log_dest=self.dtmf.address,
                timeout=cfg.rtpengine.media_timeout_s,
                recording_dir=Path(cfg.recording.spool).resolve()))
            self.client = await asyncio.to_thread(self.daemon.start)
        else:
            assert cfg.rtpengine.ng is not None
            self.client = await asyncio.to_thread(attach, cfg.rtpengine.ng)
        prompts_dir = Path(cfg.prompts)
        music = Path(cfg.queue.music) if cfg.queue.music else \
            await asyncio.to_thread(write_hold_music, prompts_dir / "hold-music.wav")
        self.media = MediaPlane(self.client, PromptStore(prompts_dir), music)
        beep = await asyncio.to_thread(write_beep, prompts_dir / "beep.wav")
        recorder = CallRecorder(self.recordings, self.client, Path(cfg.recording.spool).resolve())
        if self.media_control is not None:
            self.media_control.register(self.recording_control)

        def post(event: object) -> None:
            loop.call_soon_threadsafe(self._sip, event)

        self.signalling = Signalling(cfg, post)
        self.calls = CallController(self.runtime, cfg, self.signalling, self.media,
                                    clock=self.clock,
                                    recordings=Recordings(recorder, self.recording_control, beep))
        self.calls.start()
        await asyncio.to_thread(self.signalling.start)
        logger.info("SIP on %s:%d, rtpengine %s", cfg.address, self.signalling.port,
                    "started" if self.daemon else f"at {cfg.rtpengine.ng}")

    def _sip(self, event: object) -> None:
        if self.calls is not None:
            self.calls.on_sip(event)

    def _dtmf(self, event: Any) -> None:
        if self.calls is not None:
            self.calls.on_dtmf(event)

    async def stop(self) -> None:
        """Hang up every call, then stop SIP, rtpengine and the DTMF listener."""
        if self.media_control is not None:
            self.media_control.unregister(self.recording_control)
        if self.calls is not None:
            await self.calls.stop()
        if self.signalling is not None:
            await asyncio.to_thread(self.signalling.stop)
            self.signalling = None
        self.calls = None
        if self.media is not None:
            await asyncio.to_thread(self.media.close)
            self.media = None
        if self.daemon is not None:
            await asyncio.to_thread(self.daemon.stop)
            self.daemon = None
        elif self.client is not None:
            self.client.close()
        self.client = None
        if self.dtmf is not None:
            await asyncio.to_thread(self.dtmf.close)
            self.dtmf = None


def install(app: Any, config: VoiceConfig) -> None:
    """Run a :class:`TelephonyService` with ``app`` (``create_app``'s FastAPI
    app): it starts after the runtime (inside the app's lifespan) and stops
    before it; ``app.state.telephony`` holds it while it runs."""
    from contextlib import asynccontextmanager

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> Any:
        async with inner(a) as state:
            service = TelephonyService(
                app.state.runtime, config, recordings=getattr(app.state, "recordings", None),
                media_control=getattr(app.state, "media_control", None))
            await service.start()
            app.state.telephony = service
            try:
                yield state
            finally:
                app.state.telephony = None
                await service.stop()

    app.router.lifespan_context = lifespan
