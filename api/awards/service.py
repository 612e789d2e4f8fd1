"""Acts of Excellence: reviewers nominate, committee members vote, the votes decide, an approval
becomes awards. Who may read which nomination and which award is decided here, for the API and
the pages.

The committee's rule: each member (committee or admin) votes once on a pending nomination, to
approve or to decline (with a reason), or recuses; a member never votes on a nomination that names
them. Once the votes cast (recusals aside) reach the quorum, the outcome follows: approved when the
approvals are more than `majority` of the votes cast, declined otherwise. The first approving vote
names the award (and may date it; otherwise it is dated the day the votes settle it)."""

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlmodel import Session, func, select

from api.audit.service import Actor, record
from api.auth import Principal
from api.awards.models import (
    Award,
    CommitteeVote,
    Nomination,
    NominationClip,
    NominationOfficer,
    NominationState,
    VoteChoice,
)
from api.awards.schemas import (
    AwardClip,
    AwardDetail,
    AwardMoment,
    AwardPublic,
    NominatedClip,
    NominationIn,
    NominationOrder,
    NominationPublic,
    RecusalIn,
    TallyPublic,
    VoteIn,
    VotePublic,
)
from api.clips.models import Category, Clip, ClipCategory
from api.clips.service import may_see_clip
from api.core import policies
from api.core.errors import Conflict, Forbidden, Invalid, NotFound
from api.core.types import utcnow
from api.notifications.models import NotificationKind
from api.notifications.service import accounts_with_badge, members_of, notify
from api.pagination import MAX_LIMIT, Page, offset_page
from api.users.models import Officer, Role, User
from api.users.service import officer_names

# Who sees every award (policies.STAFF; officers see their own): awards are the department's
# record. Nominations are the review team's and the committee's working papers (PROGRAM); the
# committee's members vote (COMMITTEE).
DEFAULT_AWARD_NAME = "Act of Excellence"
CATEGORIES = [c.value for c in Category]  # what a nomination and its awards are filed under


class CommitteeRules(BaseSettings):
    """BESTPART_COMMITTEE_QUORUM: how many votes (recusals aside) settle a nomination.
    BESTPART_COMMITTEE_MAJORITY: the share of those votes that approvals must exceed (0.5: more than
    half; 0.66: two thirds)."""

    model_config = SettingsConfigDict(env_prefix="BESTPART_COMMITTEE_", env_file=".env", extra="ignore")

    quorum: int = Field(default=2, ge=1, le=100)
    majority: float = Field(default=0.5, ge=0.5, lt=1)


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
    known = set(session.exec(select(Officer.badge_number).where(Officer.badge_number.in_(badges))))
    known |= set(session.exec(select(User.badge_number).where(User.badge_number.in_(badges))))
    known |= set(session.exec(select(Clip.badge_number).where(Clip.badge_number.in_(badges)).distinct()))
    return sorted(badges - known)


def _category_of_clips(session: Session, clip_ids: list[int]) -> str | None:
    """The category the clips' tags name most (ties: the first by name), as migration 0010 backfills."""
    rows = session.exec(
        select(ClipCategory.category, func.count())
        .where(ClipCategory.clip_id.in_(clip_ids))
        .group_by(ClipCategory.category)
        .order_by(func.count().desc(), ClipCategory.category)
    ).first()
    return rows[0] if rows else None


def nominate(session: Session, actor: Actor, body: NominationIn) -> Nomination:
    missing = [c.clip_id for c in body.clips if session.get(Clip, c.clip_id) is None]
    if missing:
        raise Invalid(f"no clips {missing}")
    if unknown := _unknown_badges(session, {b.strip() for b in body.officers if b.strip()}):
        raise Invalid(f"no officer has badge {', '.join(unknown)}: not in the directory, on an account or on a clip")
    category = body.category.value if body.category else _category_of_clips(session, [c.clip_id for c in body.clips])
    nomination = Nomination(
        narrative=body.narrative.strip(), category=category, created_by=actor.user_id, created_by_name=actor.name
    )
    session.add(nomination)
    session.flush()
    for badge in sorted({b.strip() for b in body.officers if b.strip()}):
        session.add(NominationOfficer(nomination_id=nomination.id, badge_number=badge))
    for clip in body.clips:
        session.add(
            NominationClip(
                nomination_id=nomination.id, clip_id=clip.clip_id, moments=[m.model_dump() for m in clip.moments]
            )
        )
    session.flush()
    record(
        session,
        actor,
        "nomination.create",
        object_type="nomination",
        object_id=nomination.id,
        details={"officers": body.officers, "clips": [c.clip_id for c in body.clips], "category": category},
    )
    notify(
        session,
        members_of(session, Role.COMMITTEE),
        NotificationKind.NOMINATION,
        f"New nomination for an Act of Excellence: {', '.join(sorted(body.officers))}",
        f"/nominations#nomination-{nomination.id}",
        actor_user_id=actor.user_id,
    )
    return nomination


# --- the committee's votes ------------------------------------------------------------------------


def may_decide(viewer: Principal) -> bool:
    """Whether the viewer is a member who votes (the committee and admins)."""
    return viewer.has(*policies.COMMITTEE)


def conflict_of(session: Session, viewer: Principal, nomination: Nomination) -> str | None:
    """Why the member may not vote on the nomination, or None: they are named in it.

    (The officer directory records no supervisor; a member who supervises a nominee recuses
    themselves with `recuse`.)"""
    if viewer.badge_number and viewer.badge_number in officers_of(session, nomination.id):
        return f"you are named in nomination {nomination.id}, so you do not vote on it"
    return None


def votes_on(session: Session, nomination_id: int) -> list[CommitteeVote]:
    return list(
        session.exec(
            select(CommitteeVote)
            .where(CommitteeVote.nomination_id == nomination_id)
            .order_by(CommitteeVote.cast_at, CommitteeVote.id)
        )
    )


def _member(viewer: Principal) -> User:
    if not may_decide(viewer):
        raise Forbidden("only committee members (and admins) vote on nominations")
    if viewer.user is None:
        raise Forbidden("a vote is a member's own: cast it from a personal account, not a service token")
    return viewer.user


def _hold_pending(session: Session, nomination: Nomination) -> None:
    """Take the nomination's row (PostgreSQL's row lock, SQLite's write lock) before reading its
    votes, so that two members voting at once are counted one after the other; 409 once decided."""
    held = session.execute(
        sa.update(Nomination)
        .where(Nomination.id == nomination.id, Nomination.state == NominationState.PENDING)
        .values(state=NominationState.PENDING)
        .execution_options(synchronize_session=False)
    )
    session.refresh(nomination)
    if held.rowcount == 0:
        raise Conflict(f"nomination {nomination.id} was already {nomination.state.value}")


def _own_vote(session: Session, nomination_id: int, user_id: int) -> CommitteeVote | None:
    return session.exec(
        select(CommitteeVote).where(CommitteeVote.nomination_id == nomination_id, CommitteeVote.user_id == user_id)
    ).first()


def _already(nomination: Nomination, vote: CommitteeVote) -> Conflict:
    did = "recused yourself from" if vote.choice == VoteChoice.RECUSE else f"voted to {vote.choice.value}"
    return Conflict(f"you already {did} nomination {nomination.id}; a vote stands as cast")


def vote(session: Session, viewer: Principal, nomination: Nomination, body: VoteIn) -> Nomination:
    """Record the member's vote; when it brings the votes to the quorum, the outcome follows."""
    user = _member(viewer)
    _hold_pending(session, nomination)
    if reason := conflict_of(session, viewer, nomination):
        raise Forbidden(reason[0].upper() + reason[1:])
    if cast := _own_vote(session, nomination.id, user.id):
        raise _already(nomination, cast)
    reason = (body.reason or "").strip() or None
    if not body.approve and not reason:
        raise Invalid("a vote to decline needs a reason (field 'reason')")
    choice = VoteChoice.APPROVE if body.approve else VoteChoice.DECLINE
    award_name = (body.award_name or "").strip() or None if body.approve else None
    cast = CommitteeVote(
        nomination_id=nomination.id,
        user_id=user.id,
        voter_name=viewer.name[:100],
        choice=choice,
        reason=reason,
        award_name=award_name,
        awarded_on=body.awarded_on if body.approve else None,
    )
    session.add(cast)
    session.flush()
    votes = votes_on(session, nomination.id)
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
    user = _member(viewer)
    _hold_pending(session, nomination)
    if cast := _own_vote(session, nomination.id, user.id):
        raise _already(nomination, cast)
    reason = (body.reason or "").strip() or None
    session.add(
        CommitteeVote(
            nomination_id=nomination.id,
            user_id=user.id,
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
    officers = officers_of(session, nomination.id)
    if approved:
        mover = side[0]  # the first approving vote names the award and may date it
        nomination.award_name = mover.award_name or DEFAULT_AWARD_NAME
        for badge in officers:
            officer = session.get(Officer, badge)
            session.add(
                Award(
                    nomination_id=nomination.id,
                    badge_number=badge,
                    award_name=nomination.award_name,
                    awarded_on=mover.awarded_on or date.today(),
                    division=officer.division if officer else None,
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
    return next((v.choice for v in votes if v.user_id == viewer.user.id), None)


# --- reading nominations ------------------------------------------------------------------------


def officers_of(session: Session, nomination_id: int) -> list[str]:
    return list(
        session.exec(
            select(NominationOfficer.badge_number)
            .where(NominationOfficer.nomination_id == nomination_id)
            .order_by(NominationOfficer.badge_number)
        )
    )


def sees_votes(viewer: Principal) -> bool:
    """Each member's vote is the review team's and the committee's; an officer sees the tally."""
    return viewer.has(*policies.PROGRAM)


def public(session: Session, nomination: Nomination, viewer: Principal) -> NominationPublic:
    clips = session.exec(
        select(NominationClip).where(NominationClip.nomination_id == nomination.id).order_by(NominationClip.id)
    )
    votes = votes_on(session, nomination.id)
    return NominationPublic(
        **nomination.model_dump(),
        officers=officers_of(session, nomination.id),
        clips=[NominatedClip(clip_id=c.clip_id, moments=c.moments) for c in clips],
        tally=tally_of(nomination, votes),
        votes=[_vote_public(v) for v in votes] if sees_votes(viewer) else None,
        my_vote=_my_vote(votes, viewer),
        award_ids=list(session.exec(select(Award.id).where(Award.nomination_id == nomination.id).order_by(Award.id))),
    )


ORDERS = {
    NominationOrder.NEWEST: (Nomination.created_at.desc(), Nomination.id.desc()),
    NominationOrder.OLDEST: (Nomination.created_at, Nomination.id),
    NominationOrder.RECENTLY_DECIDED: (Nomination.decided_at.desc(), Nomination.id.desc()),
}


def list_nominations(
    session: Session,
    state: NominationState | None = None,
    badge_number: str | None = None,
    *,
    decided: bool | None = None,
    order: NominationOrder = NominationOrder.NEWEST,
    limit: int | None = None,
    offset: int = 0,
) -> Page[Nomination]:
    """Nominations in a state (or `decided` either way), naming an officer; a page of them."""
    query = select(Nomination)
    if state:
        query = query.where(Nomination.state == state)
    if decided is not None:
        query = query.where(
            (Nomination.state != NominationState.PENDING) if decided else (Nomination.state == NominationState.PENDING)
        )
    if badge_number:
        query = query.where(
            Nomination.id.in_(
                select(NominationOfficer.nomination_id).where(NominationOfficer.badge_number == badge_number)
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
    """The one rule for a nomination and its narrative: the review team, the committee, admins, and
    the officers it names."""
    return viewer.has(*policies.PROGRAM) or viewer.badge_number in officers_of(session, nomination.id)


@dataclass
class NominatedClipRow:
    clip_id: int
    moments: list[dict]  # in the order they happen
    clip: Clip | None


@dataclass
class NominationCard:
    """A nomination with what a reader needs beside it: who (with names), the clips, the moments,
    the votes so far and the viewer's own part in them."""

    nomination: Nomination
    officers: list[tuple[str, str | None]] = field(default_factory=list)  # (badge, name)
    clips: list[NominatedClipRow] = field(default_factory=list)
    votes: list[CommitteeVote] = field(default_factory=list)
    tally: TallyPublic | None = None
    my_vote: VoteChoice | None = None
    conflict: str | None = None  # why the viewer may not vote on it
    award_ids: list[int] = field(default_factory=list)


def nomination_cards(session: Session, nominations: list[Nomination], viewer: Principal) -> list[NominationCard]:
    """Officers (with names), clips and moments, votes and awards for a page of nominations, in six
    queries; the votes only for those who may see them."""
    ids = [n.id for n in nominations]
    if not ids:
        return []
    officers = _officers_by_nomination(session, ids)
    names = officer_names(session, {badge for found in officers.values() for badge in found})
    clips: dict[int, list[NominationClip]] = defaultdict(list)
    for row in session.exec(
        select(NominationClip).where(NominationClip.nomination_id.in_(ids)).order_by(NominationClip.id)
    ):
        clips[row.nomination_id].append(row)
    clip_ids = {row.clip_id for rows in clips.values() for row in rows}
    facts = {c.id: c for c in session.exec(select(Clip).where(Clip.id.in_(clip_ids)))} if clip_ids else {}
    votes: dict[int, list[CommitteeVote]] = defaultdict(list)
    for cast in session.exec(
        select(CommitteeVote)
        .where(CommitteeVote.nomination_id.in_(ids))
        .order_by(CommitteeVote.cast_at, CommitteeVote.id)
    ):
        votes[cast.nomination_id].append(cast)
    awards: dict[int, list[int]] = defaultdict(list)
    for nomination_id, award_id in session.exec(
        select(Award.nomination_id, Award.id).where(Award.nomination_id.in_(ids)).order_by(Award.id)
    ):
        awards[nomination_id].append(award_id)
    rules = committee_rules()
    visible = sees_votes(viewer)
    return [
        NominationCard(
            nomination=n,
            officers=[(badge, names.get(badge)) for badge in officers[n.id]],
            clips=[
                NominatedClipRow(row.clip_id, sorted(row.moments, key=lambda m: m.get("at", 0)), facts.get(row.clip_id))
                for row in clips[n.id]
            ],
            votes=votes[n.id] if visible else [],
            tally=tally_of(n, votes[n.id], rules),
            my_vote=_my_vote(votes[n.id], viewer),
            conflict=(
                f"you are named in nomination {n.id}, so you do not vote on it"
                if viewer.badge_number and viewer.badge_number in officers[n.id]
                else None
            ),
            award_ids=awards[n.id],
        )
        for n in nominations
    ]


def _officers_by_nomination(session: Session, ids: list[int]) -> dict[int, list[str]]:
    officers: dict[int, list[str]] = defaultdict(list)
    for row in session.exec(
        select(NominationOfficer)
        .where(NominationOfficer.nomination_id.in_(ids))
        .order_by(NominationOfficer.badge_number)
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
):
    """The awards the viewer may see, filtered; None when they may see none. A viewer who may not
    see every award sees their own (none without a badge), whatever the filters say."""
    if not sees_every_award(viewer):
        if not viewer.badge_number:
            return None
        badge_number, division = viewer.badge_number, None
    query = select(Award, Officer.name).join(Officer, Officer.badge_number == Award.badge_number, isouter=True)
    if badge_number:
        query = query.where(Award.badge_number == badge_number)
    if division:
        query = query.where(Award.division == division)
    if year:
        query = query.where(Award.awarded_on >= date(year, 1, 1), Award.awarded_on < date(year + 1, 1, 1))
    if category:
        query = query.where(Award.category == category)
    return query


AWARD_ORDER = (Award.awarded_on.desc(), Award.id.desc())


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
    """The record of Acts of Excellence, newest first, filtered by officer, division, year and
    category; an officer sees their own."""
    query = _awards_query(viewer, badge_number, division, year, category)
    if query is None:
        return Page([], 0, limit, offset)
    page = offset_page(session, query, AWARD_ORDER, limit=limit, offset=offset)
    return page.map(lambda row: AwardPublic(**row[0].model_dump(), officer_name=row[1]))


def visible_award(session: Session, viewer: Principal, award_id: int) -> Award:
    """The award if the viewer may see it (staff: every one; an officer: their own); 404 otherwise."""
    award = session.get(Award, award_id)
    if award is None or not (
        sees_every_award(viewer) or (viewer.badge_number and award.badge_number == viewer.badge_number)
    ):
        raise NotFound(f"no award {award_id}")
    return award


def award_detail(session: Session, viewer: Principal, award_id: int) -> AwardDetail:
    """One award: the officer, the narrative, the clips and moments (which the viewer may open),
    the decision with its tally, and each member's vote for those who may see votes."""
    award = visible_award(session, viewer, award_id)
    nomination = session.get(Nomination, award.nomination_id)
    badges = officers_of(session, nomination.id)
    names = officer_names(session, set(badges))
    clips = []
    for row in session.exec(
        select(NominationClip).where(NominationClip.nomination_id == nomination.id).order_by(NominationClip.id)
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
    votes = votes_on(session, nomination.id)
    return AwardDetail(
        **award.model_dump(),
        officer_name=names.get(award.badge_number),
        narrative=nomination.narrative,
        nominated_by=nomination.created_by_name,
        nominated_at=nomination.created_at,
        decided_at=nomination.decided_at,
        with_officers=[(b, names.get(b)) for b in badges if b != award.badge_number],
        clips=clips,
        tally=tally_of(nomination, votes),
        votes=[_vote_public(v) for v in votes] if sees_votes(viewer) else None,
    )


CSV_COLUMNS = [
    "award_id",
    "awarded_on",
    "badge_number",
    "officer_name",
    "division",
    "category",
    "award_name",
    "nomination_id",
    "nominated_by",
    "votes_for",
    "votes_against",
    "recused",
    "narrative",
]


def _cell(value) -> str:
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
    their own. Read a page at a time (MAX_LIMIT rows)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    query = _awards_query(viewer, badge_number, division, year, category)
    offset = 0
    while query is not None:
        page = offset_page(session, query, AWARD_ORDER, limit=MAX_LIMIT, offset=offset)
        nominations = {
            n.id: n
            for n in session.exec(
                select(Nomination).where(Nomination.id.in_({row[0].nomination_id for row in page.items}))
            )
        }
        counts: dict[int, Counter] = defaultdict(Counter)
        for nomination_id, choice, n in session.exec(
            select(CommitteeVote.nomination_id, CommitteeVote.choice, func.count())
            .where(CommitteeVote.nomination_id.in_(nominations))
            .group_by(CommitteeVote.nomination_id, CommitteeVote.choice)
        ):
            counts[nomination_id][choice] = n
        for award, officer_name in page.items:
            nomination = nominations[award.nomination_id]
            counted = counts[award.nomination_id]
            writer.writerow(
                _cell(v)
                for v in (
                    award.id,
                    award.awarded_on.isoformat(),
                    award.badge_number,
                    officer_name,
                    award.division,
                    award.category,
                    award.award_name,
                    nomination.id,
                    nomination.created_by_name,
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
    divisions: list[str]
    categories: list[str]
    officers: list[tuple[str, str | None]]  # (badge, name)


def award_filter_choices(session: Session) -> AwardFilters:
    years = sorted(
        {int(y) for y in session.exec(select(sa.extract("year", Award.awarded_on)).distinct()) if y is not None},
        reverse=True,
    )
    divisions = [d for d in session.exec(select(Award.division).distinct().order_by(Award.division)) if d]
    known = CATEGORIES
    present = {c for c in session.exec(select(Award.category).distinct()) if c}
    categories = [c for c in known if c in present] + sorted(present - set(known))
    officers = list(
        session.exec(
            select(Award.badge_number, Officer.name)
            .join(Officer, Officer.badge_number == Award.badge_number, isouter=True)
            .distinct()
            .order_by(Award.badge_number)
        )
    )
    return AwardFilters(years, divisions, categories, [tuple(row) for row in officers])
