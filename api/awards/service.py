"""Acts of Excellence: reviewers nominate, the committee decides, an approval becomes awards."""

from datetime import UTC, date, datetime

from sqlmodel import Session, select

from api.audit.service import Actor, record
from api.awards.models import Award, Nomination, NominationClip, NominationOfficer, NominationState
from api.awards.schemas import AwardPublic, CommitteeDecisionIn, NominatedClip, NominationIn, NominationPublic
from api.clips.models import Clip
from api.errors import ServiceError
from api.users.models import Officer


class AwardError(ServiceError):
    pass


def nominate(session: Session, actor: Actor, body: NominationIn) -> Nomination:
    missing = [c.clip_id for c in body.clips if session.get(Clip, c.clip_id) is None]
    if missing:
        raise AwardError(422, f"no clips {missing}")
    nomination = Nomination(narrative=body.narrative.strip(), created_by=actor.user_id, created_by_name=actor.name)
    session.add(nomination)
    session.flush()
    for badge in sorted({b.strip() for b in body.officers if b.strip()}):
        session.add(NominationOfficer(nomination_id=nomination.id, badge_number=badge))
    for clip in body.clips:
        session.add(NominationClip(nomination_id=nomination.id, clip_id=clip.clip_id,
                                   moments=[m.model_dump() for m in clip.moments]))
    session.flush()
    record(session, actor, "nomination.create", object_type="nomination", object_id=nomination.id,
           details={"officers": body.officers, "clips": [c.clip_id for c in body.clips]})
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
            session.add(Award(nomination_id=nomination.id, badge_number=badge, award_name=nomination.award_name,
                              awarded_on=body.awarded_on or date.today(),
                              division=officer.division if officer else None))
    session.flush()
    record(session, actor, "nomination.decide", object_type="nomination", object_id=nomination.id,
           details={"approved": body.approve, "award_name": nomination.award_name})
    if body.approve:
        record(session, actor, "award.create", object_type="nomination", object_id=nomination.id,
               details={"officers": officers_of(session, nomination.id)})
    return nomination


def officers_of(session: Session, nomination_id: int) -> list[str]:
    return list(session.exec(select(NominationOfficer.badge_number)
                             .where(NominationOfficer.nomination_id == nomination_id)
                             .order_by(NominationOfficer.badge_number)))


def public(session: Session, nomination: Nomination) -> NominationPublic:
    clips = session.exec(select(NominationClip).where(NominationClip.nomination_id == nomination.id)
                         .order_by(NominationClip.id))
    return NominationPublic(**nomination.model_dump(), officers=officers_of(session, nomination.id),
                            clips=[NominatedClip(clip_id=c.clip_id, moments=c.moments) for c in clips])


def list_nominations(session: Session, state: NominationState | None = None, badge_number: str | None = None):
    query = select(Nomination).order_by(Nomination.created_at.desc())
    if state:
        query = query.where(Nomination.state == state)
    if badge_number:
        query = query.where(Nomination.id.in_(select(NominationOfficer.nomination_id)
                                              .where(NominationOfficer.badge_number == badge_number)))
    return list(session.exec(query))


def list_awards(session: Session, badge_number: str | None = None, division: str | None = None) -> list[AwardPublic]:
    query = (select(Award, Officer.name).join(Officer, Officer.badge_number == Award.badge_number, isouter=True)
             .order_by(Award.awarded_on.desc(), Award.id.desc()))
    if badge_number:
        query = query.where(Award.badge_number == badge_number)
    if division:
        query = query.where(Award.division == division)
    return [AwardPublic(**award.model_dump(), officer_name=name) for award, name in session.exec(query)]
