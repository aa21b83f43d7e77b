"""Run Debian's rtpengine as a child process, or attach to one that runs.

The child ignores Debian's ``/etc/rtpengine/rtpengine.conf``
(``--config-file=none``: that file's fixed CLI and HTTP ports would keep a
second instance from starting), runs in the foreground
(``--foreground --log-stderr``), in
userspace (``--table=-1``: no kernel module is asked for), with its log in
``<workdir>/rtpengine.log``. It is ready when it answers an ng ``ping``.
Abandoned calls are reaped by rtpengine itself: ``timeout`` seconds without
media, ``offer_timeout`` for calls never answered, ``final_timeout`` for any
call (0: never). Flags and their meaning: ``rtpengine --help`` and its manual
page (Debian ``rtpengine-daemon`` 10.5).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from switchboard.media.errors import MediaError, RtpengineUnavailable
from switchboard.media.rtpengine import RtpengineClient


@dataclass(frozen=True, slots=True, kw_only=True)
class RtpengineConfig:
    """How to start rtpengine.

    ``interfaces``: rtpengine ``--interface`` values, ``IP`` or ``NAME/IP``
    (the address media flows on; SDP carries it). ``ng_host``/``ng_port``:
    where its ng control listens (port 0: a free port is picked).
    ``port_min``/``port_max``: the RTP port range (two ports per stream).
    ``dtmf_log_dest``: (host, port) that receives DTMF events as JSON over UDP
    (see :mod:`switchboard.media.dtmf`). ``recording_dir``: where pcap
    recordings go (``pcaps/``, ``metadata/``); None disables recording.
    ``timeout``: seconds without media before a call is dropped;
    ``silent_timeout``: the same for held/inactive streams; ``offer_timeout``:
    for calls that got an offer and never an answer; ``final_timeout``: any
    call's longest life (0: unlimited). ``delete_delay``: seconds a deleted
    call stays in memory (0: none). ``workdir``: rtpengine's working directory
    and log (a temporary directory when None). ``binary``: the executable.
    """

    interfaces: tuple[str, ...] = ("127.0.0.1",)
    ng_host: str = "127.0.0.1"
    ng_port: int = 0
    port_min: int = 30000
    port_max: int = 40000
    dtmf_log_dest: tuple[str, int] | None = None
    recording_dir: Path | None = None
    timeout: int = 60
    silent_timeout: int = 3600
    offer_timeout: int = 3600
    final_timeout: int = 0
    delete_delay: int = 0
    num_threads: int | None = None
    log_level: int = 5
    workdir: Path | None = None
    binary: str = "rtpengine"
    extra_args: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.interfaces:
            raise ValueError("rtpengine needs at least one interface address")
        if not 0 <= self.ng_port <= 65535:
            raise ValueError(f"ng_port {self.ng_port} is not a UDP port")
        if not 1024 <= self.port_min < self.port_max <= 65535:
            raise ValueError(
                f"RTP port range {self.port_min}-{self.port_max} must lie within 1024-65535"
            )
        for name in ("timeout", "silent_timeout", "offer_timeout", "final_timeout"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be zero or more seconds")


def _free_udp_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class RtpengineDaemon:
    """One rtpengine child process. ``start()`` returns a connected client.

    Use as a context manager (``with RtpengineDaemon(cfg) as engine:``;
    ``engine.client`` is the :class:`RtpengineClient`), or call
    :meth:`start` and :meth:`stop`.
    """

    def __init__(self, config: RtpengineConfig | None = None) -> None:
        self.config = config or RtpengineConfig()
        self.ng_address: tuple[str, int] | None = None
        self.log_path: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._client: RtpengineClient | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._log_offset = 0

    @property
    def client(self) -> RtpengineClient:
        if self._client is None:
            raise RtpengineUnavailable("rtpengine is not started")
        return self._client

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def command_line(self, ng_port: int) -> list[str]:
        """The argv this daemon runs (for logs and for ``switchboard`` docs)."""
        cfg = self.config
        exe = shutil.which(cfg.binary) or cfg.binary
        # --config-file=none: Debian's /etc/rtpengine/rtpengine.conf would add
        # fixed CLI/HTTP ports (a second instance then fails), TOS and
        # recording-method=proc.
        argv = [exe, "--config-file=none", "--foreground", "--log-stderr", "--table=-1"]
        argv.append(f"--log-level={cfg.log_level}")
        argv += [f"--interface={iface}" for iface in cfg.interfaces]
        argv += [
            f"--listen-ng={cfg.ng_host}:{ng_port}",
            f"--port-min={cfg.port_min}",
            f"--port-max={cfg.port_max}",
            f"--timeout={cfg.timeout}",
            f"--silent-timeout={cfg.silent_timeout}",
            f"--offer-timeout={cfg.offer_timeout}",
            f"--final-timeout={cfg.final_timeout}",
            f"--delete-delay={cfg.delete_delay}",
        ]
        if cfg.dtmf_log_dest is not None:
            host, port = cfg.dtmf_log_dest
            argv.append(f"--dtmf-log-dest={host}:{port}")
        if cfg.recording_dir is not None:
            argv += [f"--recording-dir={cfg.recording_dir}", "--recording-method=pcap"]
        if cfg.num_threads is not None:
            argv.append(f"--num-threads={cfg.num_threads}")
        argv += list(cfg.extra_args)
        return argv

    def start(self, *, ready_timeout: float = 10.0) -> RtpengineClient:
        """Start rtpengine and wait until it answers ping.

        Raises :class:`MediaError` (with the tail of its log) when the binary
        is missing, the process exits, or no pong comes within ``ready_timeout``.
        """
        if self._proc is not None:
            raise MediaError("this rtpengine is already started")
        cfg = self.config
        if shutil.which(cfg.binary) is None:
            raise MediaError(
                f"{cfg.binary!r} not found: install Debian's rtpengine-daemon "
                "(sh scripts/test-deps.sh) or give RtpengineConfig(binary=...)"
            )
        if cfg.workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="switchboard-rtpengine-")
            workdir = Path(self._tmp.name)
        else:
            workdir = cfg.workdir
            workdir.mkdir(parents=True, exist_ok=True)
        if cfg.recording_dir is not None:
            cfg.recording_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / "rtpengine.log"
        # A port picked free can be taken before rtpengine binds it: try again.
        attempts = 3 if cfg.ng_port == 0 else 1
        for attempt in range(attempts):
            ng_port = cfg.ng_port or _free_udp_port(cfg.ng_host)
            try:
                self._launch(workdir, ng_port, ready_timeout)
                break
            except MediaError as exc:
                self._kill()
                retry = "Address already in use" in str(exc) and attempt + 1 < attempts
                if not retry:
                    self.stop()
                    raise
        assert self.ng_address is not None
        self._client = RtpengineClient(self.ng_address)
        return self._client

    def _launch(self, workdir: Path, ng_port: int, ready_timeout: float) -> None:
        assert self.log_path is not None
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        # ``ulimit -c 0``: rtpengine 10.5 can crash on SIGTERM while it records
        # a call (stop() deletes calls first); never leave a core file behind.
        argv = ["/bin/sh", "-c", 'ulimit -c 0; exec "$@"', "rtpengine", *self.command_line(ng_port)]
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                argv,
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.ng_address = (self.config.ng_host, ng_port)
        deadline = time.monotonic() + ready_timeout
        with RtpengineClient(self.ng_address, timeout=0.2, retries=0) as probe:
            while True:
                if self._proc.poll() is not None:
                    raise MediaError(
                        f"rtpengine exited with status {self._proc.returncode} while starting: "
                        f"{self.log_tail()}"
                    )
                try:
                    probe.ping()
                    return
                except RtpengineUnavailable:
                    if time.monotonic() > deadline:
                        raise MediaError(
                            f"rtpengine did not answer ping on {self.config.ng_host}:{ng_port} "
                            f"within {ready_timeout:g} s: {self.log_tail()}"
                        ) from None

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def log_tail(self, max_bytes: int = 2000) -> str:
        """The end of what this run of rtpengine logged (for error messages)."""
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        with open(self.log_path, "rb") as log:
            log.seek(max(self._log_offset, log.seek(0, 2) - max_bytes))
            data = log.read()
        return data.decode("utf-8", errors="replace").strip() or "(empty log)"

    def stop(self, *, grace: float = 5.0) -> int | None:
        """Delete the calls rtpengine still holds, stop it (SIGTERM, then SIGKILL
        after ``grace`` seconds) and close the client. Returns the exit status
        (None if it was not running).

        Calls are deleted first because rtpengine 10.5 segfaults when it is
        terminated while it records a call (seen on Debian 12).
        """
        if self._client is not None:
            if self._proc is not None and self._proc.poll() is None:
                self._delete_all_calls(self._client)
            self._client.close()
            self._client = None
        status: int | None = None
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            status = proc.returncode
        if self._tmp is not None:
            with contextlib.suppress(OSError):
                self._tmp.cleanup()
            self._tmp = None
        return status

    @staticmethod
    def _delete_all_calls(client: RtpengineClient) -> None:
        with contextlib.suppress(MediaError):
            for _ in range(1000):  # bounded: 32 calls a round
                calls = client.list_calls(limit=32)
                if not calls:
                    break
                for call_id in calls:
                    with contextlib.suppress(MediaError):
                        client.delete(call_id)

    def __enter__(self) -> RtpengineDaemon:
        if self._proc is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def attach(address: tuple[str, int], *, timeout: float = 1.0, retries: int = 2) -> RtpengineClient:
    """Connect to an rtpengine that runs already (a system service) and ping it.

    Raises :class:`RtpengineUnavailable` when it does not answer.
    """
    client = RtpengineClient(address, timeout=timeout, retries=retries)
    try:
        client.ping()
    except BaseException:
        client.close()
        raise
    return client
