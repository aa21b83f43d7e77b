"""Call recordings and voicemail: rtpengine pcap -> WAV, metadata in the store,
retention, playback.

A call recording is a stereo WAV, 8 kHz 16-bit: the customer on the left
channel, everyone else (the agent, a transfer target) on the right. A
voicemail message is mono: what the caller said. The WAV starts when
recording started and ends when it finished, so its length is the call's;
paused spans (card payments) are silence of the same length.

Flow, for the call controller (``switchboard.voice``)::

    recorder = CallRecorder(service, client, rtpengine_recording_dir)
    rec = recorder.start(tenant_id=t, interaction_id=i, call_id=cid, customer_tag=tag)
    rec.pause(); rec.resume()      # also through the API (see switchboard.media.control)
    rec.refresh_legs()             # after a new leg joins (an agent answers, a transfer)
    row = rec.finish()             # before rtpengine's ``delete`` of the call (or after: both work)

rtpengine records what each party *sends*, one pcap per segment (a pause
closes a segment in 10.5). Packets are told apart by the rtpengine port they
were sent to: the customer's ports (from ``query``) go left.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sqlalchemy import Connection, Engine, select

from switchboard.media import pcap
from switchboard.media.errors import (
    MediaError,
    RecordingNotFound,
    RecordingStateError,
    RtpengineError,
)
from switchboard.media.rtpengine import RtpengineClient
from switchboard.store import recordings as repo
from switchboard.store import schema as s

CONTENT_TYPE = "audio/wav"
Write = Callable[[Connection], None]
_SEGMENT_RE = re.compile(r"^(?P<call>.+)-(?P<rand>[0-9a-f]{16})\.pcap$")
_SAFE_DIR = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Playback:
    """What the API streams: the file, its type and size."""

    path: Path
    content_type: str
    size: int


class RecordingService:
    """Recording rows in the store and WAV files under ``media_dir``.

    ``db``: the store's engine (migrated). ``media_dir``: where WAV files go,
    ``<media_dir>/recordings/<tenant>/<YYYY-MM>/<id>.wav``; rows keep the path
    relative to ``media_dir``. ``clock``: POSIX seconds (tests pass their own).
    """

    def __init__(
        self, db: Engine, media_dir: Path, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.media_dir = Path(media_dir)
        self.clock = clock

    # -------------------------------------------------------------- reading

    def get(self, tenant_id: str, recording_id: str) -> dict[str, Any]:
        """The recording's metadata. Raises :class:`RecordingNotFound`."""
        with self.db.connect() as conn:
            row = repo.get(conn, tenant_id, recording_id)
        if row is None:
            raise RecordingNotFound(f"no recording {recording_id!r}", field="recording_id")
        return row

    def list_recordings(
        self, tenant_id: str, *, interaction_id: str | None = None, kind: str | None = None
    ) -> list[dict[str, Any]]:
        with self.db.connect() as conn:
            return repo.list_for(conn, tenant_id, interaction_id=interaction_id, kind=kind)

    def playback(self, tenant_id: str, recording_id: str) -> Playback:
        """The WAV file to stream. Raises :class:`RecordingNotFound` when there
        is no such recording, it is not finished, or its file is gone."""
        row = self.get(tenant_id, recording_id)
        if row["status"] != "complete" or not row["path"]:
            raise RecordingNotFound(
                f"recording {recording_id!r} has no audio yet (status {row['status']})",
                field="recording_id",
            )
        path = self.absolute(row["path"])
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise RecordingNotFound(
                f"the audio file of recording {recording_id!r} is missing", field="recording_id"
            ) from None
        return Playback(path, row["content_type"], size)

    def absolute(self, relative: str) -> Path:
        path = (self.media_dir / relative).resolve()
        if not path.is_relative_to(self.media_dir.resolve()):
            raise MediaError(f"recording path {relative!r} leaves the media directory")
        return path

    # -------------------------------------------------------------- writing

    def new_path(self, tenant_id: str, recording_id: str, at: float) -> str:
        """Where a new recording's WAV goes (relative to ``media_dir``)."""
        tenant_dir = tenant_id if _SAFE_DIR.match(tenant_id) else _digest(tenant_id)
        month = time.strftime("%Y-%m", time.gmtime(at))
        return f"recordings/{tenant_dir}/{month}/{recording_id}.wav"

    def delete(self, tenant_id: str, recording_id: str, *, also: Write | None = None) -> None:
        """Delete a recording's row and file. Raises :class:`RecordingNotFound`,
        or :class:`RecordingStateError` while it runs. ``also`` runs in the same
        transaction (the API's audit row)."""
        row = self.get(tenant_id, recording_id)
        if row["status"] in ("recording", "paused"):
            raise RecordingStateError(
                f"recording {recording_id!r} is still running; finish it first"
            )
        with self.db.begin() as conn:
            repo.remove(conn, tenant_id, [recording_id])
            if also is not None:
                also(conn)
        self._unlink(row)

    def set_retention(self, tenant_id: str, days: int, *, also: Write | None = None) -> None:
        """Keep the tenant's recordings ``days`` days after they end (1-36500;
        :class:`ValidationError` otherwise). ``also``: as in :meth:`delete`."""
        with self.db.begin() as conn:
            repo.set_retention(conn, tenant_id, days, now=self.clock())
            if also is not None:
                also(conn)

    def retention(self, tenant_id: str) -> int | None:
        with self.db.connect() as conn:
            return repo.retention(conn, tenant_id)

    def purge_expired(
        self, tenant_id: str, *, now: float | None = None, also: Write | None = None
    ) -> list[str]:
        """Delete the tenant's recordings (rows, then files) that ended more
        than its retention period ago. Returns their ids (none without a period).
        ``also``: as in :meth:`delete`."""
        now = self.clock() if now is None else now
        with self.db.begin() as conn:
            days = repo.retention(conn, tenant_id)
            before = now - days * 86400.0 if days is not None else None
            rows = [] if before is None else repo.expired(conn, tenant_id, before=before)
            repo.remove(conn, tenant_id, [r["id"] for r in rows])
            if also is not None:
                also(conn)
        for row in rows:  # after the commit: a row never points at a deleted file
            self._unlink(row)
        return [r["id"] for r in rows]

    def purge_all(self, *, now: float | None = None) -> dict[str, list[str]]:
        """:meth:`purge_expired` for every tenant that has a retention period."""
        with self.db.connect() as conn:
            tenants = [r.tenant_id for r in conn.execute(select(s.RecordingRetention.tenant_id))]
        return {t: self.purge_expired(t, now=now) for t in tenants}

    def _unlink(self, row: dict[str, Any]) -> None:
        if row["path"]:
            with contextlib.suppress(FileNotFoundError):
                self.absolute(row["path"]).unlink()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def segments(recording_dir: Path, call_id: str) -> list[Path]:
    """rtpengine's pcap files of ``call_id`` (file names %-escape the call-id)."""
    found = []
    pcaps = Path(recording_dir) / "pcaps"
    if not pcaps.is_dir():
        return []
    for entry in pcaps.iterdir():
        match = _SEGMENT_RE.match(unquote(entry.name))
        if match and match.group("call") == call_id:
            found.append(entry)
    return sorted(found)


class CallRecorder:
    """Starts recordings of calls held by one rtpengine.

    ``recording_dir``: that rtpengine's ``--recording-dir`` (it must be on
    this machine: the pcaps are read from there, and its clock is ours).
    ``keep_pcaps``: leave rtpengine's files after a successful conversion.
    """

    def __init__(
        self,
        service: RecordingService,
        client: RtpengineClient,
        recording_dir: Path,
        *,
        keep_pcaps: bool = False,
    ) -> None:
        self.service = service
        self.client = client
        self.recording_dir = Path(recording_dir)
        self.keep_pcaps = keep_pcaps

    def start(
        self,
        *,
        tenant_id: str,
        interaction_id: str,
        call_id: str,
        customer_tag: str,
        kind: str = "call",
        caller: str | None = None,
        queue_id: str | None = None,
    ) -> ActiveRecording:
        """Start recording ``call_id`` (it must exist in rtpengine) and add its row.

        ``customer_tag``: the customer's leg (left channel, or the only one
        for ``kind="voicemail"``). Raises :class:`RtpengineError` when
        rtpengine refuses (e.g. an unknown call); nothing is stored then.
        """
        if kind not in repo.KINDS:
            raise MediaError(f"kind must be one of {', '.join(repo.KINDS)}")
        recording_id = uuid.uuid4().hex
        started = self.service.clock()
        self.client.start_recording(call_id)
        channels = 1 if kind == "voicemail" else 2
        try:
            with self.service.db.begin() as conn:
                repo.create(
                    conn, tenant_id, recording_id=recording_id, kind=kind,
                    interaction_id=interaction_id, started_at=started, now=started,
                    call_id=call_id, channels=channels, caller=caller, queue_id=queue_id,
                )  # fmt: skip
        except BaseException:
            with contextlib.suppress(MediaError):
                self.client.stop_recording(call_id)
            raise
        rec = ActiveRecording(self, recording_id, tenant_id, interaction_id, call_id, kind,
                              customer_tag, started, channels)  # fmt: skip
        rec.refresh_legs()
        return rec


class ActiveRecording:
    """One running recording. Thread-safe: the API may pause it while the call
    controller finishes it."""

    def __init__(
        self,
        recorder: CallRecorder,
        recording_id: str,
        tenant_id: str,
        interaction_id: str,
        call_id: str,
        kind: str,
        customer_tag: str,
        started_at: float,
        channels: int,
    ) -> None:
        self.recorder = recorder
        self.id = recording_id
        self.tenant_id = tenant_id
        self.interaction_id = interaction_id
        self.call_id = call_id
        self.kind = kind
        self.customer_tag = customer_tag
        self.started_at = started_at
        self.channels = channels
        self.paused: list[list[float]] = []  # [from, to]; the last one open while paused
        self.finished = False
        self._ports: dict[int, int] = {}  # rtpengine local port -> channel
        self._lock = threading.Lock()

    @property
    def is_paused(self) -> bool:
        return bool(self.paused) and len(self.paused[-1]) == 1

    def refresh_legs(self, customer_tag: str | None = None) -> None:
        """Learn the ports of the call's legs from rtpengine (after a leg
        joins); ``customer_tag`` changes who is the customer. Ports learned
        earlier are kept, so a leg that left is still placed right."""
        with self._lock:
            if customer_tag is not None:
                self.customer_tag = customer_tag
            self._refresh()

    def _refresh(self) -> None:
        try:
            reply = self.recorder.client.query(self.call_id)
        except RtpengineError:
            return  # the call is gone: keep what was learned
        for tag, leg in _legs(reply):
            channel = 0 if tag == self.customer_tag else (1 if self.channels == 2 else -1)
            for port in leg:
                self._ports[port] = channel

    def pause(self) -> None:
        """Stop recording (card payment): the span until :meth:`resume` is
        silence. Raises :class:`MediaError` if already paused or finished."""
        with self._lock:
            self._check_running()
            if self.is_paused:
                raise RecordingStateError("the recording is already paused")
            self.recorder.client.pause_recording(self.call_id)
            self.paused.append([self.recorder.service.clock()])
            self._save(status="paused", paused=self._paused_for_row())

    def resume(self) -> None:
        """Record again after :meth:`pause`."""
        with self._lock:
            self._check_running()
            if not self.is_paused:
                raise RecordingStateError("the recording is not paused")
            self._refresh()
            self.recorder.client.start_recording(self.call_id)
            self.paused[-1].append(self.recorder.service.clock())
            self._save(status="recording", paused=self._paused_for_row())

    def _check_running(self) -> None:
        if self.finished:
            raise RecordingStateError("the recording is finished")

    def _paused_for_row(self) -> list[list[float]]:
        return [list(span) for span in self.paused]

    def _save(self, **values: Any) -> None:
        with self.recorder.service.db.begin() as conn:
            repo.update(conn, self.tenant_id, self.id, **values)

    def finish(self, *, wait_s: float = 3.0) -> dict[str, Any]:
        """Stop recording, convert the pcaps to WAV, store it; returns the row.

        Works before or after rtpengine's ``delete`` of the call. On a failed
        conversion the row is marked ``failed`` (with the reason in
        ``details``), the pcaps are kept, and :class:`MediaError` is raised.
        """
        with self._lock:
            self._check_running()
            self.finished = True
            service = self.recorder.service
            self._refresh()
            ended = service.clock()
            with contextlib.suppress(RtpengineError):  # already gone: the files are closed
                self.recorder.client.stop_recording(self.call_id)
            if self.is_paused:
                self.paused[-1].append(ended)
            spans = [(a, b) for a, b in self.paused]
            files = self._wait_for_segments(wait_s)
            relative = service.new_path(self.tenant_id, self.id, self.started_at)
            try:
                if not files:
                    raise MediaError(
                        f"no pcap of call {self.call_id!r} in {self.recorder.recording_dir}/pcaps: "
                        "is that rtpengine's --recording-dir?"
                    )
                samples, stats = pcap.render(
                    _packets(files),
                    start=self.started_at,
                    end=ended,
                    channel_of_port={p: c for p, c in self._ports.items() if c >= 0},
                    default_channel=1 if self.channels == 2 else None,
                    channels=self.channels,
                    paused=spans,
                )
                target = service.absolute(relative)
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.tmp")
                pcap.write_wav(tmp, samples)
                os.replace(tmp, target)
            except (OSError, MediaError) as exc:
                self._save(
                    status="failed",
                    ended_at=ended,
                    duration=ended - self.started_at,
                    paused=self._paused_for_row(),
                    details={"error": str(exc), "pcaps": [str(f) for f in files]},
                )
                raise MediaError(f"recording {self.id} could not be converted: {exc}") from exc
            details = stats.to_dict() | {"segments": len(files)}
            self._save(
                status="complete", ended_at=ended, duration=len(samples) / pcap.RATE,
                paused=self._paused_for_row(), path=relative, size_bytes=target.stat().st_size,
                details=details,
            )  # fmt: skip
            if not self.recorder.keep_pcaps:
                _remove_segments(self.recorder.recording_dir, files)
            return service.get(self.tenant_id, self.id)

    def _wait_for_segments(self, wait_s: float) -> list[Path]:
        """The call's pcaps once rtpengine has closed them (its metadata file
        appears then), or whatever is there after ``wait_s``."""
        deadline = time.monotonic() + wait_s
        while True:
            files = segments(self.recorder.recording_dir, self.call_id)
            closed = all(_metadata_of(self.recorder.recording_dir, f).exists() for f in files)
            if closed or time.monotonic() > deadline:
                return files
            time.sleep(0.02)


def _legs(reply: dict[str, Any]) -> Iterator[tuple[str, list[int]]]:
    tags = reply.get("tags")
    if not isinstance(tags, dict):
        return
    for tag, leg in tags.items():
        ports: list[int] = []
        for media in leg.get("medias", []) if isinstance(leg, dict) else []:
            for stream in media.get("streams", []) if isinstance(media, dict) else []:
                port = stream.get("local port") if isinstance(stream, dict) else None
                if isinstance(port, int):
                    ports.append(port)
        yield tag, ports


def _packets(files: list[Path]) -> Iterator[pcap.UdpPacket]:
    for path in files:
        yield from pcap.read_pcap(path)


def _metadata_of(recording_dir: Path, pcap_file: Path) -> Path:
    return recording_dir / "metadata" / f"rtpengine-meta-{pcap_file.stem}.txt"


def _remove_segments(recording_dir: Path, files: list[Path]) -> None:
    for f in files:
        with contextlib.suppress(FileNotFoundError):
            f.unlink()
        with contextlib.suppress(FileNotFoundError):
            _metadata_of(recording_dir, f).unlink()
