"""A real rtpengine (Debian rtpengine-daemon) per test module, with its DTMF log
going to a listener and recordings to a temporary directory."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.media.daemon import RtpengineConfig, RtpengineDaemon
from switchboard.media.dtmf import DtmfListener
from tests.media.rtp import RtpEndpoint

needs_rtpengine = pytest.mark.skipif(
    shutil.which("rtpengine") is None,
    reason="Debian rtpengine-daemon is not installed (sh scripts/test-deps.sh)",
)


class Media:
    def __init__(self, daemon: RtpengineDaemon, dtmf: DtmfListener, recordings: Path) -> None:
        self.daemon = daemon
        self.client = daemon.client
        self.dtmf = dtmf
        self.recordings = recordings


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Media]:
    if shutil.which("rtpengine") is None:
        pytest.skip("Debian rtpengine-daemon is not installed (sh scripts/test-deps.sh)")
    base = tmp_path_factory.mktemp("rtpengine")
    dtmf = DtmfListener()
    cfg = RtpengineConfig(
        dtmf_log_dest=dtmf.address,
        recording_dir=base / "recordings",
        workdir=base / "work",
        port_min=42000,
        port_max=42999,
        timeout=30,
        log_level=6,
    )
    daemon = RtpengineDaemon(cfg)
    daemon.start()
    try:
        yield Media(daemon, dtmf, base / "recordings")
    finally:
        status = daemon.stop()
        dtmf.close()
        assert status == 0, daemon.log_tail()


@pytest.fixture
def endpoints() -> Iterator[tuple[RtpEndpoint, RtpEndpoint]]:
    a, b = RtpEndpoint(), RtpEndpoint()
    try:
        yield a, b
    finally:
        a.close()
        b.close()
