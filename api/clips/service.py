"""Ingest and read clips. Services never commit: the request or the task owns the transaction.
GET /api/v1/clips/mine and the My footage page list an officer's clips through `my_clips`."""

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api.access import clip_filter
from api.auth import Principal
from api.clips.models import Asset, Clip, ClipStatus, ClipTag, RejectedUpload, Stage, StageName
from api.clips.schemas import ClipPublic, StagePublic, TagInput, TagPublic
from api.clips.storage import HashingWriter, Store, TooLarge, copy_hashing
from api.config import get_settings
from api.db import enqueue_after_commit
from api.pagination import Page, offset_page
from api.review.models import Decision, OfficerReply, ReviewState
from api.review.service import ensure_in_queue, may_reply, standings
from api.search.service import index_tags
from api.users.models import Role
from media.errors import MediaRejected
from media.sniff import SNIFF_BYTES, sniff_container

MEDIA_URL = "/api/v1/clips/{id}/media/{name}"
TRANSCRIPT_URL = "/api/v1/clips/{id}/transcript"
STAGE_ORDER = {name: n for n, name in enumerate(StageName)}


@lru_cache
def get_store() -> Store:
    return Store(get_settings().store_dir)


@dataclass
class Ingested:
    clip: Clip
    duplicate: bool


def ingest(
    session: Session,
    temp: Path,
    sha256: str,
    size: int,
    tags: TagInput,
    *,
    source: str,
    submitted_from: str | None = None,
) -> Ingested:
    """Turn a hashed, sniffed upload into a clip, or add its tags to the clip with the same bytes."""
    existing = clip_by_sha(session, sha256)
    if existing is None:
        try:
            with session.begin_nested():
                clip = _new_clip(session, sha256, size, tags)
        except IntegrityError:  # the same bytes arrived at the same moment through another door
            existing = clip_by_sha(session, sha256)
    if existing is not None:
        temp.unlink(missing_ok=True)
        add_tag(session, existing, tags, source, submitted_from)
        return Ingested(existing, duplicate=True)
    get_store().keep_original(temp, sha256)
    add_tag(session, clip, tags, source, submitted_from)
    enqueue_after_commit(session, "clip.probe", clip.id)
    return Ingested(clip, duplicate=False)


def _new_clip(session: Session, sha256: str, size: int, tags: TagInput) -> Clip:
    clip = Clip(
        sha256=sha256,
        size_bytes=size,
        evidence_id=tags.evidence_id,
        badge_number=tags.badge_number,
        recorded_at=tags.recorded_at,
        incident_number=tags.incident_number,
        division=tags.division,
    )
    session.add(clip)
    session.flush()
    for name in StageName:
        session.add(Stage(clip_id=clip.id, name=name))
    session.flush()
    return clip


def add_tag(session: Session, clip: Clip, tags: TagInput, source: str, submitted_from: str | None) -> None:
    session.add(
        ClipTag(
            clip_id=clip.id,
            badge_number=tags.badge_number,
            evidence_id=tags.evidence_id,
            categories=[c.value for c in tags.categories],
            markers=[m.model_dump() for m in tags.markers],
            note=tags.note,
            source=source,
            submitted_from=submitted_from,
        )
    )
    session.flush()
    ensure_in_queue(session, clip.id)  # a tagged clip waits for the review team
    index_tags(session, clip)  # findable by its evidence id, badge and notes at once


@dataclass
class Refused:
    reason: str


@dataclass
class Staged:
    """A local file copied into the store's temp dir and hashed, or why it is refused."""

    source: Path
    temp: Path
    sha256: str | None
    size: int
    problem: str | None = None

    def discard(self) -> None:
        """Remove the temp copy if ingest did not move it into the store."""
        self.temp.unlink(missing_ok=True)


def stage_local_file(path: Path) -> Staged:
    """Copy a file from disk into the store's temp dir, hashing as it copies. No database work:
    no transaction stays open while a large file copies, and ingest_staged can be retried alone."""
    writer = HashingWriter(get_store().temp_path(), get_settings().max_upload_bytes)
    try:
        sha256 = copy_hashing(path, writer)
    except TooLarge as exc:
        writer.discard()
        return Staged(path, writer.path, None, writer.size, str(exc))
    except BaseException:
        writer.discard()
        raise
    try:
        sniff_container(writer.head[:SNIFF_BYTES])
    except MediaRejected as exc:
        writer.path.unlink(missing_ok=True)
        return Staged(path, writer.path, sha256, writer.size, str(exc))
    return Staged(path, writer.path, sha256, writer.size)


def ingest_staged(session: Session, staged: Staged, tags: TagInput, *, source: str) -> Ingested | Refused:
    """Ingest a staged file, or record its refusal (so the session must commit either way)."""
    if staged.problem:
        return _refuse(session, staged.sha256, staged.size, staged.problem, staged.source, tags, source)
    return ingest(session, staged.temp, staged.sha256, staged.size, tags, source=source)


def ingest_local_file(session: Session, path: Path, tags: TagInput, *, source: str) -> Ingested | Refused:
    """Copy a file from disk into the store (hashing as it copies), then ingest it.

    A file that is not a video is refused and the refusal recorded (the session must commit).
    """
    return ingest_staged(session, stage_local_file(path), tags, source=source)


def _refuse(
    session: Session, sha256: str | None, size: int, reason: str, path: Path, tags: TagInput, source: str
) -> Refused:
    record_rejected_upload(
        session, sha256, size, reason, filename=path.name, badge_number=tags.badge_number, submitted_from=source
    )
    return Refused(reason)


def record_rejected_upload(
    session: Session,
    sha256: str | None,
    size: int,
    reason: str,
    *,
    filename: str | None,
    badge_number: str | None,
    submitted_from: str | None,
) -> None:
    session.add(
        RejectedUpload(
            sha256=sha256,
            size_bytes=size,
            reason=reason,
            filename=(filename or "")[:500] or None,
            badge_number=(badge_number or "")[:50] or None,
            submitted_from=submitted_from,
        )
    )


def clip_by_sha(session: Session, sha256: str) -> Clip | None:
    return session.exec(select(Clip).where(Clip.sha256 == sha256)).first()


def list_clips(session: Session, *, status: str | None, limit: int, offset: int) -> list[Clip]:
    query = select(Clip).order_by(Clip.id.desc()).limit(limit).offset(offset)
    if status:
        query = query.where(Clip.status == status)
    return list(session.exec(query))


def has_clips(session: Session) -> bool:
    """Whether any clip was ever ingested: an empty database gets the offer of the sample clips."""
    return session.exec(select(Clip.id).limit(1)).first() is not None


def clips_by_id(session: Session, clip_ids: set[int]) -> dict[int, Clip]:
    if not clip_ids:
        return {}
    return {clip.id: clip for clip in session.exec(select(Clip).where(Clip.id.in_(clip_ids)))}


def divisions(session: Session, limit: int = 200) -> list[str]:
    """The divisions clips were filed under (an index scan), for a filter's suggestions."""
    return list(
        session.exec(
            select(Clip.division).where(Clip.division.is_not(None)).distinct().order_by(Clip.division).limit(limit)
        )
    )


def files_for_any_badge(uploader: Principal) -> bool:
    """Officers upload their own footage; admins and the evidence system (an ingest token) anyone's."""
    return uploader.has(Role.ADMIN) or uploader.scope == "ingest"


def may_tag(viewer: Principal, clip: Clip) -> bool:
    """The recording officer tags their clip; an admin tags any."""
    return viewer.has(Role.ADMIN) or (viewer.has(Role.OFFICER) and clip.badge_number == viewer.badge_number)


@dataclass
class MyClip:
    """One of an officer's clips, and where it stands in review."""

    clip: ClipPublic
    review_state: ReviewState | None
    decision: Decision | None  # the latest
    question: str | None  # the review team's open question
    last_reply: OfficerReply | None
    can_reply: bool
    can_tag: bool  # once it is ready to watch


def my_clips(
    session: Session,
    viewer: Principal,
    *,
    status: ClipStatus | None = None,
    clip_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Page[MyClip]:
    """The clips recorded under the viewer's badge (and, belt and braces, within what they may see),
    newest first; none without a badge. A page costs a fixed handful of queries."""
    if not viewer.badge_number:
        return Page([], 0, limit, offset)
    query = select(Clip).where(Clip.badge_number == viewer.badge_number)
    if (visible := clip_filter(viewer)) is not None:
        query = query.where(visible)
    if status:
        query = query.where(Clip.status == status)
    if clip_id:
        query = query.where(Clip.id == clip_id)
    page = offset_page(session, query, (Clip.id.desc(),), limit=limit, offset=offset)
    return Page(_my_rows(session, viewer, page.items), page.total, limit, offset)


def _my_rows(session: Session, viewer: Principal, clips: list[Clip]) -> list[MyClip]:
    if not clips:
        return []
    found = standings(session, [clip.id for clip in clips])
    rows = []
    for clip, public in zip(clips, clips_public(session, clips)):
        standing = found[clip.id]
        rows.append(
            MyClip(
                clip=public,
                review_state=standing.item.state if standing.item else None,
                decision=standing.decision,
                question=standing.question,
                last_reply=standing.last_reply,
                can_reply=standing.asking and may_reply(viewer, clip),
                can_tag=clip.status == ClipStatus.READY and may_tag(viewer, clip),
            )
        )
    return rows


def find_asset(session: Session, clip_id: int, kind: str) -> Asset | None:
    return session.exec(select(Asset).where(Asset.clip_id == clip_id, Asset.kind == kind)).first()


def list_assets(session: Session, clip_id: int) -> list[Asset]:
    return list(session.exec(select(Asset).where(Asset.clip_id == clip_id).order_by(Asset.kind)))


def clip_public(session: Session, clip: Clip, duplicate: bool = False) -> ClipPublic:
    tags = list(session.exec(select(ClipTag).where(ClipTag.clip_id == clip.id).order_by(ClipTag.id)))
    stages = list(session.exec(select(Stage).where(Stage.clip_id == clip.id)))
    assets = list(session.exec(select(Asset.kind).where(Asset.clip_id == clip.id)))
    return _public(clip, tags, stages, assets, duplicate)


def clips_public(session: Session, clips: list[Clip]) -> list[ClipPublic]:
    """clip_public for a page of clips in three queries, not three per clip: a listing of 50 clips
    takes a few milliseconds instead of tens (bench/search.py)."""
    ids = [clip.id for clip in clips]
    tags, stages, assets = defaultdict(list), defaultdict(list), defaultdict(list)
    for tag in session.exec(select(ClipTag).where(ClipTag.clip_id.in_(ids)).order_by(ClipTag.id)):
        tags[tag.clip_id].append(tag)
    for stage in session.exec(select(Stage).where(Stage.clip_id.in_(ids))):
        stages[stage.clip_id].append(stage)
    for clip_id, kind in session.exec(select(Asset.clip_id, Asset.kind).where(Asset.clip_id.in_(ids))):
        assets[clip_id].append(kind)
    return [_public(clip, tags[clip.id], stages[clip.id], assets[clip.id]) for clip in clips]


def _public(
    clip: Clip, tags: list[ClipTag], stages: list[Stage], assets: list[str], duplicate: bool = False
) -> ClipPublic:
    stages = sorted(stages, key=lambda s: STAGE_ORDER[s.name])
    categories = sorted({c for tag in tags for c in tag.categories})
    markers = sorted((m for tag in tags for m in tag.markers), key=lambda m: m["at"])
    return ClipPublic(
        **clip.model_dump(exclude={"media_info", "status", "recognition", "recognition_score", "rules_digest"}),
        **_recognition_fields(clip.recognition),
        status=clip.status,
        duplicate=duplicate,
        categories=categories,
        markers=markers,
        tags=[TagPublic.model_validate(tag, from_attributes=True) for tag in tags],
        media=clip.media_info,
        progress=round(sum(s.progress for s in stages) / max(1, len(stages)), 3),
        stages=[StagePublic.model_validate(s, from_attributes=True) for s in stages],
        assets={kind: _asset_url(clip.id, kind) for kind in sorted(assets)},
    )


def _asset_url(clip_id: int, kind: str) -> str:
    # The transcript has its own route (it is JSON for the UI, not a media file).
    return TRANSCRIPT_URL.format(id=clip_id) if kind == "transcript.json" else MEDIA_URL.format(id=clip_id, name=kind)


def _recognition_fields(recognition: dict | None) -> dict:
    if not recognition:
        return {}
    return {
        "score": recognition["score"],
        "category_scores": recognition["category_scores"],
        "suggested_categories": recognition["suggested_categories"],
        "highlights": recognition["highlights"],
        "counter_cues": recognition.get("counter_cues", []),
        "signals": recognition.get("signals", []),
        "rules_version": recognition.get("rules_version"),
    }
