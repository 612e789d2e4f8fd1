"""The review queue's rules: claims, decisions with history, needs-info replies, listing.
The queue's API and its page list it through `queue_page`; a clip's review through `clip_review`.

A clip's review state is derived from the records (`derive_state`: its decisions, the officer's
replies, the claim), never set by hand; a nomination's own outcome (pending, awarded, declined) is
read from the awards' records (`nominations_of`). A nominate decision is recorded only together
with its nomination. Claims are taken only on a reviewer's explicit action (Next clip, Start
review), renewed by the open page (`renew`), released (`release`) or lapse after
`review_claim_minutes` without renewal."""

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, or_, update
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from api.audit.service import Actor, record
from api.auth import Principal
from api.awards import service as awards
from api.awards.models import Nomination, NominationClip, NominationState
from api.awards.schemas import NominatedClip, NominationIn
from api.clips.models import Asset, Clip, ClipCategory, ClipStatus, ClipTag, Stage
from api.clips.schemas import ClipPublic
from api.clips.service import clip_filter, clip_progress, clips_public, may_tag, visible_clip
from api.config import get_settings
from api.core import policies
from api.core.errors import Conflict, Forbidden, Invalid, NotFound
from api.core.types import saved_id, saved_ids, utcnow
from api.notifications.models import NotificationKind
from api.notifications.service import accounts_with_badge, notify
from api.pagination import Page, offset_page
from api.review.models import Decision, DecisionKind, OfficerReply, ReviewItem, ReviewState, RubricItem
from api.review.schemas import DecisionIn
from api.search import service as search
from api.search.schemas import SearchHit
from api.surveys import service as surveys
from api.users.service import officer_names

# defer() takes the mapped attribute, which sqlmodel's stubs type as the column's value (dict | None).
NO_RECOGNITION = defer(Clip.recognition)  # type: ignore[arg-type]
NO_MEDIA_INFO = defer(Clip.media_info)  # type: ignore[arg-type]

NEEDS_A_REASON = {DecisionKind.DISMISS: "a reason to dismiss", DecisionKind.NEEDS_INFO: "the question for the officer"}


def ensure_in_queue(session: Session, clip_id: int) -> None:
    """A tagged clip has a review item; the queue shows it, and it can be opened once ready."""
    if session.exec(select(ReviewItem.id).where(ReviewItem.clip_id == clip_id)).first() is None:
        with session.begin_nested():
            session.add(ReviewItem(clip_id=clip_id))


def release_expired_claims(session: Session) -> None:
    """Lapsed claims go back to the queue. Looked for first: an UPDATE on every queue read would take
    SQLite's write lock and make each read wait behind every upload."""
    expired = (col(ReviewItem.state) == ReviewState.IN_REVIEW, col(ReviewItem.claim_expires_at) < utcnow())
    if session.exec(select(ReviewItem.id).where(*expired).limit(1)).first() is None:
        return
    session.execute(
        update(ReviewItem)
        .where(*expired)
        .values(state=ReviewState.QUEUED, claimed_by=None, claimed_by_name=None, claim_expires_at=None)
    )


INTAKE_PROBLEMS = (ClipStatus.REJECTED, ClipStatus.FAILED)


def item_for(session: Session, clip_id: int) -> ReviewItem | None:
    return session.exec(select(ReviewItem).where(ReviewItem.clip_id == clip_id)).first()


# --- the state, derived from the records -------------------------------------------------------


def derive_state(decisions: list[Decision], answered: set[int], claimed: bool, nominated: bool) -> ReviewState:
    """A clip's review state from its decisions (in order), the ids of the questions the officer
    answered, whether a reviewer holds a claim on it, and whether a nomination names it.

    Selecting for training and nominating are not exclusive: both hold until a dismissal, and a
    clip that is both is listed as selected for training (its nomination shows beside it). An open
    question waits for the officer; once answered the clip is back in the queue. A nominate
    decision counts only with its nomination (the old two-step flow could leave one without)."""
    selected = nominating = False
    last = None
    for decision in decisions:
        if decision.kind == DecisionKind.DISMISS:
            selected = nominating = False
        elif decision.kind == DecisionKind.SELECT_FOR_TRAINING:
            selected = True
        elif decision.kind == DecisionKind.NOMINATE:
            nominating = nominated
        last = decision
    if last is not None and last.kind == DecisionKind.DISMISS:
        return ReviewState.DISMISSED
    if last is not None and last.kind == DecisionKind.NEEDS_INFO and last.id not in answered:
        return ReviewState.NEEDS_INFO
    if selected:
        return ReviewState.SELECTED_FOR_TRAINING
    if nominating:
        return ReviewState.NOMINATED
    return ReviewState.IN_REVIEW if claimed else ReviewState.QUEUED


def _claim_held(item: ReviewItem) -> bool:
    return item.claimed_by is not None and item.claim_expires_at is not None and item.claim_expires_at > utcnow()


def restate(session: Session, item: ReviewItem) -> ReviewItem:
    """Set the item's state from the records (after a decision, a reply, a claim or its release).
    A claim only holds an undecided clip: once decided, it is let go."""
    decisions, replies = history(session, item.clip_id)
    nominated = (
        session.exec(select(NominationClip.id).where(NominationClip.clip_id == item.clip_id).limit(1)).first()
        is not None
    )
    state = derive_state(decisions, {r.decision_id for r in replies}, _claim_held(item), nominated)
    if state != ReviewState.IN_REVIEW:
        item.claimed_by = item.claimed_by_name = item.claim_expires_at = None
    item.state = state
    item.updated_at = utcnow()
    session.add(item)
    session.flush()
    return item


# --- claims: explicit, renewed by the open page, released, lapsing -----------------------------


def _claim_until():
    return utcnow() + timedelta(minutes=get_settings().review_claim_minutes)


def claim(session: Session, actor: Actor, clip_id: int) -> ReviewItem:
    """A reviewer's explicit claim (Start review, Next clip) on a clip waiting in the queue;
    claiming it again renews the claim. A decided clip is not claimed (it is revised directly)."""
    item = _item_to_work_on(session, actor, clip_id)
    if item.state in (ReviewState.QUEUED, ReviewState.IN_REVIEW):
        taken = session.exec(
            update(ReviewItem)
            .where(
                col(ReviewItem.id) == item.id,
                or_(col(ReviewItem.state) == ReviewState.QUEUED, col(ReviewItem.claimed_by) == actor.user_id),
            )
            .values(
                state=ReviewState.IN_REVIEW,
                claimed_by=actor.user_id,
                claimed_by_name=actor.name,
                claim_expires_at=_claim_until(),
                updated_at=utcnow(),
            )
        )
        if taken.rowcount != 1:
            raise Conflict("another reviewer claimed this clip a moment ago")
        session.refresh(item)
        record(session, actor, "review.claim", object_type="clip", object_id=clip_id)
    return item


def renew_every_seconds() -> int:
    """How often the open clip page renews its claim while the reviewer is at it: often enough that
    two missed beats still leave it held, never more than once a minute."""
    return max(5, min(60, round(get_settings().review_claim_minutes * 60 / 3)))


def renew(session: Session, actor: Actor, clip_id: int) -> ReviewItem:
    """The open clip page's heartbeat: the reviewer is still at work, so their claim runs on.
    409 once it has lapsed or was released (the page then offers Start review again)."""
    renewed = session.exec(
        update(ReviewItem)
        .where(
            col(ReviewItem.clip_id) == clip_id,
            col(ReviewItem.state) == ReviewState.IN_REVIEW,
            col(ReviewItem.claimed_by) == actor.user_id,
            col(ReviewItem.claim_expires_at) > utcnow(),
        )
        .values(claim_expires_at=_claim_until())
    )
    if renewed.rowcount != 1:
        raise Conflict(f"you no longer hold clip {clip_id}: the claim lapsed or was released")
    item = item_for(session, clip_id)
    if item is None:  # the UPDATE above just renewed it
        raise NotFound(f"clip {clip_id} is not in the review queue")
    session.refresh(item)
    return item


def release(session: Session, viewer: Principal, clip_id: int) -> ReviewItem:
    """Let go of a claim: the holder's own, or anyone's for an admin. Releasing a clip nobody
    holds changes nothing."""
    release_expired_claims(session)
    item = item_for(session, clip_id)
    if item is None:
        raise NotFound(f"clip {clip_id} is not in the review queue")
    if item.state != ReviewState.IN_REVIEW or item.claimed_by is None:
        return item
    if item.claimed_by != viewer.actor.user_id and not viewer.has(*policies.ADMINS):
        raise Forbidden(f"{item.claimed_by_name} holds this clip: only they (or an admin) release it")
    holder = item.claimed_by_name
    item.claimed_by = item.claimed_by_name = item.claim_expires_at = None
    restate(session, item)
    record(session, viewer.actor, "review.release", object_type="clip", object_id=clip_id, details={"held_by": holder})
    return item


def _item_to_work_on(session: Session, actor: Actor, clip_id: int, dismissing: bool = False) -> ReviewItem:
    """The clip's review item if this reviewer may claim or decide it now (expired claims released).
    Nobody reviews what cannot be watched: a clip still processing waits, and one rejected or failed
    at intake may only be dismissed."""
    release_expired_claims(session)
    item = item_for(session, clip_id)
    if item is None:
        raise NotFound(f"clip {clip_id} is not in the review queue")
    status, reason = session.exec(select(col(Clip.status), col(Clip.reason)).where(Clip.id == clip_id)).one()
    if status == ClipStatus.PROCESSING:
        raise Conflict(f"clip {clip_id} is still processing; it can be reviewed once it is ready")
    if status in INTAKE_PROBLEMS and not dismissing:
        raise Conflict(f"clip {clip_id} was {status.value} at intake ({reason}): it cannot be reviewed, only dismissed")
    if item.state == ReviewState.IN_REVIEW and item.claimed_by != actor.user_id:
        raise Conflict(f"{item.claimed_by_name} is reviewing this clip")
    return item


def next_for(session: Session, actor: Actor, order: str = "priority") -> ReviewItem | None:
    """The reviewer's current claim, else the best queued clip that is ready, claimed for them."""
    release_expired_claims(session)
    mine = session.exec(
        select(ReviewItem).where(ReviewItem.state == ReviewState.IN_REVIEW, ReviewItem.claimed_by == actor.user_id)
    ).first()
    if mine:
        return mine
    query = (
        select(ReviewItem)
        .join(Clip, col(Clip.id) == col(ReviewItem.clip_id))
        .where(ReviewItem.state == ReviewState.QUEUED, Clip.status == ClipStatus.READY)
    )
    for candidate in session.exec(_ordered(query, order).limit(5)):
        try:
            return claim(session, actor, candidate.clip_id)
        except Conflict:
            continue  # someone else took it in between
    return None


# --- decisions ---------------------------------------------------------------------------------


def decide(session: Session, actor: Actor, clip_id: int, body: DecisionIn) -> Decision:
    """Record a decision. Nominating needs the nomination with it (`body.nomination`): both are
    made in this one transaction, or neither (an unknown badge, say, refuses the decision too)."""
    item = _item_to_work_on(session, actor, clip_id, dismissing=body.kind == DecisionKind.DISMISS)
    if body.kind in NEEDS_A_REASON and not (body.reason or "").strip():
        raise Invalid(f"{body.kind.value} needs {NEEDS_A_REASON[body.kind]} (field 'reason')")
    if body.kind == DecisionKind.NOMINATE and body.nomination is None:
        raise Invalid("to nominate, send the nomination with the decision (field 'nomination': officers, narrative)")
    if body.kind != DecisionKind.NOMINATE and body.nomination is not None:
        raise Invalid(f"a nomination goes with a nominate decision, not with {body.kind.value}")
    _check_rubric(session, body.rubric)
    nomination = None
    if body.nomination is not None:
        current = nominations_of(session, [clip_id]).get(clip_id)
        if current is not None and current.outcome == "pending":
            raise Conflict(
                f"clip {clip_id} is in nomination {current.id} already, which the committee has yet to decide"
            )
        draft = body.nomination
        nomination = awards.nominate(
            session,
            actor,
            NominationIn(
                officers=draft.officers,
                clips=[NominatedClip(clip_id=clip_id, moments=draft.moments)],
                narrative=draft.narrative,
                category=draft.category,
            ),
        )
    previous = session.exec(
        select(Decision).where(Decision.clip_id == clip_id).order_by(col(Decision.id).desc())
    ).first()
    decision = Decision(
        clip_id=clip_id,
        kind=body.kind,
        reviewer_id=actor.user_id,
        reviewer_name=actor.name,
        reason=(body.reason or "").strip() or None,
        rubric=body.rubric,
        notes=body.notes,
        revises_id=previous.id if previous else None,
        nomination_id=nomination.id if nomination else None,
    )
    session.add(decision)
    session.flush()
    item.claimed_by = item.claimed_by_name = item.claim_expires_at = None
    restate(session, item)
    record(
        session,
        actor,
        "review.decide",
        object_type="clip",
        object_id=clip_id,
        details={
            "decision": decision.id,
            "kind": body.kind.value,
            "revises": decision.revises_id,
            "nomination": decision.nomination_id,
        },
    )
    _tell_the_officer(session, actor, clip_id, decision)
    return decision


def _tell_the_officer(session: Session, actor: Actor, clip_id: int, decision: Decision) -> None:
    """The recording officer hears of a question about their clip, and of its selection for training."""
    if decision.kind == DecisionKind.NEEDS_INFO:  # answered on My footage, where the reply form is
        kind, text = NotificationKind.NEEDS_INFO, f"The review team asks about clip {clip_id}: {decision.reason}"
        link = f"/my#clip-{clip_id}"
    elif decision.kind == DecisionKind.SELECT_FOR_TRAINING:
        kind, text = NotificationKind.SELECTED_FOR_TRAINING, f"Clip {clip_id} was selected for training"
        link = f"/clips/{clip_id}"
    else:
        return
    clip = session.get(Clip, clip_id)
    if clip is None:  # decide found the clip before recording the decision
        raise NotFound(f"no clip {clip_id}")
    badge = clip.badge_number
    notify(session, accounts_with_badge(session, badge), kind, text, link, actor_user_id=actor.user_id)


def _check_rubric(session: Session, rubric: dict[str, bool]) -> None:
    known = set(session.exec(select(RubricItem.key).where(RubricItem.active)))
    unknown = sorted(set(rubric) - known)
    if unknown:
        raise Invalid(f"unknown rubric items {unknown}; the rubric has {sorted(known)}")


def may_reply(viewer: Principal, clip: Clip) -> bool:
    """Only the recording officer answers the review team's questions about a clip."""
    return policies.recorded_it(viewer, clip.badge_number)


def reply(session: Session, actor: Actor, clip_id: int, text: str) -> OfficerReply:
    """The officer answers the review team's question; the clip goes back to the queue."""
    if actor.user_id is None:
        raise Forbidden("only the recording officer answers questions about a clip, not a service token")
    item = item_for(session, clip_id)
    if item is None or item.state != ReviewState.NEEDS_INFO:
        raise Conflict("the review team has no open question on this clip")
    question = session.exec(
        select(Decision).where(Decision.clip_id == clip_id).order_by(col(Decision.id).desc())
    ).first()
    if question is None:  # a clip waits for the officer only after a needs-info decision
        raise Conflict("the review team has no open question on this clip")
    answer = OfficerReply(clip_id=clip_id, decision_id=saved_id(question), user_id=actor.user_id, text=text.strip())
    session.add(answer)
    session.flush()
    item.queued_at = utcnow()  # back in the queue: it waits from now
    restate(session, item)
    record(session, actor, "review.reply", object_type="clip", object_id=clip_id, details={"reply": answer.id})
    notify(
        session,
        [question.reviewer_id],
        NotificationKind.OFFICER_REPLY,
        f"The officer answered your question about clip {clip_id}: {answer.text}",
        f"/clips/{clip_id}",
        actor_user_id=actor.user_id,
    )
    return answer


@dataclass
class QueueFilter:
    state: ReviewState | None = None
    category: str | None = None
    division: str | None = None
    badge_number: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    text: str | None = None
    compliment: bool = False  # only clips with a linked survey response from a satisfied person


CLIP_FILTERS = ("category", "division", "badge_number", "date_from", "date_to", "compliment")


def _needs_clip(where: QueueFilter) -> bool:
    return any(getattr(where, name) for name in CLIP_FILTERS)


def _filtered(query, where: QueueFilter, described=None):
    """The filters on a query of review items (joined to clips where a filter needs them);
    `described`: the clips the text filter found in the full-text index."""
    # A clip rejected or failed at intake cannot be watched: it is an intake problem, not a review.
    query = query.where(col(ReviewItem.clip_id).not_in(select(Clip.id).where(col(Clip.status).in_(INTAKE_PROBLEMS))))
    if where.state:
        query = query.where(ReviewItem.state == where.state)
    if where.category:
        tagged = select(ClipCategory.clip_id).where(ClipCategory.category == where.category)
        query = query.where(col(ReviewItem.clip_id).in_(tagged))
    if where.division:
        query = query.where(Clip.division == where.division)
    if where.badge_number:
        query = query.where(Clip.badge_number == where.badge_number)
    recorded = func.coalesce(Clip.recorded_at, Clip.created_at)
    if where.date_from:
        query = query.where(recorded >= datetime.combine(where.date_from, time.min, UTC))
    if where.date_to:
        query = query.where(recorded < datetime.combine(where.date_to + timedelta(days=1), time.min, UTC))
    if described is not None:
        query = query.where(col(ReviewItem.clip_id).in_(described))
    if where.compliment:
        query = query.where(surveys.has_compliment())
    return query


def _ordered(query, order: str):
    """`oldest`: first come, first served. `priority` (a query joined to Clip): clips someone
    complimented in a survey first, then the recognizer's score."""
    if order == "oldest":
        return query.order_by(ReviewItem.queued_at, col(ReviewItem.id))
    complimented = case((surveys.has_compliment(), 1), else_=0)
    return query.order_by(
        complimented.desc(), col(ReviewItem.priority).desc(), ReviewItem.queued_at, col(ReviewItem.id)
    )


@dataclass
class QueueRow:
    """A clip in the queue with what a listing shows beside it."""

    item: ReviewItem
    clip: Clip
    categories: list[str]
    progress: float  # the mean of the clip's stages' progress, 0..1
    officer_name: str | None = None
    has_poster: bool = False
    hit: SearchHit | None = None  # with a text filter: the best passage it matched
    selected_for_training: bool = False
    nomination: "ClipNomination | None" = None  # the latest nomination naming the clip
    compliment: bool = False  # a satisfied person's survey response is linked to it
    eta_seconds: float | None = None  # while processing: when it should be ready


@dataclass
class QueueListing(Page[QueueRow]):
    counts: dict[str, int] = field(default_factory=dict)  # per state, under the other filters


def queue_page(session: Session, where: QueueFilter, order: str, limit: int, offset: int) -> QueueListing:
    """A page of the queue, the total matching, and the counts per state under the other filters:
    a fixed number of queries whatever the queue's size, none per row."""
    release_expired_claims(session)
    # The text filter reads the full-text index: a LIKE would scan every clip, twice (rows, counts).
    described = search.clips_described_by(session, where.text) if where.text else None
    # A page of the queue shows the clip's facts, not its recognition or media JSON: not decoded.
    base = (
        select(ReviewItem, Clip)
        .join(Clip, col(Clip.id) == col(ReviewItem.clip_id))
        .options(NO_RECOGNITION, NO_MEDIA_INFO)
    )
    pairs = session.exec(_ordered(_filtered(base, where, described), order).limit(limit).offset(offset)).all()
    counts = _counts(session, where, described)
    # The per-state counts already cover the other filters: the total needs no query of its own.
    total = counts[where.state.value] if where.state else sum(counts.values())
    return QueueListing(queue_rows(session, list(pairs), where.text), total, limit, offset, counts)


def _counts(session: Session, where: QueueFilter, described) -> dict[str, int]:
    counted = select(ReviewItem.state, func.count())
    if _needs_clip(where):  # without clip filters the count reads the state index alone
        counted = counted.join(Clip, col(Clip.id) == col(ReviewItem.clip_id))
    counted = _filtered(counted, replace(where, state=None), described).group_by(ReviewItem.state)
    return {state.value: 0 for state in ReviewState} | {str(s): n for s, n in session.exec(counted)}


def queue_rows(session: Session, pairs: list[tuple[ReviewItem, Clip]], text: str | None = None) -> list[QueueRow]:
    """The rows for these items: one query each for categories, progress, officers' names and
    posters (and the best passages, with a text filter)."""
    if not pairs:
        return []
    ids = saved_ids(clip.id for _, clip in pairs)
    terms = search.parse_terms(text) if text else []
    hits = search.best_hits(session, terms, ids) if terms else {}
    categories = categories_of(session, ids)
    progress = dict(
        session.exec(
            select(col(Stage.clip_id), func.avg(Stage.progress))
            .where(col(Stage.clip_id).in_(ids))
            .group_by(col(Stage.clip_id))
        ).all()
    )
    names = officer_names(session, {clip.badge_number for _, clip in pairs if clip.badge_number})
    posters = set(session.exec(select(Asset.clip_id).where(col(Asset.clip_id).in_(ids), Asset.kind == "poster.jpg")))
    selected = selected_for_training(session, ids)
    nominated = nominations_of(session, ids)
    complimented = set(session.exec(select(col(Clip.id)).where(col(Clip.id).in_(ids), surveys.has_compliment())))
    processing = [clip for _, clip in pairs if clip.status == ClipStatus.PROCESSING]
    etas = clip_progress(session, processing) if processing else {}
    return [
        QueueRow(
            item=item,
            clip=clip,
            categories=categories[clip_id],
            progress=float(progress.get(clip_id) or 0),
            officer_name=names.get(clip.badge_number) if clip.badge_number else None,
            has_poster=clip_id in posters,
            hit=next(iter(hits.get(clip_id) or []), None),
            selected_for_training=clip_id in selected,
            nomination=nominated.get(clip_id),
            compliment=clip_id in complimented,
            eta_seconds=etas[clip_id].eta_seconds if clip_id in etas else None,
        )
        for (item, clip), clip_id in zip(pairs, ids)
    ]


@dataclass
class ClipNomination:
    """A nomination naming a clip, as the clip shows it: its own outcome, from the awards' records."""

    id: int
    outcome: str  # pending | awarded | declined
    award_name: str | None = None

    @classmethod
    def of(cls, nomination: Nomination) -> "ClipNomination":
        outcome = {NominationState.APPROVED: "awarded", NominationState.DECLINED: "declined"}.get(
            nomination.state, "pending"
        )
        return cls(saved_id(nomination), outcome, nomination.award_name)


def nominations_of(session: Session, clip_ids: list[int]) -> dict[int, ClipNomination]:
    """The latest nomination naming each clip (one query)."""
    found: dict[int, ClipNomination] = {}
    for clip_id, nomination in session.exec(
        select(NominationClip.clip_id, Nomination)
        .join(Nomination, col(Nomination.id) == col(NominationClip.nomination_id))
        .where(col(NominationClip.clip_id).in_(clip_ids))
        .order_by(col(Nomination.id))
    ):
        found[clip_id] = ClipNomination.of(nomination)
    return found


def selected_for_training(session: Session, clip_ids: list[int]) -> set[int]:
    """The clips selected for training and not dismissed since (one query): what trainers see
    (api.core.policies.clip_filter asks the same of the decisions in SQL)."""
    selected: set[int] = set()
    for clip_id, kind in session.exec(
        select(Decision.clip_id, Decision.kind)
        .where(
            col(Decision.clip_id).in_(clip_ids),
            col(Decision.kind).in_((DecisionKind.SELECT_FOR_TRAINING, DecisionKind.DISMISS)),
        )
        .order_by(col(Decision.id))
    ):
        if kind == DecisionKind.SELECT_FOR_TRAINING:
            selected.add(clip_id)
        else:
            selected.discard(clip_id)
    return selected


def queue_row(session: Session, item: ReviewItem) -> QueueRow:
    clip = session.get(Clip, item.clip_id)
    if clip is None:  # a review item is deleted with its clip (ON DELETE CASCADE)
        raise NotFound(f"no clip {item.clip_id}")
    return queue_rows(session, [(item, clip)])[0]


def categories_of(session: Session, clip_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, set[str]] = {clip_id: set() for clip_id in clip_ids}
    for clip_id, categories in session.exec(
        select(ClipTag.clip_id, ClipTag.categories).where(col(ClipTag.clip_id).in_(clip_ids))
    ):
        found[clip_id].update(categories)
    return {clip_id: sorted(values) for clip_id, values in found.items()}


def history(session: Session, clip_id: int) -> tuple[list[Decision], list[OfficerReply]]:
    decisions = list(session.exec(select(Decision).where(Decision.clip_id == clip_id).order_by(col(Decision.id))))
    replies = list(
        session.exec(select(OfficerReply).where(OfficerReply.clip_id == clip_id).order_by(col(OfficerReply.id)))
    )
    return decisions, replies


@dataclass
class ClipReview:
    """Where a clip stands in review, with every decision and reply, derived from the records."""

    clip: Clip
    item: ReviewItem | None
    decisions: list[Decision]
    replies: list[OfficerReply]
    nomination: ClipNomination | None = None  # the latest naming it, with its own outcome
    selected_for_training: bool = False
    reviewable: bool = False  # ready to watch (not processing, not an intake problem)

    @property
    def held_by(self) -> str | None:
        """Who holds a claim on it now (nobody: None)."""
        item = self.item
        return item.claimed_by_name if item is not None and item.state == ReviewState.IN_REVIEW else None


def clip_review(session: Session, viewer: Principal, clip_id: int) -> ClipReview:
    """A clip's review for someone who may see the clip (404 for anyone else: officers see their own).
    Reading it claims nothing."""
    clip = visible_clip(session, viewer, clip_id)
    release_expired_claims(session)
    decisions, replies = history(session, clip_id)
    return ClipReview(
        clip,
        item_for(session, clip_id),
        decisions,
        replies,
        nomination=nominations_of(session, [clip_id]).get(clip_id),
        selected_for_training=clip_id in selected_for_training(session, [clip_id]),
        reviewable=clip.status == ClipStatus.READY,
    )


# --- intake problems: clips rejected or failed at intake, for admins and the uploading officer ---

WHAT_TO_DO = {
    ClipStatus.REJECTED: "The file itself could not be used. Export the clip again from the evidence system "
    "(the original recording, not a converted or screen-recorded copy) and upload that file.",
    ClipStatus.FAILED: "This is a fault on our side, not in the file. An administrator can read the error in the "
    "worker's log; once it is fixed, the clip can be processed again. Nothing needs uploading again.",
}


@dataclass
class IntakeProblem:
    clip: Clip
    reason: str
    what_to_do: str


def may_see_intake_problems(viewer: Principal) -> bool:
    return viewer.has(*policies.ADMINS) or (policies.Role.OFFICER in viewer.roles and bool(viewer.badge_number))


def intake_problems(session: Session, viewer: Principal, limit: int = 100) -> list[IntakeProblem]:
    """Clips rejected or failed at intake, newest first, with the reason and what to do: every one
    for an admin, their own for an officer, none for anyone else. Such a clip is not reviewable."""
    query = select(Clip).where(col(Clip.status).in_(INTAKE_PROBLEMS)).order_by(col(Clip.id).desc()).limit(limit)
    if not viewer.has(*policies.ADMINS):
        if not may_see_intake_problems(viewer):
            return []
        query = query.where(Clip.badge_number == viewer.badge_number)
    return [
        IntakeProblem(clip, clip.reason or "no reason was recorded", WHAT_TO_DO[ClipStatus(clip.status)])
        for clip in session.exec(query.options(NO_RECOGNITION))
    ]


# --- live pages: processing as it goes --------------------------------------------------------

MAX_LIVE = 200


def live_progress(session: Session, viewer: Principal, clip_ids: list[int]) -> list:
    """Progress, stages and ETA of those of these clips the viewer may see (the others are left
    out, unconfirmed): what the queue, clip and My footage pages poll."""
    ids = sorted(set(clip_ids))[:MAX_LIVE]
    if not ids:
        return []
    query = select(Clip).where(col(Clip.id).in_(ids)).options(NO_RECOGNITION)
    if (visible := clip_filter(viewer)) is not None:
        query = query.where(visible)
    clips = list(session.exec(query))
    found = clip_progress(session, clips)
    return [found[saved_id(clip)] for clip in clips]


@dataclass
class Standing:
    """Where a clip stands in review, as its officer follows it."""

    item: ReviewItem | None
    decision: Decision | None  # the latest
    last_reply: OfficerReply | None

    @property
    def asking(self) -> bool:
        """Whether the review team waits for the officer's answer to a question."""
        return self.item is not None and self.item.state == ReviewState.NEEDS_INFO and self.decision is not None

    @property
    def question(self) -> str | None:
        return self.decision.reason if self.asking and self.decision is not None else None


def standings(session: Session, clip_ids: list[int]) -> dict[int, Standing]:
    """Review item, latest decision and latest reply of many clips: one query each, not per clip."""
    items = {
        item.clip_id: item for item in session.exec(select(ReviewItem).where(col(ReviewItem.clip_id).in_(clip_ids)))
    }
    latest: dict[int, Decision] = {}
    for decision in session.exec(
        select(Decision).where(col(Decision.clip_id).in_(clip_ids)).order_by(col(Decision.id))
    ):
        latest[decision.clip_id] = decision
    replies: dict[int, OfficerReply] = {}
    for answer in session.exec(
        select(OfficerReply).where(col(OfficerReply.clip_id).in_(clip_ids)).order_by(col(OfficerReply.id))
    ):
        replies[answer.clip_id] = answer
    return {clip_id: Standing(items.get(clip_id), latest.get(clip_id), replies.get(clip_id)) for clip_id in clip_ids}


def rubric(session: Session, include_inactive: bool = False) -> list[RubricItem]:
    query = select(RubricItem).order_by(col(RubricItem.position), col(RubricItem.id))
    if not include_inactive:
        query = query.where(RubricItem.active)
    return list(session.exec(query))


def save_rubric_item(session: Session, actor: Actor, key: str, label: str, position: int, active: bool) -> RubricItem:
    item = session.exec(select(RubricItem).where(RubricItem.key == key)).first() or RubricItem(key=key, label=label)
    item.label, item.position, item.active = label, position, active
    session.add(item)
    session.flush()
    record(
        session,
        actor,
        "rubric.save",
        object_type="rubric_item",
        object_id=item.id,
        details={"key": key, "label": label, "active": active},
    )
    return item


# --- an officer's own clips, and where each stands in review (GET /clips/mine, My footage) ------


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
    nomination: ClipNomination | None = None
    selected_for_training: bool = False
    eta_seconds: float | None = None


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
    page = offset_page(session, query, (col(Clip.id).desc(),), limit=limit, offset=offset)
    return Page(_my_rows(session, viewer, page.items), page.total, limit, offset)


def _my_rows(session: Session, viewer: Principal, clips: list[Clip]) -> list[MyClip]:
    if not clips:
        return []
    ids = saved_ids(clip.id for clip in clips)
    found = standings(session, ids)
    nominated = nominations_of(session, ids)
    selected = selected_for_training(session, ids)
    processing = [clip for clip in clips if clip.status == ClipStatus.PROCESSING]
    etas = clip_progress(session, processing) if processing else {}
    rows = []
    for clip, clip_id, public in zip(clips, ids, clips_public(session, clips)):
        standing = found[clip_id]
        rows.append(
            MyClip(
                clip=public,
                review_state=standing.item.state if standing.item else None,
                decision=standing.decision,
                question=standing.question,
                last_reply=standing.last_reply,
                can_reply=standing.asking and may_reply(viewer, clip),
                can_tag=clip.status == ClipStatus.READY and may_tag(viewer, clip),
                nomination=nominated.get(clip_id),
                selected_for_training=clip_id in selected,
                eta_seconds=etas[clip_id].eta_seconds if clip_id in etas else None,
            )
        )
    return rows
