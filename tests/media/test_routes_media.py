"""The recordings API on a real uvicorn (in this process, so that the test can
register the call controller's RecordingControl) over SQLite, with a real
rtpengine recording real RTP: agents pause and resume a live call's
recording, play it back (ranges too), admins delete and set retention."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from switchboard.commands.admin import create_user
from switchboard.media.control import RecordingControl
from switchboard.media.recording import CallRecorder
from switchboard.media.rtpengine import sip_side_flags
from switchboard.server.app import create_app
from switchboard.store import recordings as repo
from switchboard.store.db import migrate, open_db
from tests.media.conftest import Media
from tests.media.rtp import RtpEndpoint, media_address, tone

PASSWORD = "correct horse battery"


class App:
    def __init__(self, tmp: Path) -> None:
        self.db_url = f"sqlite:///{tmp}/api.db"
        self.engine = open_db(self.db_url)
        migrate(self.engine)
        self.app = create_app(self.engine, media_dir=tmp / "media")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        self.tenant = f"t-{uuid.uuid4().hex[:8]}"
        self.clients: list[httpx.Client] = []

    def user(self, role: str, agent: str | None = None) -> httpx.Client:
        name = f"{role}-{uuid.uuid4().hex[:8]}"
        create_user(
            self.db_url,
            username=name,
            password=PASSWORD,
            role=role,
            tenant=self.tenant,
            agent=agent,
        )
        base = f"http://127.0.0.1:{self.port}/api/v1"
        token = httpx.post(
            f"{base}/auth/token", json={"username": name, "password": PASSWORD}
        ).json()
        client = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token['token']}"}, timeout=10
        )
        self.clients.append(client)
        return client

    def close(self) -> None:
        for c in self.clients:
            c.close()
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.engine.dispose()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[App]:
    app = App(tmp_path)
    try:
        yield app
    finally:
        app.close()


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return (
        r.json()
        if r.content and r.headers.get("content-type", "").startswith("application/json")
        else r
    )


def handled_interaction(admin: httpx.Client, sup: httpx.Client, agent_id: str) -> str:
    q = ok(admin.post("/queues", json={"name": "Q", "skills": {"s": 1}}), 201)["id"]
    ok(sup.post(f"/agents/{agent_id}/status", json={"status": "ready"}))
    iid = ok(sup.post("/interactions", json={"queue": q, "channel": "voice"}), 201)["id"]
    ok(sup.post(f"/interactions/{iid}/accept", json={"agent": agent_id}))
    return str(iid)


@pytest.mark.slow
@pytest.mark.voice
def test_pause_resume_playback_delete(
    api: App, media: Media, endpoints: tuple[RtpEndpoint, RtpEndpoint]
) -> None:
    admin, sup, analyst = api.user("admin"), api.user("supervisor"), api.user("analyst")
    a1 = ok(admin.post("/agents", json={"name": "A1", "skills": {"s": 1}}), 201)["id"]
    a2 = ok(admin.post("/agents", json={"name": "A2", "skills": {"s": 1}}), 201)["id"]
    agent, other_agent = api.user("agent", agent=a1), api.user("agent", agent=a2)
    iid = handled_interaction(admin, sup, a1)

    # no voice service registered: 409 no_active_call
    r = agent.post(f"/interactions/{iid}/recording/pause")
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_active_call"
    control = RecordingControl()
    api.app.state.media_control.register(control)
    r = agent.post(f"/interactions/{iid}/recording/pause")
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_active_call"  # no call yet

    customer, agent_phone = endpoints
    media.client.offer("api-call", "cust", customer.sdp(1), sip_side_flags())
    answer = media.client.answer("api-call", "cust", "ag", agent_phone.sdp(2), sip_side_flags())
    c_to = media_address(answer.sdp)
    recorder = CallRecorder(api.app.state.recordings, media.client, media.recordings)
    rec = recorder.start(
        tenant_id=api.tenant, interaction_id=iid, call_id="api-call", customer_tag="cust"
    )
    control.track(rec)
    customer.send_audio(c_to, tone(440, 0.6))
    assert other_agent.post(f"/interactions/{iid}/recording/pause").status_code == 403
    paused = ok(agent.post(f"/interactions/{iid}/recording/pause"))
    assert paused["status"] == "paused" and paused["recording_id"] == rec.id
    again = agent.post(f"/interactions/{iid}/recording/pause")
    assert again.status_code == 409 and again.json()["error"]["code"] == "recording_state"
    customer.send_audio(c_to, tone(440, 0.6))  # not recorded
    assert ok(agent.post(f"/interactions/{iid}/recording/resume"))["status"] == "recording"
    customer.send_audio(c_to, tone(440, 0.6))
    meta = ok(sup.get(f"/recordings/{rec.id}"))
    assert meta["status"] == "recording" and meta["audio_url"] is None
    assert agent.get(f"/recordings/{rec.id}/audio").status_code == 404  # not finished yet
    control.untrack(rec)
    row = rec.finish()
    media.client.delete("api-call")
    assert agent.post(f"/interactions/{iid}/recording/resume").status_code == 409

    listed = ok(agent.get(f"/interactions/{iid}/recordings"))
    assert [x["id"] for x in listed] == [rec.id]
    meta = listed[0]
    assert meta["status"] == "complete" and len(meta["paused"]) == 1 and "path" not in meta
    assert abs(meta["duration"] - row["duration"]) < 1e-9 and meta["channels"] == 2
    audio = agent.get(meta["audio_url"].removeprefix("/api/v1"))
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.content[:4] == b"RIFF" and len(audio.content) == meta["size_bytes"]
    part = analyst.get(f"/recordings/{rec.id}/audio", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == audio.content[:100]
    assert other_agent.get(f"/recordings/{rec.id}").status_code == 403
    assert other_agent.get(f"/interactions/{iid}/recordings").status_code == 403

    # deletion: admins only, audited; then it is gone, file and all
    assert sup.delete(f"/recordings/{rec.id}").status_code == 403
    path = api.app.state.recordings.absolute(row["path"])
    assert path.exists()
    ok(admin.delete(f"/recordings/{rec.id}"), 204)
    assert not path.exists()
    gone = admin.get(f"/recordings/{rec.id}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "recording_not_found"
    actions = [x["action"] for x in ok(admin.get("/audit"))]
    assert "DELETE /recordings/{id}" in actions


def test_retention_and_voicemail_list(api: App) -> None:
    admin, sup = api.user("admin"), api.user("supervisor")
    assert ok(admin.get("/recording-retention")) == {"days": None}
    for bad in (0, -3, 36501, "x"):
        r = admin.put("/recording-retention", json={"days": bad})
        assert r.status_code == 422 and r.json()["error"]["field"] == "days"
    assert sup.put("/recording-retention", json={"days": 5}).status_code == 403
    assert ok(admin.put("/recording-retention", json={"days": 30})) == {"days": 30}
    service = api.app.state.recordings
    now = time.time()
    for rid, kind, age, queue in [
        ("old", "voicemail", 40, "q1"),
        ("new", "voicemail", 1, "q2"),
        ("call", "call", 2, None),
    ]:
        rel = service.new_path(api.tenant, rid, now)
        service.absolute(rel).parent.mkdir(parents=True, exist_ok=True)
        service.absolute(rel).write_bytes(b"RIFF....WAVE")
        with api.engine.begin() as conn:
            repo.create(
                conn,
                api.tenant,
                recording_id=rid,
                kind=kind,
                interaction_id=f"i-{rid}",
                started_at=now - age * 86400,
                now=now,
                queue_id=queue,
                channels=1 if kind == "voicemail" else 2,
            )
            repo.update(
                conn,
                api.tenant,
                rid,
                status="complete",
                path=rel,
                ended_at=now - age * 86400 + 30,
                duration=30.0,
            )
    vm = ok(sup.get("/voicemail"))
    assert [x["id"] for x in vm] == ["old", "new"]
    assert [x["id"] for x in ok(sup.get("/voicemail", params={"queue": "q2"}))] == ["new"]
    assert ok(admin.post("/recording-retention/purge")) == {"deleted": ["old"]}
    assert [x["id"] for x in ok(sup.get("/voicemail"))] == ["new"]
    actions = {x["action"] for x in ok(admin.get("/audit"))}
    assert {"PUT /recording-retention", "POST /recording-retention/purge"} <= actions
    assert sup.post("/interactions/nope/recording/pause").status_code == 403  # the agent's
    agent = api.user("agent", agent=ok(admin.post("/agents", json={"name": "X"}), 201)["id"])
    r = agent.post("/interactions/nope/recording/pause")
    assert r.status_code == 404 and r.json()["error"]["field"] == "interaction"
