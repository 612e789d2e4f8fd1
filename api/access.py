"""Which clips a principal may see. One place, used by every listing and every lookup.

Reviewers and admins see every clip. Others see what their work needs: an officer the clips they
recorded, a trainer the clips selected for training, the committee the clips in nominations.
"""

from sqlalchemy import or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import select

from api.auth import Principal, keep_denial
from api.awards.models import NominationClip
from api.clips.models import Clip
from api.review.models import ReviewItem, ReviewState
from api.users.models import Role


def sees_every_clip(principal: Principal) -> bool:
    return principal.has(Role.REVIEWER, Role.ADMIN)


def clip_filter(principal: Principal) -> ColumnElement | None:
    """A WHERE condition on Clip for what the principal may see; None means everything."""
    if sees_every_clip(principal):
        return None
    allowed = []
    if principal.has(Role.OFFICER) and principal.badge_number:
        allowed.append(Clip.badge_number == principal.badge_number)
    if principal.has(Role.TRAINER):
        allowed.append(
            Clip.id.in_(select(ReviewItem.clip_id).where(ReviewItem.state == ReviewState.SELECTED_FOR_TRAINING))
        )
    if principal.has(Role.COMMITTEE):
        allowed.append(Clip.id.in_(select(NominationClip.clip_id)))
    return or_(*allowed) if allowed else Clip.id.is_(None)


def officer_only_badge(principal: Principal) -> str | None:
    """The badge a search must be restricted to, or None for those who see every clip.

    Trainers and the committee are restricted like officers here (to their own footage, or to
    nothing); search over their working sets goes through clip_filter.
    """
    if sees_every_clip(principal):
        return None
    return principal.badge_number or "\x00no-badge"


def visible_clip(session, principal: Principal, clip_id: int) -> Clip:
    """The clip if the principal may see it; 404 otherwise (never confirm what they may not see).

    A clip that exists but is not theirs is audited as denied: the 404 ends the request and rolls
    back what it did, so call this before writing anything."""
    from fastapi import HTTPException

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
        raise HTTPException(404, f"no clip {clip_id}")
    return clip


def may_see_clip(session, principal: Principal, clip_id: int) -> bool:
    """Whether the principal may see the clip, asked quietly (no denial is recorded): for answers
    that must not show more than that, such as a duplicate upload's."""
    query = select(Clip.id).where(Clip.id == clip_id)
    condition = clip_filter(principal)
    if condition is not None:
        query = query.where(condition)
    return session.exec(query).first() is not None


def visible_clips(session, principal: Principal, status=None, limit: int = 50, offset: int = 0) -> list[Clip]:
    query = select(Clip).order_by(Clip.id.desc()).limit(limit).offset(offset)
    condition = clip_filter(principal)
    if condition is not None:
        query = query.where(condition)
    if status:
        query = query.where(Clip.status == status)
    return list(session.exec(query))
