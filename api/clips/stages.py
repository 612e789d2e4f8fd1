"""Pipeline stage state: leases, heartbeats, results, and the reconciler's takeover of dead ones.

A stage is run by whoever holds its lease. Taking the lease is one conditional UPDATE, so two
workers (or a reconciler and a worker) can never both run the same stage; a worker that lost its
lease discards its result. That makes every stage safe to enqueue twice.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, select

from api.clips.models import Asset, Clip, ClipStatus, Stage, StageName, StageState
from api.db import enqueue_after_commit

# After the probe, longest first: the transcript (then recognize) decides when a clip is ready.
AFTER_PROBE = (StageName.TRANSCRIPT, StageName.PROXY, StageName.THUMBNAILS)
MAX_ATTEMPTS = 3


def job_name(stage: StageName) -> str:
    return f"clip.{stage.value}"


def now() -> datetime:
    return datetime.now(UTC)


def take_lease(session: Session, clip_id: int, stage: StageName, owner: str, lease_seconds: float) -> bool:
    """Claim a queued stage, or one whose holder stopped heartbeating. True if we now hold it."""
    clip = session.get(Clip, clip_id)
    if clip is None or clip.status != ClipStatus.PROCESSING:
        return False
    stale = now() - timedelta(seconds=lease_seconds)
    result = session.execute(
        update(Stage)
        .where(Stage.clip_id == clip_id, Stage.name == stage)
        .where(
            or_(Stage.state == StageState.QUEUED, (Stage.state == StageState.RUNNING) & (Stage.heartbeat_at < stale))
        )
        .values(
            state=StageState.RUNNING,
            lease_owner=owner,
            heartbeat_at=now(),
            started_at=now(),
            attempts=Stage.attempts + 1,
            progress=0.0,
            error=None,
        )
    )
    return result.rowcount == 1


def heartbeat(session: Session, clip_id: int, stage: StageName, owner: str, progress: float) -> bool:
    """Renew the lease; False if someone else holds it now."""
    result = session.execute(
        update(Stage)
        .where(
            Stage.clip_id == clip_id, Stage.name == stage, Stage.lease_owner == owner, Stage.state == StageState.RUNNING
        )
        .values(heartbeat_at=now(), progress=round(progress, 4))
    )
    return result.rowcount == 1


def finish(session: Session, clip_id: int, stage: StageName, owner: str) -> bool:
    """Mark our stage done and move the clip on. False (and nothing changes) if we lost the lease."""
    result = session.execute(
        update(Stage)
        .where(
            Stage.clip_id == clip_id, Stage.name == stage, Stage.lease_owner == owner, Stage.state == StageState.RUNNING
        )
        .values(state=StageState.DONE, progress=1.0, finished_at=now(), lease_owner=None)
    )
    if result.rowcount != 1:
        return False
    if stage == StageName.PROBE:
        for name in AFTER_PROBE:
            enqueue_after_commit(session, job_name(name), clip_id)
        return True
    if stage == StageName.TRANSCRIPT:  # the detector reads the transcript's words
        enqueue_after_commit(session, job_name(StageName.RECOGNIZE), clip_id)
    _mark_ready_when_done(session, clip_id)
    return True


def _mark_ready_when_done(session: Session, clip_id: int) -> None:
    states = session.exec(select(Stage.state).where(Stage.clip_id == clip_id)).all()
    if all(state == StageState.DONE for state in states):
        session.execute(
            update(Clip)
            .where(Clip.id == clip_id, Clip.status == ClipStatus.PROCESSING)
            .values(status=ClipStatus.READY, ready_at=now())
        )


def reject(session: Session, clip_id: int, stage: StageName, owner: str, reason: str) -> None:
    """The file is not one we can process: the clip is rejected, with the reason."""
    _end_stage(session, clip_id, stage, owner, reason)
    session.execute(
        update(Clip)
        .where(Clip.id == clip_id, Clip.status == ClipStatus.PROCESSING)
        .values(status=ClipStatus.REJECTED, reason=reason)
    )


def fail(session: Session, clip_id: int, stage: StageName, owner: str, error: str) -> bool:
    """Our side failed. Returns True if the stage goes back to the queue for another attempt."""
    row = session.exec(select(Stage).where(Stage.clip_id == clip_id, Stage.name == stage)).one()
    if row.lease_owner != owner:
        return False
    if row.attempts < MAX_ATTEMPTS:
        row.state, row.lease_owner, row.error = StageState.QUEUED, None, error
        session.add(row)
        return True
    _end_stage(session, clip_id, stage, owner, error)
    session.execute(
        update(Clip)
        .where(Clip.id == clip_id, Clip.status == ClipStatus.PROCESSING)
        .values(status=ClipStatus.FAILED, reason=f"{stage.value} failed after {row.attempts} attempts: {error}")
    )
    return False


def _end_stage(session: Session, clip_id: int, stage: StageName, owner: str, error: str) -> None:
    session.execute(
        update(Stage)
        .where(Stage.clip_id == clip_id, Stage.name == stage, Stage.lease_owner == owner)
        .values(state=StageState.FAILED, error=error, finished_at=now(), lease_owner=None)
    )


def record_asset(session: Session, asset: Asset) -> None:
    """Store (or replace) the one asset of its kind for the clip."""
    old = session.exec(select(Asset).where(Asset.clip_id == asset.clip_id, Asset.kind == asset.kind)).first()
    if old is not None:
        session.delete(old)
        session.flush()
    session.add(asset)


def save_media_info(session: Session, clip_id: int, info: dict) -> None:
    session.execute(update(Clip).where(Clip.id == clip_id).values(media_info=info))


def requeue_abandoned(session: Session, lease_seconds: float) -> list[tuple[int, StageName]]:
    """Stages whose worker stopped heartbeating (killed, machine gone): back to the queue."""
    stale = now() - timedelta(seconds=lease_seconds)
    candidates = session.exec(select(Stage).where(Stage.state == StageState.RUNNING, Stage.heartbeat_at < stale)).all()
    taken = []
    for stage in candidates:
        result = session.execute(
            update(Stage)
            .where(Stage.id == stage.id, Stage.state == StageState.RUNNING, Stage.heartbeat_at < stale)
            .values(state=StageState.QUEUED, lease_owner=None, error="its worker stopped; requeued")
        )
        if result.rowcount == 1:
            enqueue_after_commit(session, job_name(stage.name), stage.clip_id)
            taken.append((stage.clip_id, stage.name))
    return taken
