"""Pages: the review queue and the clip review page.

Both pages read through the services (never HTTP to ourselves): the queue through the same
`queue_page` as GET /api/v1/review/queue, a clip's review through the same `clip_review` as GET
/api/v1/clips/{id}/review, its transcript through `transcripts.read`. Their JavaScript takes every
action through the JSON API, so the rules and the audit records live in one place.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import overload
from urllib.parse import urlencode

from fastapi import APIRouter, Request

from api.audit.service import record
from api.auth import policies  # api.core.policies (the import contract lets pages reach it through api.auth)
from api.clips import service as clips
from api.clips import transcripts
from api.clips.schemas import Category, ClipStatus
from api.curriculum import service as curriculum
from api.db import SessionDep
from api.pagination import offset_of
from api.params import Id
from api.review import service as review
from api.review.schemas import ReviewState
from api.surveys import service as surveys
from api.users import service as users
from review_ui.pages import AnyPage, ReviewerPage, clock, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_PAGE = 100_000
STATE_LABELS = {
    ReviewState.QUEUED: "Queued",
    ReviewState.IN_REVIEW: "In review",
    ReviewState.SELECTED_FOR_TRAINING: "Selected for training",
    ReviewState.NOMINATED: "Nominated",
    ReviewState.DISMISSED: "Dismissed",
    ReviewState.NEEDS_INFO: "Needs info",
}
# A nomination's own outcome, as the clip shows it (api.review.service.ClipNomination).
NOMINATION_LABELS = {"pending": "Nomination pending", "awarded": "Awarded", "declined": "Nomination declined"}


@overload
def state_label(state: ReviewState, nomination) -> str: ...
@overload
def state_label(state: ReviewState | None, nomination) -> str | None: ...
def state_label(state: ReviewState | None, nomination) -> str | None:
    """The clip's state as people say it: a nominated clip says what became of its nomination."""
    if state is None:
        return None
    if state == ReviewState.NOMINATED and nomination is not None:
        return NOMINATION_LABELS[nomination.outcome]
    return STATE_LABELS[state]


def eta_text(seconds: float | None) -> str:
    """ "about 40 s", "about 3 min": the ETA from the measured real-time factor (queue.js and
    review.js write it the same way)."""
    if seconds is None:
        return "estimating…"
    if seconds < 60:
        return f"about {max(1, round(seconds))} s"
    return f"about {round(seconds / 60)} min"


# The decision buttons, in order: (kind posted to the API, the button's words).
DECISIONS = [
    ("selected_for_training", "Select for training"),
    ("nominated", "Nominate"),
    ("dismissed", "Dismiss"),
    ("needs_info", "Needs info"),
]
UNSURE_WORD = 0.5  # Whisper's probability under which a word is shown as uncertain
UNSURE_SPEAKER = 0.3  # speaker_confidence under which a turn is marked for a reviewer to check


def human_age(seconds: float) -> str:
    """How long an item has waited, the way people say it: "40 min", "3 h", "2 d"."""
    if seconds < 60:
        return "<1 min"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


# --- the queue --------------------------------------------------------------------------------


@dataclass
class QueueLine:
    """A row of the queue as the page says it: how long it has waited, and how far it is processed.
    Not a QueueRow: its `progress` is a percentage, and only while the clip is processing."""

    item: review.ReviewItem
    clip: review.Clip
    categories: list[str]
    progress: int | None  # in percent, and only while the clip is processing
    officer_name: str | None
    has_poster: bool
    hit: review.SearchHit | None
    selected_for_training: bool
    nomination: review.ClipNomination | None
    compliment: bool
    eta_seconds: float | None
    age: str = ""
    label: str = ""  # the state as people say it
    eta: str = ""

    @classmethod
    def of(cls, row: review.QueueRow, moment: datetime) -> "QueueLine":
        processing = row.clip.status == ClipStatus.PROCESSING
        return cls(
            item=row.item,
            clip=row.clip,
            categories=row.categories,
            progress=round(row.progress * 100) if processing else None,
            officer_name=row.officer_name,
            has_poster=row.has_poster,
            hit=row.hit,
            selected_for_training=row.selected_for_training,
            nomination=row.nomination,
            compliment=row.compliment,
            eta_seconds=row.eta_seconds,
            age=human_age((moment - row.item.queued_at).total_seconds()),
            label=state_label(row.item.state, row.nomination),
            eta=eta_text(row.eta_seconds) if processing else "",
        )


def _option(value: str, allowed, name: str, problems: list[str]):
    if not value:
        return None
    try:
        return allowed(value)
    except ValueError:
        problems.append(f"{name} “{value}” is not one of {', '.join(m.value for m in allowed)}; ignored")
        return None


def _day(value: str, name: str, problems: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append(f"{name} “{value}” is not a date (YYYY-MM-DD); ignored")
        return None


@dataclass
class QueueView:
    form: dict
    problems: list[str]
    number: int
    found: review.QueueListing


def _queue_view(session, params: dict[str, str]) -> QueueView:
    """The queue's filters read leniently from a plain GET form (every field arrives, empty or not;
    a bad value is ignored with a note instead of answering a JSON 422), and the page they ask for."""
    form = {name: (params.get(name) or "").strip()[:200] for name in QUEUE_FIELDS}
    order = params.get("order") or ""
    form["order"] = order if order in ("priority", "oldest") else "priority"
    form["compliment"] = "1" if params.get("compliment") else ""
    problems: list[str] = []
    where = review.QueueFilter(
        state=_option(form["state"], ReviewState, "state", problems),
        category=form["category"] or None,
        division=form["division"] or None,
        badge_number=form["badge_number"] or None,
        date_from=_day(form["date_from"], "from", problems),
        date_to=_day(form["date_to"], "to", problems),
        text=form["text"] or None,
        compliment=bool(form["compliment"]),
    )
    page = params.get("page") or "1"
    number = int(page) if page.isascii() and page.isdigit() else 1
    number = min(max(number, 1), MAX_PAGE)
    found = review.queue_page(session, where, form["order"], PAGE_SIZE, offset_of(number, PAGE_SIZE))
    return QueueView(form, problems, number, found)


QUEUE_FIELDS = ("state", "category", "division", "badge_number", "date_from", "date_to", "text")


@router.get("/queue")
def queue_page(request: Request, principal: ReviewerPage, session: SessionDep, empty: str = ""):
    """The review queue: filters, counts per state, one page of items (kept current by queue.js,
    which polls /queue/rows with the same query); for admins, the intake problems."""
    view = _queue_view(session, dict(request.query_params))
    form, found, number = view.form, view.found, view.number
    moment = datetime.now(UTC)
    filters = {name: value for name, value in form.items() if value and not (name == "order" and value == "priority")}

    def url(**changes) -> str:
        """This page with the current filters, some changed (None drops one)."""
        query = {name: value for name, value in {**filters, **changes}.items() if value not in (None, "")}
        return "/queue" + ("?" + urlencode(query) if query else "")

    return render(
        request,
        "queue.html",
        principal,
        rows=[QueueLine.of(row, moment) for row in found.items],
        total=found.total,
        counts=found.counts,
        form=form,
        problems=view.problems,
        url=url,
        page=number,
        pages=found.pages,
        page_size=PAGE_SIZE,
        states=STATE_LABELS,
        categories=[c.value for c in Category],
        divisions=clips.divisions(session),
        queue_empty=bool(empty),
        intake_problems=review.intake_problems(session, principal) if principal.within(policies.ADMINS) else [],
    )


@router.get("/queue/rows")
def queue_rows(request: Request, principal: ReviewerPage, session: SessionDep):
    """The queue page's rows alone, for the same query as /queue: queue.js polls it so that progress,
    claims and clips that finish processing show without a reload. The counts per state and the
    total ride in headers (X-Queue-Counts as JSON, X-Queue-Total)."""
    view = _queue_view(session, dict(request.query_params))
    moment = datetime.now(UTC)
    response = render(
        request,
        "_queue_rows.html",
        principal,
        rows=[QueueLine.of(row, moment) for row in view.found.items],
        states=STATE_LABELS,
    )
    response.headers["X-Queue-Counts"] = json.dumps(view.found.counts)
    response.headers["X-Queue-Total"] = str(view.found.total)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- one clip ---------------------------------------------------------------------------------


@dataclass
class TranscriptSegment:
    start: float
    words: list[dict] = field(default_factory=list)  # start, end, text, unsure, cue
    index: int = 0  # in transcript.json: what a speaker correction names
    speaker: str | None = None
    speaker_confidence: float | None = None
    corrected: bool = False


@dataclass
class Turn:
    """Consecutive segments of one speaker: the transcript reads as who said what."""

    speaker: str | None
    label: str
    segments: list[TranscriptSegment]

    @property
    def indexes(self) -> str:
        return ",".join(str(s.index) for s in self.segments)

    @property
    def unsure(self) -> bool:  # the clustering was close: worth a reviewer's look
        return any((s.speaker_confidence or 0) < UNSURE_SPEAKER and not s.corrected for s in self.segments)


def turns(segments: list[TranscriptSegment]) -> list[Turn]:
    grouped: list[Turn] = []
    for segment in segments:
        if grouped and grouped[-1].speaker == segment.speaker:
            grouped[-1].segments.append(segment)
        else:
            grouped.append(Turn(segment.speaker, (segment.speaker or "").capitalize(), [segment]))
    return grouped


def speaker_choices(segments: list[TranscriptSegment]) -> list[str]:
    """officer, the people heard, and one more (a voice the clustering merged into another)."""
    people = [int(s.speaker.split()[-1]) for s in segments if s.speaker and s.speaker.startswith("person ")]
    return ["officer", *(f"person {n}" for n in range(1, min(max(people, default=0) + 2, 100)))]


def _transcript(data: dict | None, highlights: list) -> list[TranscriptSegment]:
    """Whisper's segments as words with times; a segment without word times is one 'word'."""
    if not data:
        return []
    spans = [(float(_get(h, "start")), float(_get(h, "end")), _get(h, "label")) for h in highlights]
    segments = []
    for index, segment in enumerate(data.get("segments", [])):
        words = segment.get("words") or [
            {"start": segment["start"], "end": segment["end"], "word": segment.get("text", ""), "probability": 1.0}
        ]
        out = TranscriptSegment(
            start=float(segment["start"]),
            index=index,
            speaker=segment.get("speaker"),
            speaker_confidence=segment.get("speaker_confidence"),
            corrected=bool(segment.get("corrected")),
        )
        for word in words:
            text = str(word.get("word", "")).strip()
            if not text:
                continue
            start, end = float(word["start"]), float(word["end"])
            middle = (start + end) / 2
            cue = next((label for a, b, label in spans if a <= middle <= b), None)
            probability = word.get("probability")
            out.words.append(
                {
                    "start": start,
                    "end": end,
                    "text": text,
                    "cue": cue,
                    "probability": probability,
                    "unsure": probability is not None and probability < UNSURE_WORD,
                }
            )
        if out.words:
            segments.append(out)
    return segments


def _get(obj, name: str):
    """A highlight is a schema object here, a dict in stored JSON: read either."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _lessons(session) -> list[tuple]:
    """Every course that has lessons, with its lessons in order: where a segment may be added."""
    return [
        (outline.course, [row.lesson for row in outline.lessons])
        for outline in curriculum.course_tree(session)
        if outline.lessons
    ]


@router.get("/clips/{clip_id}")
def clip_page(clip_id: Id, request: Request, principal: AnyPage, session: SessionDep):
    """One clip: player, timeline, transcript; for the review team, Start review (a claim: opening
    the page claims nothing), Release and the decision panel; add-to-lesson for trainers; survey
    responses about it; history for everyone who may see the clip."""
    found = review.clip_review(session, principal, clip_id)  # 404 for a clip they may not see
    clip, item, decisions, replies = found.clip, found.item, found.decisions, found.replies
    record(session, principal.actor, "clip.view", object_type="clip", object_id=clip_id)
    reviewer = principal.within(policies.REVIEWERS)
    held_by = found.held_by
    mine = held_by is not None and item is not None and item.claimed_by == principal.actor.user_id
    waiting = item is not None and item.state in (ReviewState.QUEUED, ReviewState.IN_REVIEW)
    public = clips.clip_public(session, clip)
    highlights = list(getattr(public, "highlights", None) or [])
    counter_cues = list(getattr(public, "counter_cues", None) or [])
    try:
        transcript = (
            _transcript(transcripts.read(session, clip_id), highlights) if "transcript.json" in public.assets else []
        )
    except (OSError, ValueError):
        transcript = []
    rubric = review.rubric(session, include_inactive=True)
    reviewing = reviewer and item is not None and found.reviewable
    # Deciding is itself an explicit action, so the panel is there unless someone else holds the
    # clip; Start review claims a waiting clip first, so that others see who is at it.
    can_decide = reviewing and (mine or held_by is None)
    can_start = reviewing and waiting and held_by is None
    can_add_to_lesson = principal.within(policies.TRAINERS) and item is not None and found.selected_for_training
    repliers = users.display_names(session, {r.user_id for r in replies})
    officer = users.officer(session, clip.badge_number)
    last = decisions[-1] if decisions else None
    processing = clip.status == ClipStatus.PROCESSING
    progress = clips.clip_progress(session, [clip])[clip_id] if processing else None
    return render(
        request,
        "clip.html",
        principal,
        clip=public,
        item=item,
        held_by=held_by if not mine else None,
        held_until=item.claim_expires_at if held_by and item is not None else None,
        mine=mine,
        can_start=can_start,
        can_release=held_by is not None and (mine or principal.within(policies.ADMINS)),
        renew_every=review.renew_every_seconds(),
        state_label=state_label(item.state if item else None, found.nomination),
        nomination=found.nomination,
        reads_nominations=principal.within(policies.PROGRAM),
        nomination_label=NOMINATION_LABELS[found.nomination.outcome] if found.nomination else None,
        selected_for_training=found.selected_for_training,
        eta=eta_text(progress.eta_seconds) if progress else "",
        duration=(public.media or {}).get("duration"),
        officer=officer,
        highlights=highlights,
        counter_cues=counter_cues,
        transcript=turns(transcript),
        speaker_choices=speaker_choices(transcript),
        can_correct_speakers=can_decide,
        signals=list(getattr(public, "signals", None) or []),
        can_decide=can_decide,
        can_add_to_lesson=can_add_to_lesson,
        own_clip=bool(principal.badge_number) and principal.badge_number == clip.badge_number,
        decisions_buttons=DECISIONS,
        rubric=[r for r in rubric if r.active],
        rubric_labels={r.key: r.label for r in rubric},
        checked={key for key, value in (last.rubric if last else {}).items() if value},
        decisions=decisions,
        replies_by_decision=_replies_by_decision(replies),
        repliers=repliers,
        kind_labels={state.value: label for state, label in STATE_LABELS.items()},
        moments="\n".join(f"{clock(m.at)} {m.note}".strip() for m in public.markers),
        lessons=_lessons(session) if can_add_to_lesson else [],
        surveys=surveys.for_clip(session, clip, as_admin=principal.within(policies.ADMINS)),
        what_to_do=review.WHAT_TO_DO.get(clip.status) if clip.status in review.INTAKE_PROBLEMS else None,
    )


def _replies_by_decision(replies) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for reply in replies:
        grouped.setdefault(reply.decision_id, []).append(reply)
    return grouped
