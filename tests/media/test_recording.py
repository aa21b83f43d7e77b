"""Recording with a real rtpengine recording real RTP from the test endpoints:
the WAV is non-silent where someone spoke, on the right channel, as long as
the call within 0.1 s, and silent where it was paused. Voicemail, playback,
retention and deletion against the real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from switchboard.media.errors import MediaError, RecordingNotFound
from switchboard.media.recording import CallRecorder, RecordingService, segments
from switchboard.media.rtpengine import sip_side_flags
from switchboard.store import recordings as repo
from switchboard.store import repo as base_repo
from switchboard.store.db import migrate, open_db
from tests.media.conftest import Media
from tests.media.rtp import RtpEndpoint, media_address, tone
from tests.store.conftest import database_url


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    engine = open_db(database_url(request.param, tmp_path))
    migrate(engine)
    with engine.begin() as conn:
        base_repo.create_tenant(conn, "t1", name="T1", now=0.0)
        base_repo.create_tenant(conn, "t2", name="T2", now=0.0)
    yield engine
    engine.dispose()


def read(path: Path) -> tuple[int, np.ndarray]:
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getsampwidth()) == (8000, 2)
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return w.getnchannels(), data.reshape(-1, w.getnchannels())


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if len(x) else 0.0


def freq(x: np.ndarray) -> float:
    return np.count_nonzero(np.diff(np.signbit(x))) / 2 / (len(x) / 8000)


def window(x: np.ndarray, a: float, b: float) -> np.ndarray:
    return x[int(a * 8000) : int(b * 8000)]


def connect(
    media: Media, a: RtpEndpoint, b: RtpEndpoint, call_id: str
) -> tuple[tuple[str, int], tuple[str, int]]:
    offer = media.client.offer(call_id, "cust", a.sdp(1), sip_side_flags())
    answer = media.client.answer(call_id, "cust", "agent", b.sdp(2), sip_side_flags())
    return media_address(answer.sdp), media_address(offer.sdp)


@pytest.mark.slow
@pytest.mark.voice
def test_call_recording_both_sides_with_a_pause(
    media: Media, endpoints: tuple[RtpEndpoint, RtpEndpoint], db: Engine, tmp_path: Path
) -> None:
    customer, agent = endpoints
    c_to, a_to = connect(media, customer, agent, "rec-call-1")
    service = RecordingService(db, tmp_path / "media")
    recorder = CallRecorder(service, media.client, media.recordings)
    t0 = time.time()
    rec = recorder.start(
        tenant_id="t1", interaction_id="i1", call_id="rec-call-1", customer_tag="cust"
    )
    marks: dict[str, float] = {}

    def mark(name: str) -> None:
        marks[name] = time.time() - t0

    mark("c1")
    customer.send_audio(c_to, tone(440, 1.0))  # the customer speaks
    mark("a1")
    agent.send_audio(a_to, tone(1000, 1.0))  # then the agent
    rec.pause()
    mark("pause")
    assert service.get("t1", rec.id)["status"] == "paused"
    both = threading.Thread(target=agent.send_audio, args=(a_to, tone(1000, 1.0)))
    both.start()
    customer.send_audio(c_to, tone(440, 1.0))  # the card number: must not be recorded
    both.join()
    rec.resume()
    mark("resume")
    customer.send_audio(c_to, tone(440, 1.0))
    mark("end")
    row = rec.finish()
    t_end = time.time() - t0
    media.client.delete("rec-call-1")

    assert row["status"] == "complete" and row["kind"] == "call" and row["channels"] == 2
    assert row["interaction_id"] == "i1" and row["call_id"] == "rec-call-1"
    channels, pcm = read(service.absolute(row["path"]))
    assert channels == 2
    length = len(pcm) / 8000
    assert abs(length - t_end) < 0.1 and abs(row["duration"] - length) < 1e-9
    left, right = pcm[:, 0], pcm[:, 1]
    m = marks
    # the customer on the left (440 Hz), the agent on the right (1000 Hz)
    assert rms(window(left, m["c1"] + 0.1, m["a1"] - 0.1)) > 3000
    assert abs(freq(window(left, m["c1"] + 0.1, m["a1"] - 0.1)) - 440) < 15
    assert rms(window(right, m["a1"] + 0.1, m["pause"] - 0.1)) > 3000
    assert abs(freq(window(right, m["a1"] + 0.1, m["pause"] - 0.1)) - 1000) < 30
    assert rms(window(right, m["c1"] + 0.1, m["a1"] - 0.1)) == 0  # the agent was quiet
    assert rms(window(left, m["a1"] + 0.1, m["pause"] - 0.1)) == 0
    # the paused second is silence on both sides, though both were sending
    assert rms(window(pcm, m["pause"] + 0.02, m["resume"] - 0.02)) == 0
    assert rms(window(left, m["resume"] + 0.1, m["end"] - 0.1)) > 3000
    [(p_from, p_to)] = row["paused"]
    assert abs(p_from - t0 - m["pause"]) < 0.05 and abs(p_to - t0 - m["resume"]) < 0.05
    assert row["details"]["segments"] == 2  # rtpengine 10.5 starts a new pcap on resume
    assert segments(media.recordings, "rec-call-1") == []  # pcaps removed once converted
    playback = service.playback("t1", rec.id)
    assert playback.content_type == "audio/wav" and playback.size == row["size_bytes"]
    with pytest.raises(RecordingNotFound):
        service.playback("t2", rec.id)  # another tenant's recording is not found
    with pytest.raises(MediaError, match="finished"):
        rec.pause()


@pytest.mark.slow
@pytest.mark.voice
def test_voicemail_is_mono_and_finishes_after_the_call_is_deleted(
    media: Media, endpoints: tuple[RtpEndpoint, RtpEndpoint], db: Engine, tmp_path: Path
) -> None:
    caller, other = endpoints
    c_to, o_to = connect(media, caller, other, "vm-1")
    service = RecordingService(db, tmp_path / "media")
    recorder = CallRecorder(service, media.client, media.recordings)
    t0 = time.time()
    rec = recorder.start(
        tenant_id="t1",
        interaction_id="i-vm",
        call_id="vm-1",
        customer_tag="cust",
        kind="voicemail",
        caller="+390212345678",
        queue_id="support",
    )
    sender = threading.Thread(target=other.send_audio, args=(o_to, tone(1000, 1.0)))
    sender.start()  # the other leg's media is not part of a voicemail
    caller.send_audio(c_to, tone(440, 1.5))
    sender.join()
    media.client.delete("vm-1")
    row = rec.finish()
    t_end = time.time() - t0
    assert (
        row["kind"] == "voicemail"
        and row["caller"] == "+390212345678"
        and row["queue_id"] == "support"
    )
    channels, pcm = read(service.absolute(row["path"]))
    assert channels == 1 and abs(len(pcm) / 8000 - t_end) < 0.1
    speech = window(pcm[:, 0], 0.15, 1.4)
    assert rms(speech) > 3000 and abs(freq(speech) - 440) < 15
    assert [
        r["id"] for r in service.list_recordings("t1", interaction_id="i-vm", kind="voicemail")
    ] == [rec.id]


@pytest.mark.slow
@pytest.mark.voice
def test_start_on_an_unknown_call_stores_nothing(media: Media, db: Engine, tmp_path: Path) -> None:
    service = RecordingService(db, tmp_path / "media")
    recorder = CallRecorder(service, media.client, media.recordings)
    with pytest.raises(MediaError):
        recorder.start(
            tenant_id="t1", interaction_id="i1", call_id="no-such-call", customer_tag="x"
        )
    assert service.list_recordings("t1") == []


def test_retention_deletes_old_rows_and_files(db: Engine, tmp_path: Path) -> None:
    now = 1_800_000_000.0
    service = RecordingService(db, tmp_path / "media", clock=lambda: now)
    ids = {}
    for tenant, name, age_days in [
        ("t1", "old", 40),
        ("t1", "new", 5),
        ("t2", "other", 40),
        ("t1", "open", 90),
    ]:
        rid = f"{tenant}-{name}"
        rel = service.new_path(tenant, rid, now)
        path = service.absolute(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF")
        with db.begin() as conn:
            repo.create(
                conn,
                tenant,
                recording_id=rid,
                kind="call",
                interaction_id=name,
                started_at=now - age_days * 86400 - 60,
                now=now,
            )
            if name != "open":  # an unfinished recording is never purged
                repo.update(
                    conn, tenant, rid, status="complete", path=rel, ended_at=now - age_days * 86400
                )
        ids[name] = (tenant, rid, path)
    assert service.purge_expired("t1") == []  # no retention set: nothing goes
    service.set_retention("t1", 30)
    assert service.retention("t1") == 30 and service.retention("t2") is None
    assert service.purge_all() == {"t1": ["t1-old"]}
    assert not ids["old"][2].exists()
    assert ids["new"][2].exists() and ids["other"][2].exists() and ids["open"][2].exists()
    with pytest.raises(RecordingNotFound):
        service.get("t1", "t1-old")
    service.get("t2", "t2-other")
    service.set_retention("t1", 1)  # update
    assert service.purge_expired("t1") == ["t1-new"]
    from switchboard.domain.errors import ValidationError

    for bad in (0, -1, 36501, True):
        with pytest.raises(ValidationError):
            service.set_retention("t1", bad)  # type: ignore[arg-type]
    assert service.retention("t1") == 1


def test_delete_and_playback_errors(db: Engine, tmp_path: Path) -> None:
    service = RecordingService(db, tmp_path / "media", clock=lambda: 1000.0)
    with db.begin() as conn:
        repo.create(
            conn,
            "t1",
            recording_id="r1",
            kind="call",
            interaction_id="i1",
            started_at=900.0,
            now=900.0,
        )
    with pytest.raises(RecordingNotFound, match="no audio yet"):
        service.playback("t1", "r1")
    with pytest.raises(MediaError, match="still running"):
        service.delete("t1", "r1")
    rel = service.new_path("t1", "r1", 900.0)
    with db.begin() as conn:
        repo.update(conn, "t1", "r1", status="complete", path=rel, ended_at=1000.0)
    with pytest.raises(RecordingNotFound, match="missing"):
        service.playback("t1", "r1")
    with pytest.raises(RecordingNotFound):
        service.delete("t2", "r1")
    service.delete("t1", "r1")
    with pytest.raises(RecordingNotFound):
        service.get("t1", "r1")
    assert "/" not in service.new_path("../../etc", "x", 0.0).split("/")[1].replace("..", "")
    with pytest.raises(MediaError, match="leaves the media directory"):
        service.absolute("../outside.wav")
