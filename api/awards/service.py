"""Acts of Excellence: reviewers nominate, the committee decides, an approval becomes awards.
Who may read which nomination and which award is decided here, for the API and the pages."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlmodel import Session, select

from api.audit.service import Actor, record
from api.auth import Principal
from api.awards.models import Award, Nomination, NominationClip, NominationOfficer, NominationState
from api.awards.schemas import (
    AwardPublic,
    CommitteeDecisionIn,
    NominatedClip,
    NominationIn,
    NominationOrder,
    NominationPublic,
)
from api.clips.models import Clip
from api.core.errors import ServiceError
from api.pagination import Page, offset_page
from api.users.models import Officer, Role, User
from api.users.service import officer_names

# Who sees every award; everyone else sees their own. Awards are the department's record, so
# trainers see them too; nominations are the review team's and the committee's working papers.
AWARD_READERS = (Role.REVIEWER, Role.COMMITTEE, Role.TRAINER, Role.ADMIN)
NOMINATION_READERS = (Role.REVIEWER, Role.COMMITTEE, Role.ADMIN)
DECIDERS = (Role.COMMITTEE, Role.ADMIN)


class AwardError(ServiceError):
    pass


def _unknown_badges(session: Session, badges: set[str]) -> list[str]:
    """The badges nobody has: not in the officer directory, on no account and on no clip."""
    known = set(session.exec(select(Officer.badge_number).where(Officer.badge_number.in_(badges))))
    known |= set(session.exec(select(User.badge_number).where(User.badge_number.in_(badges))))
    known |= set(session.exec(select(Clip.badge_number).where(Clip.badge_number.in_(badges)).distinct()))
    return sorted(badges - known)


def nominate(session: Session, actor: Actor, body: NominationIn) -> Nomination:
    missing = [c.clip_id for c in body.clips if session.get(Clip, c.clip_id) is None]
    if missing:
        raise AwardError(422, f"no clips {missing}")
    if unknown := _unknown_badges(session, {b.strip() for b in body.officers if b.strip()}):
        raise AwardError(
            422, f"no officer has badge {', '.join(unknown)}: not in the directory, on an account or on a clip"
        )
    nomination = Nomination(narrative=body.narrative.strip(), created_by=actor.user_id, created_by_name=actor.name)
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
        details={"officers": body.officers, "clips": [c.clip_id for c in body.clips]},
    )
    return nomination


def decide(session: Session, actor: Actor, nomination: Nomination, body: CommitteeDecisionIn) -> Nomination:
    if nomination.state != NominationState.PENDING:
        raise AwardError(409, f"nomination {nomination.id} was already {nomination.state.value}")
    if not body.approve and not (body.reason or "").strip():
        raise AwardError(422, "declining needs a reason (field 'reason')")
    nomination.state = NominationState.APPROVED if body.approve else NominationState.DECLINED
    nomination.decided_by_name, nomination.decided_at = actor.name, datetime.now(UTC)
    nomination.decision_reason = (body.reason or "").strip() or None
    session.add(nomination)
    if body.approve:
        nomination.award_name = body.award_name.strip()
        for badge in officers_of(session, nomination.id):
            officer = session.get(Officer, badge)
            session.add(
                Award(
                    nomination_id=nomination.id,
                    badge_number=badge,
                    award_name=nomination.award_name,
                    awarded_on=body.awarded_on or date.today(),
                    division=officer.division if officer else None,
                )
            )
    session.flush()
    record(
        session,
        actor,
        "nomination.decide",
        object_type="nomination",
        object_id=nomination.id,
        details={"approved": body.approve, "award_name": nomination.award_name},
    )
    if body.approve:
        record(
            session,
            actor,
            "award.create",
            object_type="nomination",
            object_id=nomination.id,
            details={"officers": officers_of(session, nomination.id)},
        )
    return nomination


def officers_of(session: Session, nomination_id: int) -> list[str]:
    return list(
        session.exec(
            select(NominationOfficer.badge_number)
            .where(NominationOfficer.nomination_id == nomination_id)
            .order_by(NominationOfficer.badge_number)
        )
    )


def public(session: Session, nomination: Nomination) -> NominationPublic:
    clips = session.exec(
        select(NominationClip).where(NominationClip.nomination_id == nomination.id).order_by(NominationClip.id)
    )
    return NominationPublic(
        **nomination.model_dump(),
        officers=officers_of(session, nomination.id),
        clips=[NominatedClip(clip_id=c.clip_id, moments=c.moments) for c in clips],
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


def may_read_nomination(session: Session, viewer: Principal, nomination: Nomination) -> bool:
    """The one rule for a nomination and its narrative: the review team, the committee, admins, and
    the officers it names."""
    return viewer.has(*NOMINATION_READERS) or viewer.badge_number in officers_of(session, nomination.id)


def may_decide(viewer: Principal) -> bool:
    return viewer.has(*DECIDERS)


@dataclass
class NominatedClipRow:
    clip_id: int
    moments: list[dict]  # in the order they happen
    clip: Clip | None


@dataclass
class NominationCard:
    """A nomination with what a reader needs beside it: who (with names), the clips, the moments."""

    nomination: Nomination
    officers: list[tuple[str, str | None]] = field(default_factory=list)  # (badge, name)
    clips: list[NominatedClipRow] = field(default_factory=list)


def nomination_cards(session: Session, nominations: list[Nomination]) -> list[NominationCard]:
    """Officers (with names), clips and moments for a page of nominations in four queries."""
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
    return [
        NominationCard(
            nomination=n,
            officers=[(badge, names.get(badge)) for badge in officers[n.id]],
            clips=[
                NominatedClipRow(row.clip_id, sorted(row.moments, key=lambda m: m.get("at", 0)), facts.get(row.clip_id))
                for row in clips[n.id]
            ],
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


def sees_every_award(viewer: Principal) -> bool:
    return viewer.has(*AWARD_READERS)


def list_awards(
    session: Session,
    viewer: Principal,
    badge_number: str | None = None,
    division: str | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> Page[AwardPublic]:
    """The record of Acts of Excellence, newest first, filtered by officer and division; a viewer
    who may not see every award sees their own (none without a badge), whatever the filters say."""
    if not sees_every_award(viewer):
        if not viewer.badge_number:
            return Page([], 0, limit, offset)
        badge_number, division = viewer.badge_number, None
    query = select(Award, Officer.name).join(Officer, Officer.badge_number == Award.badge_number, isouter=True)
    if badge_number:
        query = query.where(Award.badge_number == badge_number)
    if division:
        query = query.where(Award.division == division)
    page = offset_page(session, query, (Award.awarded_on.desc(), Award.id.desc()), limit=limit, offset=offset)
    return page.map(lambda row: AwardPublic(**row[0].model_dump(), officer_name=row[1]))


def award_filter_choices(session: Session) -> tuple[list[str], list[tuple[str, str | None]]]:
    """The divisions and the officers (badge, name) that have awards: what the filters offer."""
    divisions = [d for d in session.exec(select(Award.division).distinct().order_by(Award.division)) if d]
    officers = list(
        session.exec(
            select(Award.badge_number, Officer.name)
            .join(Officer, Officer.badge_number == Award.badge_number, isouter=True)
            .distinct()
            .order_by(Award.badge_number)
        )
    )
    return divisions, [tuple(row) for row in officers]
