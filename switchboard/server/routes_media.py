"""Recordings and voicemail: metadata, audio playback, deletion, retention,
and pausing a live call's recording (card payments).

Audio is served from the media directory as ``audio/wav`` (8 kHz 16-bit:
stereo for calls, customer left and agent right; mono for voicemail), with
HTTP range requests. An agent sees only the recordings of interactions it
handled; supervisors, analysts and admins see the tenant's. Pause and resume
go to the call controller through :class:`switchboard.media.control.ControlSlot`;
with no voice service registered they answer 409 ``no_active_call``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import Field

from switchboard.media.control import ControlSlot
from switchboard.media.recording import RecordingService
from switchboard.server.auth import Forbidden, Principal
from switchboard.server.inputs import Body
from switchboard.server.runtime import Runtime
from switchboard.server.security import audited
from switchboard.store import log
from switchboard.store.recordings import MAX_RETENTION_DAYS


class RetentionIn(Body):
    days: int = Field(ge=1, le=MAX_RETENTION_DAYS)


def recording_out(row: dict[str, Any]) -> dict[str, Any]:
    """The API view of a recording row (no file system path)."""
    rid = row["id"]
    return {
        "id": rid,
        "kind": row["kind"],
        "interaction_id": row["interaction_id"],
        "status": row["status"],
        "content_type": row["content_type"],
        "channels": row["channels"],
        "started_at": row["started_at"],
        "ended_at": row["ended_at"],
        "duration": row["duration"],
        "paused": row["paused"],
        "size_bytes": row["size_bytes"],
        "caller": row["caller"],
        "queue_id": row["queue_id"],
        "audio_url": f"/api/v1/recordings/{rid}/audio" if row["status"] == "complete" else None,
    }


def build_media_router(
    runtime: Runtime,
    clock: Callable[[], float],
    principal: Callable[..., Awaitable[Principal]],
    *,
    service: RecordingService,
    control: ControlSlot,
) -> APIRouter:
    """The routes of this module (see ``auth.ROUTE_ROLES``)."""
    router = APIRouter(prefix="/api/v1", dependencies=[Depends(principal)])
    who = Depends(principal)
    db = runtime.db

    def check_agent(p: Principal, interaction_id: str) -> None:
        """An agent may touch only the recordings of interactions it handled."""
        if p.role != "agent":
            return
        with db.connect() as conn:
            row = log.interaction_row(conn, p.tenant_id, interaction_id)
        if p.agent_id is None or row.agent_id != p.agent_id:
            raise Forbidden("an agent may see only its own interactions' recordings")

    def own_recording(p: Principal, recording_id: str) -> dict[str, Any]:
        row = service.get(p.tenant_id, recording_id)
        check_agent(p, row["interaction_id"])
        return row

    @router.get("/interactions/{interaction_id}/recordings", tags=["recordings"])
    async def interaction_recordings(
        interaction_id: str, p: Principal = who
    ) -> list[dict[str, Any]]:
        """The interaction's call recordings and voicemail messages, oldest first."""
        check_agent(p, interaction_id)
        rows = service.list_recordings(p.tenant_id, interaction_id=interaction_id)
        return [recording_out(r) for r in rows]

    @router.get("/recordings/{recording_id}", tags=["recordings"])
    async def get_recording(recording_id: str, p: Principal = who) -> dict[str, Any]:
        """One recording's metadata: times, duration, paused spans, status."""
        return recording_out(own_recording(p, recording_id))

    @router.get(
        "/recordings/{recording_id}/audio",
        tags=["recordings"],
        response_class=FileResponse,
        responses={200: {"content": {"audio/wav": {}}}},
    )
    async def recording_audio(recording_id: str, p: Principal = who) -> FileResponse:
        """The audio (WAV); 404 while it is still being recorded or if its file is gone."""
        own_recording(p, recording_id)
        play = service.playback(p.tenant_id, recording_id)
        return FileResponse(
            play.path, media_type=play.content_type, filename=f"{recording_id}.wav",
            content_disposition_type="inline",
        )  # fmt: skip

    @router.delete("/recordings/{recording_id}", status_code=204, tags=["recordings"])
    async def delete_recording(recording_id: str, p: Principal = who) -> Response:
        """Delete a recording and its audio (409 while it is still running)."""
        service.get(p.tenant_id, recording_id)
        service.delete(p.tenant_id, recording_id, also=audited(
            p, "DELETE /recordings/{id}", clock(), target=recording_id))  # fmt: skip
        return Response(status_code=204)

    @router.get("/voicemail", tags=["recordings"])
    async def voicemail(
        p: Principal = who,
        queue: str | None = Query(None, max_length=64),
        limit: int = Query(100, ge=1, le=1000),
    ) -> list[dict[str, Any]]:
        """The tenant's voicemail messages (of one queue), oldest first."""
        rows = service.list_recordings(p.tenant_id, kind="voicemail")
        if queue is not None:
            rows = [r for r in rows if r["queue_id"] == queue]
        return [recording_out(r) for r in rows[:limit]]

    @router.get("/recording-retention", tags=["recordings"])
    async def get_retention(p: Principal = who) -> dict[str, Any]:
        """How many days recordings are kept after they end (null: until deleted)."""
        return {"days": service.retention(p.tenant_id)}

    @router.put("/recording-retention", tags=["recordings"])
    async def put_retention(body: RetentionIn, p: Principal = who) -> dict[str, Any]:
        """Set the retention period; expired recordings go at the next purge."""
        service.set_retention(p.tenant_id, body.days, also=audited(
            p, "PUT /recording-retention", clock(), detail={"days": body.days}))  # fmt: skip
        return {"days": body.days}

    @router.post("/recording-retention/purge", tags=["recordings"])
    async def purge(p: Principal = who) -> dict[str, Any]:
        """Delete now the recordings older than the retention period."""
        now = clock()
        deleted = await run_in_threadpool(
            service.purge_expired, p.tenant_id, now=now,
            also=audited(p, "POST /recording-retention/purge", now),
        )  # fmt: skip
        return {"deleted": deleted}

    @router.post("/interactions/{interaction_id}/recording/pause", tags=["recordings"])
    async def pause(interaction_id: str, p: Principal = who) -> dict[str, Any]:
        """Pause the live call's recording (e.g. while a card number is given):
        the span is silence in the recording. 409 without a live recorded call."""
        check_agent(p, interaction_id)
        impl = control.current()
        return await run_in_threadpool(impl.pause_recording, p.tenant_id, interaction_id)

    @router.post("/interactions/{interaction_id}/recording/resume", tags=["recordings"])
    async def resume(interaction_id: str, p: Principal = who) -> dict[str, Any]:
        """Record again after a pause."""
        check_agent(p, interaction_id)
        impl = control.current()
        return await run_in_threadpool(impl.resume_recording, p.tenant_id, interaction_id)

    return router
