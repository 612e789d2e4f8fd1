"""Acts of Excellence: reviewers nominate from the queue and any employee nominates a colleague
(sworn or civilian) from the nomination form; committee members vote, the votes decide, an approval
becomes awards. Who may read which nomination and which award is decided here, for the API and
the pages.

Nobody nominates themselves unless BESTPART_COMMITTEE_SELF_NOMINATION is on. Every person is shown
as api.users.service.people() has them: the name, and the division (a civilian employee's unit).

The committee's rule: each member (committee or admin) votes once on a pending nomination, to
approve or to decline (with a reason), or recuses; a member never votes on a nomination that names
them. Once the votes cast (recusals aside) reach the quorum, the outcome follows: approved when the
approvals are more than `majority` of the votes cast, declined otherwise. The first approving vote
names the award (and may date it; otherwise it is dated the day the votes settle it)."""

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from api.audit.service import Actor, record
from api.auth import Principal
from api.awards.models import (
    Award,
    CommitteeVote,
    Nomination,
    NominationClip,
    NominationOfficer,
    NominationSource,
    NominationState,
    VoteChoice,
    saved_id,
)
from api.awards.schemas import (
    AwardClip,
    AwardDetail,
    AwardMoment,
    AwardPublic,
    ColleagueNominationIn,
    NominatedClip,
    NominationIn,
    NominationOrder,
    NominationPublic,
    RecognitionPublic,
    RecusalIn,
    TallyPublic,
    VoteIn,
    VotePublic,
)
from api.clips.models import Category, Clip, ClipCategory
from api.clips.service import may_see_clip, visible_clips
from api.core import policies
from api.core.errors import Conflict, Forbidden, Invalid, NotFound
from api.core.types import utcnow
from api.notifications.models import NotificationKind
from api.notifications.service import accounts_with_badge, members_of, notify
from api.pagination import MAX_LIMIT, Page, offset_page
from api.users.models import Officer, Role, User
from api.users.schemas import PersonPublic
from api.users.service import people

# Who sees every award (policies.STAFF; officers see their own): awards are the department's
# record. Nominations are the review team's and the committee's working papers (PROGRAM); the
# committee's members vote (COMMITTEE).
DEFAULT_AWARD_NAME = "Act of Excellence"
CATEGORIES = [c.value for c in Category]  # what a nomination and its awards are filed under


class CommitteeRules(BaseSettings):
    """BESTPART_COMMITTEE_QUORUM: how many votes (recusals aside) settle a nomination.
    BESTPART_COMMITTEE_MAJORITY: the share of those votes that approvals must exceed (0.5: more than
    half; 0.66: two thirds).
    BESTPART_COMMITTEE_SELF_NOMINATION: whether anyone may nominate themselves (off by default)."""

    model_config = SettingsConfigDict(env_prefix="BESTPART_COMMITTEE_", env_file=".env", extra="ignore")

    quorum: int = Field(default=2, ge=1, le=100)
    majority: float = Field(default=0.5, ge=0.5, lt=1)
    self_nomination: bool = False


def committee_rules() -> CommitteeRules:
    """The rule in force, read when a vote is cast (a change applies to nominations still pending)."""
    return CommitteeRules()


def outcome_of(votes_for: int, votes_against: int, quorum: int, majority: float) -> NominationState | None:
    """What the votes decide: nothing before the quorum; then approved on more than `majority`."""
    cast = votes_for + votes_against
    if cast < quorum:
        return None
    return NominationState.APPROVED if votes_for > majority * cast else NominationState.DECLINED


def _unknown_badges(session: Session, badges: set[str]) -> list[str]:
    """The badges nobody has: not in the officer directory, on no account and on no clip."""
    known = set(session.exec(select(Officer.badge_number).where(col(Officer.badge_number).in_(badges))))
    known |= {b for b in session.exec(select(User.badge_number).where(col(User.badge_number).in_(badges))) if b}
    known |= {
        b for b in session.exec(select(Clip.badge_number).where(col(Clip.badge_number).in_(badges)).distinct()) if b
    }
    return sorted(badges - known)


def _category_of_clips(session: Session, clip_ids: list[int]) -> str | None:
    """The category the clips' tags name most (ties: the first by name), as migration 0010 backfills."""
    rows = session.exec(
        select(ClipCategory.category, func.count())
        .where(col(ClipCategory.clip_id).in_(clip_ids))
        .group_by(col(ClipCategory.category))
        .order_by(func.count().desc(), col(ClipCategory.category))
    ).first()
    return rows[0] if rows else None


def _refuse_self(rules: CommitteeRules, own_badge: str | None, badges: Iterable[str]) -> None:
    """Nobody nominates themselves, unless the setting allows it (403)."""
    if own_badge and own_badge in badges and not rules.self_nomination:
        raise Forbidden(
            f"you may not nominate yourself (badge {own_badge}); "
            "nominate a colleague (self-nomination is off: BESTPART_COMMITTEE_SELF_NOMINATION)"
        )


def _account_badge(session: Session, user_id: int | None) -> str | None:
    user = session.get(User, user_id) if user_id is not None else None
    return user.badge_number if user else None


def nominate(session: Session, actor: Actor, body: NominationIn) -> Nomination:
    """The review team's nomination (from the queue): officers, the clips and their moments."""
    missing = [c.clip_id for c in body.clips if session.get(Clip, c.clip_id) is None]
    if missing:
        raise Invalid(f"no clips {missing}")
    badges = sorted({b.strip() for b in body.officers if b.strip()})
    if unknown := _unknown_badges(session, set(badges)):
        raise Invalid(f"no officer has badge {', '.join(unknown)}: not in the directory, on an account or on a clip")
    _refuse_self(committee_rules(), _account_badge(session, actor.user_id), badges)
    category = body.category.value if body.category else _category_of_clips(session, [c.clip_id for c in body.clips])
    return _create(
        session,
        actor,
        Nomination(
            narrative=body.narrative.strip(), category=category, created_by=actor.user_id, created_by_name=actor.name
        ),
        badges,
        body.clips,
        mentioned=body.officers,
    )


def nominate_colleague(session: Session, viewer: Principal, body: ColleagueNominationIn) -> Nomination:
    """Any employee's nomination of a colleague (sworn or civilian) from the directory: what happened
    and when, and optionally a clip they may see with a moment of it. It joins the committee's flow
    as the review team's do, recorded as a colleague's (`source`)."""
    if viewer.user is None:
        raise Forbidden("a nomination is a person's own: send it from a personal account, not a service token")
    rules = committee_rules()
    badge = body.nominee.strip()
    nominee = people(session, {badge}).get(badge)
    if nominee is None or not nominee.in_directory:
        raise Invalid(f"nobody in the directory has badge {badge!r}: choose a colleague from the directory")
    _refuse_self(rules, viewer.badge_number, [badge])
    if body.occurred_on > date.today() + timedelta(days=1):  # a day's grace: the nominator's today may be ahead of UTC
        raise Invalid(f"{body.occurred_on.isoformat()} is in the future: say when it happened")
    clips = [body.clip] if body.clip else []
    for clip in clips:
        # Missing and not allowed read alike: the answer never confirms a clip the nominator may not see.
        if not may_see_clip(session, viewer, clip.clip_id):
            raise Invalid(f"no clip {clip.clip_id} among the clips you may see")
    category = body.category.value if body.category else None
    if category is None and clips:
        category = _category_of_clips(session, [c.clip_id for c in clips])
    nomination = Nomination(
        narrative=body.narrative.strip(),
        category=category,
        created_by=viewer.user.id,
        created_by_name=viewer.name[:100],
        source=NominationSource.COLLEAGUE,
        occurred_on=body.occurred_on,
    )
    return _create(session, viewer.actor, nomination, [badge], clips, mentioned=[badge])


def _create(
    session: Session,
    actor: Actor,
    nomination: Nomination,
    badges: list[str],
    clips: list[NominatedClip],
    *,
    mentioned: list[str],
) -> Nomination:
    """Save the nomination with its people and clips; audit it; tell the committee."""
    session.add(nomination)
    session.flush()
    nomination_id = saved_id(nomination)
    for badge in badges:
        session.add(NominationOfficer(nomination_id=nomination_id, badge_number=badge))
    for clip in clips:
        session.add(
            NominationClip(
                nomination_id=nomination_id, clip_id=clip.clip_id, moments=[m.model_dump() for m in clip.moments]
            )
        )
    session.flush()
    details: dict[str, Any] = {
        "officers": mentioned,
        "clips": [c.clip_id for c in clips],
        "category": nomination.category,
    }
    if nomination.source == NominationSource.COLLEAGUE:
        details |= {"source": nomination.source.value, "occurred_on": str(nomination.occurred_on)}
    record(session, actor, "nomination.create", object_type="nomination", object_id=nomination_id, details=details)
    by = " from a colleague" if nomination.source == NominationSource.COLLEAGUE else ""
    notify(
        session,
        members_of(session, Role.COMMITTEE),
        NotificationKind.NOMINATION,
        f"New nomination for an Act of Excellence{by}: {', '.join(sorted(mentioned))}",
        f"/nominations#nomination-{nomination_id}",
        actor_user_id=actor.user_id,
    )
    return nomination


def may_nominate_clip(session: Session, viewer: Principal, clip_id: int) -> bool:
    """Whether a colleague's nomination may name this clip: one the nominator may see."""
    return may_see_clip(session, viewer, clip_id)


@dataclass
class ClipChoice:
    clip_id: int
    label: str  # "Clip 12 · recorded 2034-06-01 · evidence EV-9"


def clip_choices(session: Session, viewer: Principal, limit: int = 20) -> list[ClipChoice]:
    """The newest clips the viewer may see, offered on the nomination form (any other they may see
    can be typed in by number)."""
    choices = []
    for clip in visible_clips(session, viewer, limit=limit):
        parts = [f"Clip {clip.id}"]
        if clip.recorded_at:
            parts.append(f"recorded {clip.recorded_at.date().isoformat()}")
        if clip.evidence_id:
            parts.append(f"evidence {clip.evidence_id}")
        choices.append(ClipChoice(saved_id(clip), " · ".join(parts)))
    return choices


def nominees(session: Session, viewer: Principal, q: str, limit: int = 20) -> list[PersonPublic]:
    """People in the directory (sworn and civilian, active) whose name has `q` in it, or whose badge
    starts with it, by name: whom the nomination form offers. The viewer is left out unless
    self-nomination is on."""
    text = " ".join(q.split())[:100]
    if not text:
        return []
    like = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = (
        select(Officer.badge_number)
        .where(
            col(Officer.active),
            sa.or_(
                col(Officer.name).ilike(f"%{like}%", escape="\\"),
                col(Officer.badge_number).ilike(f"{like}%", escape="\\"),
            ),
        )
        .order_by(col(Officer.name), col(Officer.badge_number))
        .limit(limit + 1)
    )
    own = viewer.badge_number
    badges = [b for b in session.exec(query) if committee_rules().self_nomination or b != own][:limit]
    found = people(session, set(badges))
    return [found[b] for b in badges if b in found]


# --- the committee's votes ------------------------------------------------------------------------


def may_decide(viewer: Principal) -> bool:
    """Whether the viewer is a member who votes (the committee and admins)."""
    return viewer.has(*policies.COMMITTEE)


def conflict_of(session: Session, viewer: Principal, nomination: Nomination) -> str | None:
    """Why the member may not vote on the nomination, or None: they are named in it.

    (The officer directory records no supervisor; a member who supervises a nominee recuses
    themselves with `recuse`.)"""
    if viewer.badge_number and viewer.badge_number in officers_of(session, saved_id(nomination)):
        return f"you are named in nomination {nomination.id}, so you do not vote on it"
    return None


def votes_on(session: Session, nomination_id: int) -> list[CommitteeVote]:
    return list(
        session.exec(
            select(CommitteeVote)
            .where(col(CommitteeVote.nomination_id) == nomination_id)
            .order_by(col(CommitteeVote.cast_at), col(CommitteeVote.id))
        )
    )


def _member(viewer: Principal) -> int:
    """The voting member's user id."""
    if not may_decide(viewer):
        raise Forbidden("only committee members (and admins) vote on nominations")
    if viewer.user is None:
        raise Forbidden("a vote is a member's own: cast it from a personal account, not a service token")
    return saved_id(viewer.user)


def _hold_pending(session: Session, nomination: Nomination) -> None:
    """Take the nomination's row (PostgreSQL's row lock, SQLite's write lock) before reading its
    votes, so that two members voting at once are counted one after the other; 409 once decided."""
    held = session.execute(
        sa.update(Nomination)
        .where(col(Nomination.id) == nomination.id, col(Nomination.state) == NominationState.PENDING)
        .values(state=NominationState.PENDING)
        .execution_options(synchronize_session=False)
    )
    session.refresh(nomination)
    # An UPDATE's result is a CursorResult (rowcount), which Session.execute's stubs do not say.
    if isinstance(held, CursorResult) and held.rowcount == 0:
        raise Conflict(f"nomination {nomination.id} was already {nomination.state.value}")


def _own_vote(session: Session, nomination_id: int, user_id: int) -> CommitteeVote | None:
    return session.exec(
        select(CommitteeVote).where(
            col(CommitteeVote.nomination_id) == nomination_id, col(CommitteeVote.user_id) == user_id
        )
    ).first()


def _already(nomination: Nomination, vote: CommitteeVote) -> Conflict:
    did = "recused yourself from" if vote.choice == VoteChoice.RECUSE else f"voted to {vote.choice.value}"
    return Conflict(f"you already {did} nomination {nomination.id}; a vote stands as cast")


def vote(session: Session, viewer: Principal, nomination: Nomination, body: VoteIn) -> Nomination:
    """Record the member's vote; when it brings the votes to the quorum, the outcome follows."""
    user_id = _member(viewer)
    _hold_pending(session, nomination)
    nomination_id = saved_id(nomination)
    if reason := conflict_of(session, viewer, nomination):
        raise Forbidden(reason[0].upper() + reason[1:])
    if cast := _own_vote(session, nomination_id, user_id):
        raise _already(nomination, cast)
    reason = (body.reason or "").strip() or None
    if not body.approve and not reason:
        raise Invalid("a vote to decline needs a reason (field 'reason')")
    choice = VoteChoice.APPROVE if body.approve else VoteChoice.DECLINE
    award_name = (body.award_name or "").strip() or None if body.approve else None
    cast = CommitteeVote(
        nomination_id=nomination_id,
        user_id=user_id,
        voter_name=viewer.name[:100],
        choice=choice,
        reason=reason,
        award_name=award_name,
        awarded_on=body.awarded_on if body.approve else None,
    )
    session.add(cast)
    session.flush()
    votes = votes_on(session, nomination_id)
    standing = tally_of(nomination, votes)
    record(
        session,
        viewer.actor,
        "nomination.vote",
        object_type="nomination",
        object_id=nomination.id,
        details={
            "vote": choice.value,
            "reason": reason,
            "award_name": award_name,
            "votes_for": standing.votes_for,
            "votes_against": standing.votes_against,
            "quorum": standing.quorum,
        },
    )
    _settle(session, viewer.actor, nomination, votes)
    return nomination


def recuse(session: Session, viewer: Principal, nomination: Nomination, body: RecusalIn) -> Nomination:
    """The member steps aside from the nomination (say, an officer they supervise): recorded, and
    counted neither way nor toward the quorum. A vote already cast stands."""
    user_id = _member(viewer)
    _hold_pending(session, nomination)
    nomination_id = saved_id(nomination)
    if cast := _own_vote(session, nomination_id, user_id):
        raise _already(nomination, cast)
    reason = (body.reason or "").strip() or None
    session.add(
        CommitteeVote(
            nomination_id=nomination_id,
            user_id=user_id,
            voter_name=viewer.name[:100],
            choice=VoteChoice.RECUSE,
            reason=reason,
        )
    )
    session.flush()
    record(
        session,
        viewer.actor,
        "nomination.recuse",
        object_type="nomination",
        object_id=nomination.id,
        details={"reason": reason},
    )
    return nomination


def _settle(session: Session, actor: Actor, nomination: Nomination, votes: list[CommitteeVote]) -> None:
    """Decide the nomination if the votes now reach the quorum: the state, and the awards."""
    rules = committee_rules()
    standing = tally_of(nomination, votes, rules)
    outcome = outcome_of(standing.votes_for, standing.votes_against, rules.quorum, rules.majority)
    if outcome is None:
        return
    approved = outcome == NominationState.APPROVED
    side = [v for v in votes if v.choice == (VoteChoice.APPROVE if approved else VoteChoice.DECLINE)]
    nomination.state, nomination.decided_at = outcome, utcnow()
    nomination.quorum, nomination.majority = rules.quorum, rules.majority
    names = ", ".join(v.voter_name for v in side)
    nomination.decided_by_name = names if len(names) <= 100 else names[:99] + "…"
    declines = [f"{v.voter_name}: {v.reason}" for v in votes if v.choice == VoteChoice.DECLINE and v.reason]
    nomination.decision_reason = None if approved else "; ".join(declines) or None
    nomination_id = saved_id(nomination)
    officers = officers_of(session, nomination_id)
    if approved:
        mover = side[0]  # the first approving vote names the award and may date it
        nomination.award_name = mover.award_name or DEFAULT_AWARD_NAME
        awarded = people(session, set(officers))
        for badge in officers:
            session.add(
                Award(
                    nomination_id=nomination_id,
                    badge_number=badge,
                    award_name=nomination.award_name,
                    awarded_on=mover.awarded_on or date.today(),
                    # the division at the time; a civilian employee's unit
                    division=awarded[badge].affiliation if badge in awarded else None,
                    category=nomination.category,
                )
            )
    session.add(nomination)
    session.flush()
    record(
        session,
        actor,
        "nomination.decide",
        object_type="nomination",
        object_id=nomination.id,
        details={
            "approved": approved,
            "award_name": nomination.award_name,
            "votes_for": standing.votes_for,
            "votes_against": standing.votes_against,
            "recused": standing.recused,
            "quorum": rules.quorum,
            "majority": rules.majority,
        },
    )
    if approved:
        record(
            session,
            actor,
            "award.create",
            object_type="nomination",
            object_id=nomination.id,
            details={"officers": officers},
        )
    _tell_the_outcome(session, actor, nomination, officers)


def _tell_the_outcome(session: Session, actor: Actor, nomination: Nomination, officers: list[str]) -> None:
    """The nominator hears the outcome; for an award, so do the officers awarded."""
    link = f"/nominations#nomination-{nomination.id}"
    if nomination.state == NominationState.APPROVED:
        text = f"{nomination.award_name} awarded to {', '.join(officers)} (nomination {nomination.id})"
        awarded = [uid for badge in officers for uid in accounts_with_badge(session, badge)]
        notify(session, [nomination.created_by, *awarded], NotificationKind.AWARDED, text, link)
    else:
        text = f"Nomination {nomination.id} was declined: {nomination.decision_reason or 'no reason given'}"
        notify(session, [nomination.created_by], NotificationKind.DECLINED, text, link)


def tally_of(nomination: Nomination, votes: list[CommitteeVote], rules: CommitteeRules | None = None) -> TallyPublic:
    """Where the votes stand: under the rule it was decided by, or (pending) the rule in force."""
    counted = Counter(v.choice for v in votes)
    votes_for, votes_against = counted[VoteChoice.APPROVE], counted[VoteChoice.DECLINE]
    if nomination.state != NominationState.PENDING:
        quorum, majority, needed = nomination.quorum, nomination.majority, 0
    else:
        rules = rules or committee_rules()
        quorum, majority = rules.quorum, rules.majority
        needed = max(0, quorum - votes_for - votes_against)
    return TallyPublic(
        votes_for=votes_for,
        votes_against=votes_against,
        recused=counted[VoteChoice.RECUSE],
        quorum=quorum,
        majority=majority,
        votes_needed=needed,
    )


def _vote_public(vote: CommitteeVote) -> VotePublic:
    return VotePublic(**vote.model_dump())


def _my_vote(votes: list[CommitteeVote], viewer: Principal | None) -> VoteChoice | None:
    if viewer is None or viewer.user is None:
        return None
    user_id = viewer.user.id
    return next((v.choice for v in votes if v.user_id == user_id), None)


# --- reading nominations ------------------------------------------------------------------------


def officers_of(session: Session, nomination_id: int) -> list[str]:
    return list(
        session.exec(
            select(NominationOfficer.badge_number)
            .where(col(NominationOfficer.nomination_id) == nomination_id)
            .order_by(col(NominationOfficer.badge_number))
        )
    )


def sees_votes(viewer: Principal) -> bool:
    """Each member's vote is the review team's and the committee's; an officer sees the tally."""
    return viewer.has(*policies.PROGRAM)


def public(session: Session, nomination: Nomination, viewer: Principal) -> NominationPublic:
    nomination_id = saved_id(nomination)
    clips = session.exec(
        select(NominationClip)
        .where(col(NominationClip.nomination_id) == nomination_id)
        .order_by(col(NominationClip.id))
    )
    votes = votes_on(session, nomination_id)
    badges = officers_of(session, nomination_id)
    named = people(session, set(badges))
    award_ids = session.exec(select(Award.id).where(col(Award.nomination_id) == nomination_id).order_by(col(Award.id)))
    return NominationPublic(
        **nomination.model_dump(),
        officers=badges,
        people=[named[b] for b in badges if b in named],
        clips=[NominatedClip(clip_id=c.clip_id, moments=c.moments) for c in clips],
        tally=tally_of(nomination, votes),
        votes=[_vote_public(v) for v in votes] if sees_votes(viewer) else None,
        my_vote=_my_vote(votes, viewer),
        award_ids=[i for i in award_ids if i is not None],
    )


ORDERS = {
    NominationOrder.NEWEST: (col(Nomination.created_at).desc(), col(Nomination.id).desc()),
    NominationOrder.OLDEST: (col(Nomination.created_at), col(Nomination.id)),
    NominationOrder.RECENTLY_DECIDED: (col(Nomination.decided_at).desc(), col(Nomination.id).desc()),
}


def list_nominations(
    session: Session,
    state: NominationState | None = None,
    badge_number: str | None = None,
    *,
    decided: bool | None = None,
    source: NominationSource | None = None,
    order: NominationOrder = NominationOrder.NEWEST,
    limit: int | None = None,
    offset: int = 0,
) -> Page[Nomination]:
    """Nominations in a state (or `decided` either way), naming a person, from the review team or
    from colleagues (`source`); a page of them."""
    query = select(Nomination)
    if state:
        query = query.where(col(Nomination.state) == state)
    if source:
        query = query.where(col(Nomination.source) == source)
    if decided is not None:
        pending = col(Nomination.state) == NominationState.PENDING
        query = query.where(~pending if decided else pending)
    if badge_number:
        query = query.where(
            col(Nomination.id).in_(
                select(NominationOfficer.nomination_id).where(col(NominationOfficer.badge_number) == badge_number)
            )
        )
    return offset_page(session, query, ORDERS[order], limit=limit, offset=offset)


def get_nomination(session: Session, viewer: Principal, nomination_id: int) -> Nomination:
    """The nomination if the viewer may read it; 404 otherwise (never confirm what they may not see)."""
    nomination = session.get(Nomination, nomination_id)
    if nomination is None or not may_read_nomination(session, viewer, nomination):
        raise NotFound(f"no nomination {nomination_id}")
    return nomination


def may_read_nomination(session: Session, viewer: Principal, nomination: Nomination) -> bool:
    """The one rule for a nomination and its narrative: the review team, the committee, admins, the
    people it names, and the colleague who sent it."""
    if viewer.has(*policies.PROGRAM):
        return True
    if viewer.user is not None and viewer.user.id is not None and nomination.created_by == viewer.user.id:
        return True
    return bool(viewer.badge_number) and viewer.badge_number in officers_of(session, saved_id(nomination))


@dataclass
class NominatedClipRow:
    clip_id: int
    moments: list[dict]  # in the order they happen
    clip: Clip | None


@dataclass
class NominationCard:
    """A nomination with what a reader needs beside it: who (with names and divisions or units), the
    clips, the moments, the votes so far and the viewer's own part in them."""

    nomination: Nomination
    officers: list[PersonPublic] = field(default_factory=list)
    clips: list[NominatedClipRow] = field(default_factory=list)
    votes: list[CommitteeVote] = field(default_factory=list)
    tally: TallyPublic | None = None
    my_vote: VoteChoice | None = None
    conflict: str | None = None  # why the viewer may not vote on it
    award_ids: list[int] = field(default_factory=list)


def nomination_cards(session: Session, nominations: list[Nomination], viewer: Principal) -> list[NominationCard]:
    """People (names with division or unit), clips and moments, votes and awards for a page of
    nominations, in seven queries; the votes only for those who may see them."""
    ids = [saved_id(n) for n in nominations]
    if not ids:
        return []
    officers = _officers_by_nomination(session, ids)
    named = people(session, {badge for found in officers.values() for badge in found})
    clips: dict[int, list[NominationClip]] = defaultdict(list)
    for row in session.exec(
        select(NominationClip).where(col(NominationClip.nomination_id).in_(ids)).order_by(col(NominationClip.id))
    ):
        clips[row.nomination_id].append(row)
    clip_ids = {row.clip_id for rows in clips.values() for row in rows}
    facts: dict[int, Clip] = (
        {saved_id(c): c for c in session.exec(select(Clip).where(col(Clip.id).in_(clip_ids)))} if clip_ids else {}
    )
    votes: dict[int, list[CommitteeVote]] = defaultdict(list)
    for cast in session.exec(
        select(CommitteeVote)
        .where(col(CommitteeVote.nomination_id).in_(ids))
        .order_by(col(CommitteeVote.cast_at), col(CommitteeVote.id))
    ):
        votes[cast.nomination_id].append(cast)
    awards: dict[int, list[int]] = defaultdict(list)
    for nomination_id, award_id in session.exec(
        select(Award.nomination_id, Award.id).where(col(Award.nomination_id).in_(ids)).order_by(col(Award.id))
    ):
        if award_id is not None:
            awards[nomination_id].append(award_id)
    rules = committee_rules()
    visible = sees_votes(viewer)
    return [
        NominationCard(
            nomination=n,
            officers=[named[badge] for badge in officers[n_id] if badge in named],
            clips=[
                NominatedClipRow(row.clip_id, sorted(row.moments, key=lambda m: m.get("at", 0)), facts.get(row.clip_id))
                for row in clips[n_id]
            ],
            votes=votes[n_id] if visible else [],
            tally=tally_of(n, votes[n_id], rules),
            my_vote=_my_vote(votes[n_id], viewer),
            conflict=(
                f"you are named in nomination {n_id}, so you do not vote on it"
                if viewer.badge_number and viewer.badge_number in officers[n_id]
                else None
            ),
            award_ids=awards[n_id],
        )
        for n, n_id in zip(nominations, ids, strict=True)
    ]


def _officers_by_nomination(session: Session, ids: list[int]) -> dict[int, list[str]]:
    officers: dict[int, list[str]] = defaultdict(list)
    for row in session.exec(
        select(NominationOfficer)
        .where(col(NominationOfficer.nomination_id).in_(ids))
        .order_by(col(NominationOfficer.badge_number))
    ):
        officers[row.nomination_id].append(row.badge_number)
    return officers


# --- the awards record --------------------------------------------------------------------------


def sees_every_award(viewer: Principal) -> bool:
    return viewer.has(*policies.STAFF)


def _awards_query(
    viewer: Principal,
    badge_number: str | None,
    division: str | None,
    year: int | None,
    category: str | None,
) -> SelectOfScalar[Award] | None:
    """The awards the viewer may see, filtered; None when they may see none. A viewer who may not
    see every award sees their own (none without a badge), whatever the filters say. `division`
    matches the division (a civilian employee's unit) recorded with the award."""
    if not sees_every_award(viewer):
        if not viewer.badge_number:
            return None
        badge_number, division = viewer.badge_number, None
    query = select(Award)
    if badge_number:
        query = query.where(col(Award.badge_number) == badge_number)
    if division:
        query = query.where(col(Award.division) == division)
    if year:
        query = query.where(col(Award.awarded_on) >= date(year, 1, 1), col(Award.awarded_on) < date(year + 1, 1, 1))
    if category:
        query = query.where(col(Award.category) == category)
    return query


AWARD_ORDER = (col(Award.awarded_on).desc(), col(Award.id).desc())


def _award_public(award: Award, person: PersonPublic | None) -> AwardPublic:
    """The award with the person's name and kind (the directory's); the division recorded with it,
    else (an award from before the division was recorded) the person's division or unit now."""
    fields = award.model_dump()
    fields["division"] = award.division or (person.affiliation if person else None)
    return AwardPublic(**fields, officer_name=person.name if person else None, kind=person.kind if person else None)


def list_awards(
    session: Session,
    viewer: Principal,
    badge_number: str | None = None,
    division: str | None = None,
    *,
    year: int | None = None,
    category: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Page[AwardPublic]:
    """The record of Acts of Excellence, newest first, filtered by person, division (or unit), year
    and category; an officer sees their own."""
    query = _awards_query(viewer, badge_number, division, year, category)
    if query is None:
        return Page([], 0, limit, offset)
    page: Page[Award] = offset_page(session, query, AWARD_ORDER, limit=limit, offset=offset)
    named = people(session, {a.badge_number for a in page.items})
    return Page([_award_public(a, named.get(a.badge_number)) for a in page.items], page.total, limit, offset)


def visible_award(session: Session, viewer: Principal, award_id: int) -> Award:
    """The award if the viewer may see it (staff: every one; an officer: their own); 404 otherwise."""
    award = session.get(Award, award_id)
    if award is None or not (
        sees_every_award(viewer) or (viewer.badge_number and award.badge_number == viewer.badge_number)
    ):
        raise NotFound(f"no award {award_id}")
    return award


def _nomination_of(session: Session, award: Award) -> Nomination:
    nomination = session.get(Nomination, award.nomination_id)
    if nomination is None:  # the foreign key keeps it; a missing one is a broken database
        raise NotFound(f"award {award.id} has no nomination {award.nomination_id}")
    return nomination


def award_detail(session: Session, viewer: Principal, award_id: int) -> AwardDetail:
    """One award: the person (name, division or unit), the narrative, the clips and moments (which
    the viewer may open), who nominated them (the review team or a colleague), the decision with
    its tally, and each member's vote for those who may see votes."""
    award = visible_award(session, viewer, award_id)
    nomination = _nomination_of(session, award)
    nomination_id = saved_id(nomination)
    badges = officers_of(session, nomination_id)
    named = people(session, {*badges, award.badge_number})
    clips = []
    for row in session.exec(
        select(NominationClip)
        .where(col(NominationClip.nomination_id) == nomination_id)
        .order_by(col(NominationClip.id))
    ):
        clip = session.get(Clip, row.clip_id)
        clips.append(
            AwardClip(
                clip_id=row.clip_id,
                viewable=may_see_clip(session, viewer, row.clip_id),
                recorded_at=clip.recorded_at if clip else None,
                moments=[
                    AwardMoment(at=m.get("at", 0), note=m.get("note", ""))
                    for m in sorted(row.moments, key=lambda m: m.get("at", 0))
                ],
            )
        )
    votes = votes_on(session, nomination_id)
    others = [b for b in badges if b != award.badge_number]
    return AwardDetail(
        **_award_public(award, named.get(award.badge_number)).model_dump(),
        narrative=nomination.narrative,
        nominated_by=nomination.created_by_name,
        nominated_at=nomination.created_at,
        source=nomination.source,
        occurred_on=nomination.occurred_on,
        decided_at=nomination.decided_at,
        with_officers=[(b, named[b].name if b in named else None) for b in others],
        with_people=[named[b] for b in others if b in named],
        clips=clips,
        tally=tally_of(nomination, votes),
        votes=[_vote_public(v) for v in votes] if sees_votes(viewer) else None,
    )


# --- a person's recognition ---------------------------------------------------------------------


def recognition(session: Session, viewer: Principal, badge_number: str) -> RecognitionPublic:
    """A person's recognition history: their awards and every nomination naming them that the
    viewer may read, from the review team and from colleagues alike (newest first). Staff read
    anyone's; an officer or civilian employee their own (404 otherwise)."""
    if not sees_every_award(viewer) and badge_number != viewer.badge_number:
        raise NotFound(f"no recognition history for {badge_number} that you may see")
    person = people(session, {badge_number}).get(badge_number)
    nominations = list_nominations(session, badge_number=badge_number).items
    return RecognitionPublic(
        badge_number=badge_number,
        officer_name=person.name if person else None,
        person=person,
        awards=list_awards(session, viewer, badge_number).items,
        nominations=[public(session, n, viewer) for n in nominations if may_read_nomination(session, viewer, n)],
    )


CSV_COLUMNS = [
    "award_id",
    "awarded_on",
    "badge_number",
    "officer_name",
    "division",
    "kind",
    "category",
    "award_name",
    "nomination_id",
    "nominated_by",
    "source",
    "votes_for",
    "votes_against",
    "recused",
    "narrative",
]


def _cell(value: object) -> str:
    """A cell a spreadsheet shows as text: one that starts like a formula is prefixed with '."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def awards_csv(
    session: Session,
    viewer: Principal,
    *,
    year: int | None = None,
    division: str | None = None,
    category: str | None = None,
    badge_number: str | None = None,
) -> str:
    """The awards record as CSV, newest first, with the filters of the awards page; an officer gets
    their own. Each person by name with their division (a civilian employee: their unit) and kind;
    each nomination's source (the review team or a colleague). Read a page at a time (MAX_LIMIT rows)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    query = _awards_query(viewer, badge_number, division, year, category)
    offset = 0
    while query is not None:
        page: Page[Award] = offset_page(session, query, AWARD_ORDER, limit=MAX_LIMIT, offset=offset)
        wanted = {a.nomination_id for a in page.items}
        nominations = {saved_id(n): n for n in session.exec(select(Nomination).where(col(Nomination.id).in_(wanted)))}
        named = people(session, {a.badge_number for a in page.items})
        counts: dict[int, Counter] = defaultdict(Counter)
        for nomination_id, choice, n in session.exec(
            select(CommitteeVote.nomination_id, CommitteeVote.choice, func.count())
            .where(col(CommitteeVote.nomination_id).in_(wanted))
            .group_by(col(CommitteeVote.nomination_id), col(CommitteeVote.choice))
        ):
            counts[nomination_id][choice] = n
        for award in page.items:
            shown = _award_public(award, named.get(award.badge_number))
            nomination = nominations[award.nomination_id]
            counted = counts[award.nomination_id]
            writer.writerow(
                _cell(v)
                for v in (
                    award.id,
                    award.awarded_on.isoformat(),
                    award.badge_number,
                    shown.officer_name,
                    shown.division,
                    shown.kind.value if shown.kind else None,
                    award.category,
                    award.award_name,
                    nomination.id,
                    nomination.created_by_name,
                    nomination.source.value,
                    counted[VoteChoice.APPROVE],
                    counted[VoteChoice.DECLINE],
                    counted[VoteChoice.RECUSE],
                    nomination.narrative,
                )
            )
        if not page.has_next:
            break
        offset += len(page.items)
    return out.getvalue()


@dataclass
class AwardFilters:
    """What the awards page's filters offer: values some award has."""

    years: list[int]
    divisions: list[str]  # divisions, and civilian employees' units
    categories: list[str]
    officers: list[PersonPublic]  # the people awarded, by name


def award_filter_choices(session: Session) -> AwardFilters:
    years = sorted(
        {int(y) for y in session.exec(select(sa.extract("year", col(Award.awarded_on))).distinct()) if y is not None},
        reverse=True,
    )
    divisions = [d for d in session.exec(select(Award.division).distinct().order_by(col(Award.division))) if d]
    known = CATEGORIES
    present = {c for c in session.exec(select(Award.category).distinct()) if c}
    categories = [c for c in known if c in present] + sorted(present - set(known))
    badges = set(session.exec(select(Award.badge_number).distinct()))
    named = people(session, badges)
    officers = sorted(named.values(), key=lambda p: ((p.name or "").casefold(), p.badge_number))
    return AwardFilters(years, divisions, categories, officers)
