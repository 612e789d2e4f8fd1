"""Ingest and read clips. Services never commit: the request or the task owns the transaction.
The visibility of clips (api.core.policies.clip_filter on this table) is asked here."""

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.auth import Principal, keep_denial
from api.clips.models import Asset, Clip, ClipTag, RejectedUpload, Stage, StageName, StageState
from api.clips.schemas import ClipPublic, StagePublic, TagInput, TagPublic
from api.clips.stages import PIPELINE
from api.clips.storage import HashingWriter, Store, TooLarge, copy_hashing
from api.config import get_settings
from api.core import policies
from api.core.errors import NotFound
from api.core.types import saved_id, saved_ids, utcnow
from api.db import enqueue_after_commit
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
        session.add(Stage(clip_id=saved_id(clip), name=name))
    session.flush()
    return clip


def add_tag(session: Session, clip: Clip, tags: TagInput, source: str, submitted_from: str | None) -> None:
    session.add(
        ClipTag(
            clip_id=saved_id(clip),
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
    # Intake reaches up into review and search; imported here until ingest moves to a layer above
    # clips, review and search (tests/test_import_cycles.py PENDING names this edge).
    from api.review.service import ensure_in_queue
    from api.search.service import index_tags

    ensure_in_queue(session, saved_id(clip))  # a tagged clip waits for the review team
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
    if staged.sha256 is None:  # stage_local_file hashes every copy it does not refuse
        raise RuntimeError(f"{staged.source} was staged with no hash and no problem")
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
    query = select(Clip).order_by(col(Clip.id).desc()).limit(limit).offset(offset)
    if status:
        query = query.where(Clip.status == status)
    return list(session.exec(query))


def has_clips(session: Session) -> bool:
    """Whether any clip was ever ingested: an empty database gets the offer of the sample clips."""
    return session.exec(select(Clip.id).limit(1)).first() is not None


def clips_by_id(session: Session, clip_ids: set[int]) -> dict[int, Clip]:
    if not clip_ids:
        return {}
    return {saved_id(clip): clip for clip in session.exec(select(Clip).where(col(Clip.id).in_(clip_ids)))}


def divisions(session: Session, limit: int = 200) -> list[str]:
    """The divisions clips were filed under (an index scan), for a filter's suggestions."""
    found = session.exec(
        select(col(Clip.division))
        .where(col(Clip.division).is_not(None))
        .distinct()
        .order_by(col(Clip.division))
        .limit(limit)
    )
    return [division for division in found if division is not None]


files_for_any_badge = policies.files_for_any_badge


def may_tag(viewer: Principal, clip: Clip) -> bool:
    """The recording officer tags their clip; an admin tags any."""
    return policies.may_tag(viewer, clip.badge_number)


# --- which clips a caller may see: api.core.policies' filter on this slice's table ---------------


def clip_filter(principal: Principal):
    """A WHERE condition on Clip for what the principal may see; None means everything."""
    return policies.clip_filter(principal, Clip)


def visible_clip(session: Session, principal: Principal, clip_id: int) -> Clip:
    """The clip if the principal may see it; NotFound otherwise (never confirm what they may not see).

    A clip that exists but is not theirs is audited as denied: the 404 ends the request and rolls
    back what it did, so call this before writing anything."""
    query = select(Clip).where(Clip.id == clip_id)
    condition = clip_filter(principal)
    if condition is not None:
        query = query.where(condition)
    clip = session.exec(query).first()
    if clip is None:
        if condition is not None and session.exec(select(Clip.id).where(Clip.id == clip_id)).first() is not None:
            keep_denial(
                session,
                principal.actor,
                reason="the clip is not among those the caller may see",
                object_type="clip",
                object_id=clip_id,
            )
        raise NotFound(f"no clip {clip_id}")
    return clip


def may_see_clip(session: Session, principal: Principal, clip_id: int) -> bool:
    """Whether the principal may see the clip, asked quietly (no denial is recorded): for answers
    that must not show more than that, such as a duplicate upload's."""
    query = select(Clip.id).where(Clip.id == clip_id)
    condition = clip_filter(principal)
    if condition is not None:
        query = query.where(condition)
    return session.exec(query).first() is not None


def visible_clips(session: Session, principal: Principal, status=None, limit: int = 50, offset: int = 0) -> list[Clip]:
    query = select(Clip).order_by(col(Clip.id).desc()).limit(limit).offset(offset)
    condition = clip_filter(principal)
    if condition is not None:
        query = query.where(condition)
    if status:
        query = query.where(Clip.status == status)
    return list(session.exec(query))


def __getattr__(name: str):
    # my_clips moved to api.review.service (where a clip stands in review is review's); this keeps
    # api/clips/routes.py working until it imports it from there. To be removed then.
    if name in ("my_clips", "MyClip"):
        from api.review import service as review

        return getattr(review, name)
    raise AttributeError(name)


# --- processing as it goes: progress, stages and an ETA (the live pages poll this) ---------------

RTF_SAMPLE = 200  # the most recent finished stages the real-time factor is measured over


@dataclass
class Progress:
    """Where a clip's processing stands, and when it should be ready."""

    clip_id: int
    status: str
    progress: float  # the mean of its stages' progress, 0..1
    stages: list[Stage]
    reason: str | None
    eta_seconds: float | None  # None: done, or nothing measured yet to estimate from


def real_time_factors(session: Session) -> dict[StageName, float]:
    """Seconds of work per second of footage, per stage, measured over the latest finished stages
    of every clip (one query)."""
    rows = session.exec(
        select(col(Stage.name), col(Stage.started_at), col(Stage.finished_at), col(Clip.media_info))
        .join(Clip, col(Clip.id) == col(Stage.clip_id))
        .where(Stage.state == StageState.DONE, col(Stage.started_at).is_not(None), col(Stage.finished_at).is_not(None))
        .order_by(col(Stage.finished_at).desc())
        .limit(RTF_SAMPLE)
    ).all()
    work: dict[StageName, float] = defaultdict(float)
    footage: dict[StageName, float] = defaultdict(float)
    for name, started, finished, media in rows:
        duration = (media or {}).get("duration") or 0
        if duration > 0 and started is not None and finished is not None:  # the query keeps only these
            work[name] += max(0.0, (finished - started).total_seconds())
            footage[name] += duration
    return {name: work[name] / footage[name] for name in work if footage[name] > 0}


def eta_seconds(stages: list[Stage], duration: float | None, factors: dict[StageName, float], now) -> float | None:
    """Seconds until the last stage should be done: each stage's remaining work (the measured
    real-time factor times the footage left, or the running stage's own pace when nothing was
    measured for it) along the pipeline's order, stages after the same one running side by side."""
    by_name = {stage.name: stage for stage in stages}
    finish: dict[StageName, float] = {}
    for spec in PIPELINE:  # declared after what it follows
        stage = by_name.get(spec.name)
        start = max((finish[before] for before in spec.after if before in finish), default=0.0)
        if stage is None or stage.state == StageState.DONE:
            finish[spec.name] = start
            continue
        if stage.state == StageState.FAILED:
            return None
        left = 1.0 - min(max(stage.progress, 0.0), 1.0)
        if duration and spec.name in factors:
            own = factors[spec.name] * duration * left
        elif stage.state == StageState.RUNNING and stage.started_at and stage.progress >= 0.05:
            own = (now - stage.started_at).total_seconds() / stage.progress * left
        else:
            return None  # nothing to go on yet
        finish[spec.name] = start + own
    return round(max(finish.values(), default=0.0), 1)


def clip_progress(session: Session, clips: list[Clip]) -> dict[int, Progress]:
    """Progress, stages and ETA of these clips: two queries whatever their number."""
    ids = saved_ids(clip.id for clip in clips)
    stages: dict[int, list[Stage]] = defaultdict(list)
    for stage in session.exec(select(Stage).where(col(Stage.clip_id).in_(ids))):
        stages[stage.clip_id].append(stage)
    processing = [clip for clip in clips if clip.status == "processing"]
    factors = real_time_factors(session) if processing else {}
    now = utcnow()
    found: dict[int, Progress] = {}
    for clip in clips:
        clip_id = saved_id(clip)
        own = sorted(stages[clip_id], key=lambda s: STAGE_ORDER[s.name])
        eta = None
        if clip.status == "processing":
            eta = eta_seconds(own, (clip.media_info or {}).get("duration"), factors, now)
        found[clip_id] = Progress(
            clip_id=clip_id,
            status=str(clip.status),
            progress=round(sum(s.progress for s in own) / max(1, len(own)), 3),
            stages=own,
            reason=clip.reason,
            eta_seconds=eta,
        )
    return found


def find_asset(session: Session, clip_id: int, kind: str) -> Asset | None:
    return session.exec(select(Asset).where(Asset.clip_id == clip_id, Asset.kind == kind)).first()


def list_assets(session: Session, clip_id: int) -> list[Asset]:
    return list(session.exec(select(Asset).where(Asset.clip_id == clip_id).order_by(Asset.kind)))


def clip_public(session: Session, clip: Clip, duplicate: bool = False) -> ClipPublic:
    tags = list(session.exec(select(ClipTag).where(ClipTag.clip_id == clip.id).order_by(col(ClipTag.id))))
    stages = list(session.exec(select(Stage).where(Stage.clip_id == clip.id)))
    assets = list(session.exec(select(Asset.kind).where(Asset.clip_id == clip.id)))
    return _public(clip, tags, stages, assets, duplicate)


def clips_public(session: Session, clips: list[Clip]) -> list[ClipPublic]:
    """clip_public for a page of clips in three queries, not three per clip: a listing of 50 clips
    takes a few milliseconds instead of tens (bench/search.py)."""
    ids = saved_ids(clip.id for clip in clips)
    tags: defaultdict[int, list[ClipTag]] = defaultdict(list)
    stages: defaultdict[int, list[Stage]] = defaultdict(list)
    assets: defaultdict[int, list[str]] = defaultdict(list)
    for tag in session.exec(select(ClipTag).where(col(ClipTag.clip_id).in_(ids)).order_by(col(ClipTag.id))):
        tags[tag.clip_id].append(tag)
    for stage in session.exec(select(Stage).where(col(Stage.clip_id).in_(ids))):
        stages[stage.clip_id].append(stage)
    for clip_id, kind in session.exec(select(Asset.clip_id, Asset.kind).where(col(Asset.clip_id).in_(ids))):
        assets[clip_id].append(kind)
    return [_public(clip, tags[clip_id], stages[clip_id], assets[clip_id]) for clip, clip_id in zip(clips, ids)]


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
        assets={kind: _asset_url(saved_id(clip), kind) for kind in sorted(assets)},
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
