"""The pipeline's stages: the one declaration of each (PIPELINE), and their state in the database:
leases, heartbeats, results, the reconciler's takeover of dead ones and its sweep for lost jobs.

A stage is run by whoever holds its lease. Taking the lease is one conditional UPDATE, so two
workers (or a reconciler and a worker) can never both run the same stage; a worker that lost its
lease discards its result. That makes every stage safe to enqueue twice.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from api.clips.models import Asset, Clip, ClipStatus, Stage, StageName, StageState
from api.core.jobs import Job, enqueue_after_commit
from api.core.types import utcnow

MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class StageSpec:
    """One pipeline stage: its name, the stages it runs after, and its body, named as
    `module:function` so that this declaration is read by the web process (which creates the
    stages and sends the first jobs) without importing what the worker runs."""

    name: StageName
    after: tuple[StageName, ...]
    body: str

    @property
    def job(self) -> str:
        return job_name(self.name)


# received → probed → {thumbnails, proxy, transcript → recognized} → ready. A stage's job is sent
# once every stage it runs after is done; the clip is ready when all are. Stages that wait for the
# same one are sent in this order: longest first, as the transcript (then recognize) decides when
# a clip is ready.
PIPELINE = (
    StageSpec(StageName.PROBE, (), "workers.tasks:probe_body"),
    StageSpec(StageName.TRANSCRIPT, (StageName.PROBE,), "workers.tasks:transcript_body"),
    StageSpec(StageName.PROXY, (StageName.PROBE,), "workers.tasks:proxy_body"),
    StageSpec(StageName.THUMBNAILS, (StageName.PROBE,), "workers.tasks:thumbnails_body"),
    StageSpec(StageName.RECOGNIZE, (StageName.TRANSCRIPT,), "workers.tasks:recognize_body"),  # reads its words
)
STAGES = {spec.name: spec for spec in PIPELINE}
if len(STAGES) != len(PIPELINE) or set(STAGES) != set(StageName):
    raise RuntimeError("every StageName is declared in PIPELINE, once")


def job_name(stage: StageName) -> str:
    return f"clip.{stage.value}"


def create_stages(session: Session, clip_id: int) -> None:
    """A new clip's stage rows, all queued, and the jobs of those that wait for none (sent after
    the commit)."""
    for spec in PIPELINE:
        session.add(Stage(clip_id=clip_id, name=spec.name))
    session.flush()
    for spec in PIPELINE:
        if not spec.after:
            enqueue_after_commit(session, spec.job, clip_id)


def take_lease(session: Session, clip_id: int, stage: StageName, owner: str, lease_seconds: float) -> bool:
    """Claim a queued stage, or one whose holder stopped heartbeating. True if we now hold it."""
    clip = session.get(Clip, clip_id)
    if clip is None or clip.status != ClipStatus.PROCESSING:
        return False
    stale = utcnow() - timedelta(seconds=lease_seconds)
    result = session.exec(
        update(Stage)
        .where(col(Stage.clip_id) == clip_id, col(Stage.name) == stage)
        .where(
            or_(
                col(Stage.state) == StageState.QUEUED,
                (col(Stage.state) == StageState.RUNNING) & (col(Stage.heartbeat_at) < stale),
            )
        )
        .values(
            state=StageState.RUNNING,
            lease_owner=owner,
            heartbeat_at=utcnow(),
            started_at=utcnow(),
            attempts=Stage.attempts + 1,
            progress=0.0,
            error=None,
        )
    )
    return result.rowcount == 1


def heartbeat(session: Session, clip_id: int, stage: StageName, owner: str, progress: float) -> bool:
    """Renew the lease; False if someone else holds it now."""
    result = session.exec(
        update(Stage)
        .where(
            col(Stage.clip_id) == clip_id,
            col(Stage.name) == stage,
            col(Stage.lease_owner) == owner,
            col(Stage.state) == StageState.RUNNING,
        )
        .values(heartbeat_at=utcnow(), progress=round(progress, 4))
    )
    return result.rowcount == 1


def finish(session: Session, clip_id: int, stage: StageName, owner: str) -> bool:
    """Mark our stage done and move the clip on. False (and nothing changes) if we lost the lease."""
    result = session.exec(
        update(Stage)
        .where(
            col(Stage.clip_id) == clip_id,
            col(Stage.name) == stage,
            col(Stage.lease_owner) == owner,
            col(Stage.state) == StageState.RUNNING,
        )
        .values(state=StageState.DONE, progress=1.0, finished_at=utcnow(), lease_owner=None)
    )
    if result.rowcount != 1:
        return False
    done = set(
        session.exec(select(col(Stage.name)).where(col(Stage.clip_id) == clip_id, col(Stage.state) == StageState.DONE))
    )
    for spec in PIPELINE:
        if stage in spec.after and done.issuperset(spec.after):
            enqueue_after_commit(session, spec.job, clip_id)
    _mark_ready_when_done(session, clip_id, done)
    return True


def _mark_ready_when_done(session: Session, clip_id: int, done: set[StageName]) -> None:
    if done.issuperset(STAGES):
        session.execute(
            update(Clip)
            .where(col(Clip.id) == clip_id, col(Clip.status) == ClipStatus.PROCESSING)
            .values(status=ClipStatus.READY, ready_at=utcnow())
        )


def reject(session: Session, clip_id: int, stage: StageName, owner: str, reason: str) -> None:
    """The file is not one we can process: the clip is rejected, with the reason."""
    _end_stage(session, clip_id, stage, owner, reason)
    session.execute(
        update(Clip)
        .where(col(Clip.id) == clip_id, col(Clip.status) == ClipStatus.PROCESSING)
        .values(status=ClipStatus.REJECTED, reason=reason)
    )


def fail(session: Session, clip_id: int, stage: StageName, owner: str, error: str) -> bool:
    """Our side failed. Returns True if the stage goes back to the queue for another attempt."""
    row = session.exec(select(Stage).where(col(Stage.clip_id) == clip_id, col(Stage.name) == stage)).one()
    if row.lease_owner != owner:
        return False
    if row.attempts < MAX_ATTEMPTS:
        row.state, row.lease_owner, row.error = StageState.QUEUED, None, error
        session.add(row)
        return True
    _end_stage(session, clip_id, stage, owner, error)
    session.execute(
        update(Clip)
        .where(col(Clip.id) == clip_id, col(Clip.status) == ClipStatus.PROCESSING)
        .values(status=ClipStatus.FAILED, reason=f"{stage.value} failed after {row.attempts} attempts: {error}")
    )
    return False


def _end_stage(session: Session, clip_id: int, stage: StageName, owner: str, error: str) -> None:
    session.execute(
        update(Stage)
        .where(col(Stage.clip_id) == clip_id, col(Stage.name) == stage, col(Stage.lease_owner) == owner)
        .values(state=StageState.FAILED, error=error, finished_at=utcnow(), lease_owner=None)
    )


def record_asset(session: Session, asset: Asset) -> None:
    """Store (or replace) the one asset of its kind for the clip."""
    old = session.exec(select(Asset).where(col(Asset.clip_id) == asset.clip_id, col(Asset.kind) == asset.kind)).first()
    if old is not None:
        session.delete(old)
        session.flush()
    session.add(asset)


def save_media_info(session: Session, clip_id: int, info: dict) -> None:
    session.execute(update(Clip).where(col(Clip.id) == clip_id).values(media_info=info))


def requeue_abandoned(session: Session, lease_seconds: float) -> list[tuple[int, StageName]]:
    """Stages whose worker stopped heartbeating (killed, machine gone): back to the queue."""
    stale = utcnow() - timedelta(seconds=lease_seconds)
    candidates = session.exec(
        select(Stage).where(col(Stage.state) == StageState.RUNNING, col(Stage.heartbeat_at) < stale)
    ).all()
    taken = []
    for stage in candidates:
        result = session.exec(
            update(Stage)
            .where(col(Stage.id) == stage.id, col(Stage.state) == StageState.RUNNING, col(Stage.heartbeat_at) < stale)
            .values(state=StageState.QUEUED, lease_owner=None, error="its worker stopped; requeued")
        )
        if result.rowcount == 1:
            enqueue_after_commit(session, job_name(stage.name), stage.clip_id)
            taken.append((stage.clip_id, stage.name))
    return taken


def waiting_for_a_job(session: Session, quiet_since: datetime) -> list[Job]:
    """The jobs that must be in the queue now: one per queued stage of a processing clip whose
    stages to run after are all done, when nothing has happened to it since `quiet_since` (a job
    just sent, or just taken by a worker that has not yet leased its stage, is left alone). The
    reconciler hands them to api.core.jobs.send_missing, which sends those the queue lacks."""
    rows = session.exec(
        select(Stage, Clip.created_at)
        .join(Clip, col(Clip.id) == Stage.clip_id)
        .where(col(Clip.status) == ClipStatus.PROCESSING, col(Stage.state) == StageState.QUEUED)
        .order_by(col(Stage.clip_id))
    ).all()
    if not rows:
        return []
    clip_ids = {stage.clip_id for stage, _ in rows}
    finished: dict[int, dict[StageName, datetime | None]] = {clip_id: {} for clip_id in clip_ids}
    for clip_id, name, finished_at in session.exec(
        select(Stage.clip_id, col(Stage.name), Stage.finished_at).where(
            col(Stage.clip_id).in_(clip_ids), col(Stage.state) == StageState.DONE
        )
    ):
        finished[clip_id][name] = finished_at
    wanted = []
    for stage, created_at in rows:
        done = finished[stage.clip_id]
        spec = STAGES[stage.name]
        if not done.keys() >= set(spec.after):
            continue  # its job comes when they finish
        moments = [created_at, stage.heartbeat_at, *(done[name] for name in spec.after)]
        if max(moment for moment in moments if moment is not None) < quiet_since:
            wanted.append((spec.job, (stage.clip_id,)))
    return wanted
