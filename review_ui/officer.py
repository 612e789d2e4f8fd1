"""Pages for officers: upload footage, and follow what became of it (My footage).

Pages read through the services (My footage through the same `my_clips` as GET
/api/v1/clips/mine); the browser acts through the JSON API (upload.js, my.js).
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.awards import service as awards
from api.clips import service as clips
from api.clips.schemas import Category, ClipStatus
from api.db import SessionDep
from api.pagination import offset_of
from api.params import MAX_ID
from api.review import service as review
from api.review.schemas import ReviewState
from review_ui.pages import OfficerPage, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
ACCEPT = "video/*,.mp4,.m4v,.mov,.mkv,.avi"
REVIEW_LABELS = {
    ReviewState.QUEUED: "Waiting for review",
    ReviewState.IN_REVIEW: "Being reviewed",
    ReviewState.SELECTED_FOR_TRAINING: "Selected for training",
    ReviewState.NOMINATED: "Nominated for an Act of Excellence",
    ReviewState.DISMISSED: "Reviewed: not taken further",
    ReviewState.NEEDS_INFO: "The review team has a question",
}
# A nominated clip says what became of the nomination (the awards' own record of it).
NOMINATION_LABELS = {
    "pending": "Nominated for an Act of Excellence: the committee has not decided yet",
    "awarded": "Awarded an Act of Excellence",
    "declined": "Nominated for an Act of Excellence; the committee declined",
}


def eta_text(seconds: float | None) -> str:
    if seconds is None:
        return "estimating…"
    return f"about {max(1, round(seconds))} s" if seconds < 60 else f"about {round(seconds / 60)} min"


@router.get("/upload")
def upload_page(request: Request, principal: OfficerPage):
    """Drag in several files with the ingest fields; upload.js sends each one and follows it."""
    badge_editable = clips.files_for_any_badge(principal)
    return render(
        request,
        "upload.html",
        principal,
        categories=[c.value for c in Category],
        accept=ACCEPT,
        badge=principal.badge_number or "",
        badge_editable=badge_editable,
        can_upload=badge_editable or bool(principal.badge_number),
    )


@dataclass
class ClipRow(review.MyClip):
    """A clip of mine as the page says where it stands."""

    review_label: str | None = None
    nomination_label: str | None = None
    eta: str = ""

    @classmethod
    def of(cls, mine: review.MyClip) -> "ClipRow":
        label = REVIEW_LABELS.get(mine.review_state) if mine.review_state is not None else None
        nominated = NOMINATION_LABELS[mine.nomination.outcome] if mine.nomination else None
        if mine.review_state == ReviewState.NOMINATED and nominated:
            label, nominated = nominated, None
        if (
            mine.review_state is not None
            and mine.selected_for_training
            and label != REVIEW_LABELS[ReviewState.SELECTED_FOR_TRAINING]
        ):
            label = f"{label} · selected for training"
        return cls(
            **vars(mine),
            review_label=label,
            nomination_label=nominated,
            eta=eta_text(mine.eta_seconds) if mine.clip.status == ClipStatus.PROCESSING else "",
        )


@router.get("/my")
def my_footage(
    request: Request,
    principal: OfficerPage,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=MAX_ID)] = 1,
    status: str | None = None,
    clip: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
):
    """My clips and where they stand in review (processing kept current by my.js); my intake
    problems with what to do; my nominations and awards.

    `?clip=ID&at=SECONDS` (a link from the player) shows that one clip with its tag form open."""
    badge = principal.badge_number
    status = status if status in {s.value for s in ClipStatus} else None
    mine = review.my_clips(
        session,
        principal,
        status=ClipStatus(status) if status else None,
        clip_id=clip,
        limit=PAGE_SIZE,
        offset=offset_of(page, PAGE_SIZE),
    )
    nominations = awards.list_nominations(session, badge_number=badge).items if badge else []
    my_awards = awards.list_awards(session, principal, badge_number=badge).items if badge else []
    return render(
        request,
        "my_footage.html",
        principal,
        rows=[ClipRow.of(row) for row in mine.items],
        total=mine.total,
        page=page,
        page_size=PAGE_SIZE,
        has_next=mine.has_next,
        status=status,
        only_clip=clip,
        statuses=[s.value for s in ClipStatus],
        badge=badge,
        categories=[c.value for c in Category],
        nominations=nominations,
        awards=my_awards,
        intake_problems=review.intake_problems(session, principal),
    )
