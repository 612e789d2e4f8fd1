"""Clip endpoints: thin; the rules live in service.py."""

import json
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse

from api.access import may_see_clip, visible_clip, visible_clips
from api.audit.service import record
from api.auth import AnyUser, Principal, Reviewer, Uploader
from api.clips import ingest, recognition, service, transcripts
from api.clips.models import ClipStatus
from api.clips.schemas import (
    AssetProvenance,
    ClipPublic,
    DuplicateReceipt,
    MyClipPublic,
    OfficerTagIn,
    RejectedPublic,
    SpeakerCorrectionIn,
    TagInput,
    TranscriptPublic,
)
from api.clips.storage import CHUNK, HashingWriter
from api.clips.upload import receive_upload
from api.config import get_settings
from api.core.errors import Conflict, Forbidden, NotFound, ServiceError
from api.core.types import saved_id
from api.db import SessionDep
from api.fixity.service import fixity_fields, hash_open_file, original_problem, record_original_mismatch
from api.pagination import Limit, paging_headers
from api.params import MAX_ID, Id, Offset
from api.review.schemas import DecisionPublic

router = APIRouter(prefix="/api/v1/clips", tags=["clips"])

MEDIA_TYPES = {
    "proxy.mp4": "video/mp4",
    "poster.jpg": "image/jpeg",
    "sprite.jpg": "image/jpeg",
    "thumbnails.vtt": "text/vtt",
    "captions.vtt": "text/vtt",
}

UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "badge_number", "categories"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "badge_number": {"type": "string"},
                        "categories": {
                            "type": "array",
                            "items": {
                                "type": "string",
                                "enum": ["de-escalation", "community-engagement", "life-saving"],
                            },
                        },
                        "evidence_id": {"type": "string"},
                        "recorded_at": {"type": "string", "format": "date-time"},
                        "incident_number": {"type": "string"},
                        "division": {"type": "string"},
                        "note": {"type": "string"},
                        "markers": {"type": "string", "description": 'JSON list of {"at": seconds, "note": text}'},
                        "retain_until": {"type": "string", "format": "date", "description": "retention date"},
                    },
                }
            }
        },
    }
}
# As FastAPI's `responses` takes them.
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": RejectedPublic} for status in (400, 401, 403, 404, 413, 415, 422)
}
BUSY: dict[int | str, dict[str, Any]] = {
    503: {
        "model": RejectedPublic,
        "description": "the database is busy: nothing was kept; send it again "
        "after Retry-After (the same bytes are recognised)",
    }
}
# Uploads wait their turn for the database's writer (SQLite has one) on a few threads of their own.
# A flood of uploads then never holds all of the app's shared thread pool, which a transaction
# holding the lock may need before it commits (a sync route serialises its answer there first):
# else every thread waits for the lock and the lock for a thread, until busy_timeout (HTTP 500s).
INGEST_THREADS = anyio.CapacityLimiter(4)
# Ending the sign-in's transaction may write too (the token's last use, every 30 s): its own few
# threads, so that it neither takes the shared pool nor holds a pooled connection queued behind
# ingests (a burst of uploads then emptied PostgreSQL's pool and stalled every request).
RELEASE_THREADS = anyio.CapacityLimiter(4)
SOMEONE_ELSES_BYTES = "these bytes were uploaded before, in a clip you may not see; your tags were added to it as yours"


@router.post(
    "",
    status_code=201,
    response_model=ClipPublic,
    openapi_extra=UPLOAD_SCHEMA,
    responses={
        200: {
            "model": ClipPublic | DuplicateReceipt,
            "description": "the same bytes were already here (a receipt only, if in a clip you may not see)",
        },
        **ERRORS,
        **BUSY,
    },
)
async def upload_clip(request: Request, session: SessionDep, principal: Uploader):
    """Upload a tagged clip (multipart, streamed to disk). Same bytes again: 200 with tags merged.

    Officers upload their own footage; the evidence system uses a service token (scope `ingest`)."""
    # Release the database before the body streams in (minutes, for a large clip): no transaction
    # is open, and no pooled connection held, while the body streams to disk and is hashed.
    await anyio.to_thread.run_sync(session.commit, limiter=RELEASE_THREADS)
    writer = HashingWriter(service.get_store().upload_temp_path(), get_settings().max_upload_bytes)
    try:
        try:
            parsed = await receive_upload(request, writer)
        except ServiceError as exc:  # refused while it streamed in: recorded like any refusal
            received, fields = ingest.Received(writer.path, None, writer.size, problem=exc), {}
        else:
            received, fields = ingest.Received.from_writer(writer, parsed.sha256, parsed.filename), parsed.fields
        return await _write(session, _ingest, session, principal, received, fields)
    finally:
        # Kept in the store, refused, or turned away by a busy database (503, and the client sends
        # it again): the temp file never outlives the request.
        writer.discard()


async def _write(session, work, *args) -> JSONResponse:
    """`work` and its commit in one call on the ingest threads: the upload's one write transaction,
    spanning the ingest alone. A busy database fails it here (answered 503 by app.py) while the
    temp file is still ours to remove, not after the answer is decided."""

    def work_and_commit() -> JSONResponse:
        response = work(*args)
        session.commit()
        return response

    return await anyio.to_thread.run_sync(work_and_commit, limiter=INGEST_THREADS)


def _ingest(session, principal: Principal, received: ingest.Received, fields: dict) -> JSONResponse:
    """Ingest the received file (api.clips.ingest: the checks, the clip, the audit), or answer the
    refusal with its reason (already recorded, and committed, on its own)."""
    result = ingest.ingest(session, received, fields, ingest.Submitter.of(principal), source="api")
    if isinstance(result, ingest.Refused):
        return JSONResponse({"detail": result.reason}, status_code=result.status)
    if result.duplicate and not may_see_clip(session, principal, saved_id(result.clip)):
        receipt = DuplicateReceipt(sha256=result.clip.sha256, detail=SOMEONE_ELSES_BYTES)
        return JSONResponse(receipt.model_dump(), status_code=200)
    body = service.clip_public(session, result.clip, duplicate=result.duplicate)
    return JSONResponse(json.loads(body.model_dump_json()), status_code=200 if result.duplicate else 201)


@router.get("", response_model=list[ClipPublic])
def list_clips(
    principal: AnyUser,
    session: SessionDep,
    status: ClipStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
):
    """The clips you may see, newest first (officers: their own)."""
    clips = visible_clips(session, principal, status=status, limit=limit, offset=offset)
    return service.clips_public(session, clips)


@router.get("/mine", response_model=list[MyClipPublic])
def my_clips(
    principal: AnyUser,
    session: SessionDep,
    response: Response,
    status: ClipStatus | None = None,
    clip_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Limit = None,
    offset: Offset = 0,
):
    """The clips recorded under my badge, newest first, and where each stands in review (what My
    footage shows); the total in X-Total-Count."""
    page = service.my_clips(session, principal, status=status, clip_id=clip_id, limit=limit, offset=offset)
    response.headers.update(paging_headers(page))
    return [
        MyClipPublic(
            **vars(row)
            | {
                "decision": DecisionPublic.model_validate(row.decision, from_attributes=True) if row.decision else None,
                "last_reply": row.last_reply.model_dump(mode="json") if row.last_reply else None,
            }
        )
        for row in page.items
    ]


@router.get("/{clip_id}", response_model=ClipPublic, responses={404: {"model": RejectedPublic}})
def get_clip(clip_id: Id, principal: AnyUser, session: SessionDep):
    clip = visible_clip(session, principal, clip_id)
    if clip.status != ClipStatus.PROCESSING:  # polling a clip's progress is not viewing footage
        record(session, principal.actor, "clip.view", object_type="clip", object_id=clip_id)
    return service.clip_public(session, clip).model_copy(update=fixity_fields(session, clip))


@router.post(
    "/{clip_id}/tags",
    response_model=ClipPublic,
    status_code=201,
    responses={401: {"model": RejectedPublic}, 403: {"model": RejectedPublic}, 404: {"model": RejectedPublic}},
)
def tag_clip(clip_id: Id, body: OfficerTagIn, principal: AnyUser, session: SessionDep):
    """The recording officer tags their clip (categories, moment markers, note): it goes to review."""
    clip = visible_clip(session, principal, clip_id)
    if not service.may_tag(principal, clip):
        raise Forbidden("only the recording officer (or an admin) tags a clip")
    tags = TagInput(badge_number=principal.badge_number or clip.badge_number or principal.name, **body.model_dump())
    service.add_tag(session, clip, tags, source="officer", submitted_from=principal.source)
    record(
        session,
        principal.actor,
        "clip.tag",
        object_type="clip",
        object_id=clip_id,
        details={"categories": [c.value for c in body.categories], "markers": len(body.markers)},
    )
    return service.clip_public(session, clip)


@router.get("/{clip_id}/transcript", response_model=TranscriptPublic, responses={404: {"model": RejectedPublic}})
def get_transcript(clip_id: Id, principal: AnyUser, session: SessionDep):
    visible_clip(session, principal, clip_id)
    transcript = transcripts.read(session, clip_id)
    if transcript is None:
        raise NotFound("the transcript is not ready yet")
    record(session, principal.actor, "clip.transcript", object_type="clip", object_id=clip_id)
    return transcript


@router.put(
    "/{clip_id}/transcript/speakers",
    response_model=TranscriptPublic,
    responses={404: {"model": RejectedPublic}, 409: {"model": RejectedPublic}, 422: {"model": RejectedPublic}},
)
def correct_speakers(clip_id: Id, body: SpeakerCorrectionIn, principal: Reviewer, session: SessionDep):
    """A reviewer says who spoke a turn ("officer" or "person N"). Audited; the clip is scored again
    (officer cues count on officer speech only), and a turn set to the officer refines the
    officer's voiceprint."""
    clip = visible_clip(session, principal, clip_id)
    transcript = transcripts.correct_speakers(session, clip, body.segments, body.speaker, principal.actor.user_id)
    record(
        session,
        principal.actor,
        "clip.speaker_correct",
        object_type="clip",
        object_id=clip_id,
        details={
            "segments": sorted(set(body.segments)),
            "speaker": transcript["segments"][body.segments[0]]["speaker"],
        },
    )
    recognition.rescore_clip(session, clip_id, recognition.current_rules())
    return transcript


@router.get("/{clip_id}/provenance", response_model=list[AssetProvenance], responses={404: {"model": RejectedPublic}})
def get_provenance(clip_id: Id, principal: AnyUser, session: SessionDep):
    """Every derived file: its hash, the original it came from, the tool, version and arguments."""
    visible_clip(session, principal, clip_id)
    return service.list_assets(session, clip_id)


@router.get(
    "/{clip_id}/media/{name}",
    response_class=FileResponse,
    responses={206: {"description": "partial content (HTTP Range)"}, 404: {"model": RejectedPublic}},
)
def get_media(clip_id: Id, name: str, request: Request, principal: AnyUser, session: SessionDep):
    """Derived media, with HTTP Range. Originals are never served inline."""
    if name not in MEDIA_TYPES:
        raise NotFound(f"no media named {name!r}; there are {', '.join(MEDIA_TYPES)}")
    visible_clip(session, principal, clip_id)
    asset = service.find_asset(session, clip_id, name)
    if asset is None:
        raise NotFound(f"{name} is not ready yet")
    if name == "proxy.mp4" and request.headers.get("range", "bytes=0-").startswith("bytes=0-"):
        # One record per playback start, not one per range request the player makes.
        record(session, principal.actor, "clip.stream", object_type="clip", object_id=clip_id)
    return FileResponse(
        service.get_store().absolute(asset.path),
        media_type=MEDIA_TYPES[name],
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get(
    "/{clip_id}/original",
    response_class=FileResponse,
    responses={
        401: {"model": RejectedPublic},
        403: {"model": RejectedPublic},
        404: {"model": RejectedPublic},
        409: {"model": RejectedPublic},
    },
)
def download_original(clip_id: Id, principal: Reviewer, session: SessionDep):
    """The original as uploaded, as an attachment (never inline), for the review team and admins;
    never one that failed fixity (409 with the reason)."""
    clip = visible_clip(session, principal, clip_id)
    if problem := original_problem(session, clip):
        raise Conflict(f"the original is not served: {problem}")
    store = service.get_store()
    # Hashed from the very file handle that is then served: the record names the bytes sent.
    original = open(store.original_path(clip.sha256), "rb")
    served = hash_open_file(original)
    if served != clip.sha256:
        original.close()
        reason = record_original_mismatch(session, principal.actor, clip, store, served)
        # Answered, not raised: the mismatch must be committed with the answer.
        return JSONResponse({"detail": f"the original is not served: {reason}"}, status_code=409)
    record(session, principal.actor, "clip.download", object_type="clip", object_id=clip_id, details={"sha256": served})
    return StreamingResponse(
        _chunks(original),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="clip-{clip_id}-{clip.sha256[:12]}.bin"',
            "Content-Length": str(clip.size_bytes),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def _chunks(file):
    with file:
        while chunk := file.read(CHUNK):
            yield chunk
