"""Search clips by what was said in them and how they were tagged. Services never commit.

The index (search_docs) holds, per clip: one metadata document (evidence and incident ids, badge,
officer name, division, categories, notes), one document per tagged moment, and one per passage of
its transcript, each passage with `at`, the second to jump to. Ingest and every added tag rebuild
the metadata and marker documents; the recognize stage rebuilds them all.
"""

import re
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, exists, false, func, insert, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from api.clips.models import Asset, Clip, ClipCategory, ClipTag
from api.core.types import saved_id
from api.review.models import ReviewItem
from api.search.highlight import find, snippet
from api.search.models import SearchDoc
from api.search.repository import Term, Terms, index_for
from api.search.schemas import SearchClip, SearchFilters, SearchHit, SearchPage, SearchResult
from api.users.models import Officer
from api.users.service import DirectoryImport, import_directory

PASSAGE_MAX_WORDS = 25  # a long Whisper segment is split, so a hit's `at` is near its words
HITS_PER_CLIP = 3
MAX_TERMS = 12
MEDIA_URL = "/api/v1/clips/{id}/media/{name}"
_TERM = re.compile(r'"([^"]*)"|(\S+)')
_TOKEN = re.compile(r"[^\W_]+")  # letters and digits only: nothing a query syntax could read as an operator
TAG_KINDS = ("metadata", "marker")


# --- indexing ------------------------------------------------------------------------------------


def index_clip(session: Session, clip: Clip, transcript: dict | None) -> None:
    """Rebuild every document of a clip; the transcript's only when one is given."""
    index_tags(session, clip)
    if transcript is not None:
        clip_id = saved_id(clip)
        _replace(session, clip_id, ("transcript",), transcript_docs(clip_id, transcript))


def index_tags(session: Session, clip: Clip) -> None:
    """Rebuild the clip's metadata and marker documents (after ingest, or a tag added)."""
    clip_id = saved_id(clip)
    tags = list(
        session.execute(select(ClipTag).where(col(ClipTag.clip_id) == clip_id).order_by(col(ClipTag.id))).scalars()
    )
    _replace(session, clip_id, TAG_KINDS, [metadata_doc(session, clip, tags), *marker_docs(clip_id, tags)])


def import_people(session: Session, actor, rows: list[dict]) -> DirectoryImport:
    """The directory's import (api.users.service.import_directory: officers and civilian
    employees, the accounts it links), and the clips of every badge whose name, division or unit it
    set or changed re-indexed: findable by them, as new clips are."""
    result = import_directory(session, actor, rows)
    for badge in sorted(result.changed):
        reindex_officer(session, badge)
    return result


def reindex_officer(session: Session, badge_number: str) -> None:
    """The directory changed a person's name, division or unit: their clips' metadata documents carry it."""
    for clip in session.execute(select(Clip).where(col(Clip.badge_number) == badge_number)).scalars():
        index_tags(session, clip)


def metadata_doc(session: Session, clip: Clip, tags: list[ClipTag]) -> dict:
    badges = _distinct([clip.badge_number, *(t.badge_number for t in tags)])
    names = {
        badge: " ".join(p for p in (name, division, unit) if p and p != clip.division)
        for badge, name, division, unit in (
            session.execute(
                select(col(Officer.badge_number), col(Officer.name), col(Officer.division), col(Officer.unit)).where(
                    col(Officer.badge_number).in_(badges)
                )
            ).all()
            if badges
            else []
        )
    }
    parts = [
        *_distinct([clip.evidence_id, *(t.evidence_id for t in tags)]),
        clip.incident_number,
        *(f"badge {badge}" + (f" {names[badge]}" if names.get(badge) else "") for badge in badges),
        clip.division,
        *_distinct([category for t in tags for category in t.categories]),
        *_distinct([t.note for t in tags]),
    ]
    return _doc(saved_id(clip), "metadata", None, " · ".join(p for p in parts if p))


def marker_docs(clip_id: int, tags: list[ClipTag]) -> list[dict]:
    return [
        _doc(clip_id, "marker", float(m["at"]), m["note"])
        for t in tags
        for m in t.markers
        if (m.get("note") or "").strip()
    ]


def transcript_docs(clip_id: int, transcript: dict) -> list[dict]:
    return [_doc(clip_id, "transcript", start, text, times) for start, text, times in passages(transcript)]


def passages(transcript: dict) -> list[tuple[float, str, list[float] | None]]:
    """(start, text, word start times) per segment, the words joined by single spaces; a segment of
    more than PASSAGE_MAX_WORDS words is cut into pieces. A segment without word times is its text."""
    found: list[tuple[float, str, list[float] | None]] = []
    for segment in transcript.get("segments") or []:
        words = [w for w in segment.get("words") or [] if str(w.get("word", "")).strip()]
        if not words:
            if (segment.get("text") or "").strip():
                found.append((float(segment["start"]), segment["text"].strip(), None))
            continue
        for i in range(0, len(words), PASSAGE_MAX_WORDS):
            piece = words[i : i + PASSAGE_MAX_WORDS]
            found.append(
                (
                    float(piece[0]["start"]),
                    " ".join("".join(w["word"].split()) for w in piece),
                    [round(float(w["start"]), 3) for w in piece],
                )
            )
    return found


def _doc(clip_id: int, kind: str, at: float | None, body: str, word_times: list[float] | None = None) -> dict:
    return {"clip_id": clip_id, "kind": kind, "at": at, "body": body, "word_times": word_times}


def word_time(body: str, word_times: list[float] | None, offset: int) -> float | None:
    """When the word at character `offset` of a passage's body starts (None without word times)."""
    index = body.count(" ", 0, offset)
    return word_times[index] if word_times and index < len(word_times) else None


def _replace(session: Session, clip_id: int, kinds: tuple[str, ...], docs: list[dict]) -> None:
    session.execute(delete(SearchDoc).where(col(SearchDoc.clip_id) == clip_id, col(SearchDoc.kind).in_(kinds)))
    docs = [d for d in docs if d["body"].strip()]
    if docs:
        session.execute(insert(SearchDoc), docs)


def _distinct(values) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


# --- searching -----------------------------------------------------------------------------------


def parse_terms(q: str) -> Terms:
    """Words and "quoted phrases"; every term must match. A plain word of three letters or more also
    matches as a prefix ("compress" finds "compressions": the index does not stem). EV-2026-0042 is
    an exact phrase of its parts, which is how both full-text indexes split it."""
    terms = []
    for phrase, word in _TERM.findall(q):
        tokens = tuple(t.lower() for t in _TOKEN.findall(phrase or word))
        if tokens:
            single = len(tokens) == 1 and not phrase
            terms.append(Term(tokens, prefix=single and len(tokens[0]) >= 3 and not tokens[0].isdigit()))
    return terms[:MAX_TERMS]


def clips_described_by(session: Session, text: str):
    """SELECT of the clips with a document that holds every word of `text`: their facts (evidence
    and incident ids, badge, officer name, division, categories, tag notes), a marker's note, or a
    passage of what was said; words as in search (the last may be a prefix); None when `text` has
    no word."""
    terms = parse_terms(text)
    return index_for(session).matching_clips(terms, (*TAG_KINDS, "transcript")) if terms else None


def search(
    session: Session,
    q: str,
    filters: SearchFilters | None = None,
    *,
    restrict_to_badge: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> SearchPage:
    """Clips matching every term, best first, each with its best hits. `restrict_to_badge`: an
    officer finds only the clips they recorded."""
    terms = parse_terms(q)
    page = SearchPage(q=q, results=[], limit=limit, offset=offset, has_more=False)
    if not terms:
        return page
    index = index_for(session)
    conditions = filter_conditions(filters or SearchFilters(), restrict_to_badge)
    ranked = index.best_clips(session, terms, conditions, limit + 1, offset)
    page.has_more, ranked = len(ranked) > limit, ranked[:limit]
    if not ranked:
        return page
    clip_ids = [clip_id for clip_id, _ in ranked]
    hits = best_hits(session, terms, clip_ids)
    clips = clip_summaries(session, clip_ids)
    page.results = [
        SearchResult(clip=clips[clip_id], score=round(score, 6), hits=hits[clip_id])
        for clip_id, score in ranked
        if clip_id in clips
    ]
    return page


def filter_conditions(filters: SearchFilters, restrict_to_badge: str | None) -> list[ColumnElement]:
    """The review queue's filters, as conditions on Clip (the same semantics as its listing)."""
    conditions: list[ColumnElement[bool]] = []
    if restrict_to_badge is not None:
        # A badge with a NUL is a "matches nothing" sentinel (api.access); PostgreSQL refuses NULs.
        conditions.append(col(Clip.badge_number) == restrict_to_badge if "\x00" not in restrict_to_badge else false())
    if filters.status:
        conditions.append(col(Clip.status) == filters.status)
    # EXISTS, not IN (subquery): checked per matching clip through the clip_id index, instead of
    # listing every queued or tagged clip first (tens of ms at 100,000 clips).
    if filters.review_state:
        conditions.append(
            exists().where(col(ReviewItem.clip_id) == Clip.id, col(ReviewItem.state) == filters.review_state)
        )
    if filters.category:
        conditions.append(
            exists().where(col(ClipCategory.clip_id) == Clip.id, col(ClipCategory.category) == filters.category.value)
        )
    if filters.division:
        conditions.append(col(Clip.division) == filters.division)
    if filters.badge_number:
        conditions.append(col(Clip.badge_number) == filters.badge_number)
    recorded = func.coalesce(Clip.recorded_at, Clip.created_at)
    if filters.date_from:
        conditions.append(recorded >= datetime.combine(filters.date_from, time.min, UTC))
    if filters.date_to and filters.date_to < date.max:  # date.max: no upper bound (and no overflow)
        conditions.append(recorded < datetime.combine(filters.date_to + timedelta(days=1), time.min, UTC))
    return conditions


def best_hits(session: Session, terms: Terms, clip_ids: list[int]) -> dict[int, list[SearchHit]]:
    """The documents of these clips that match every term, best first, with their snippets."""
    found: dict[int, list[SearchHit]] = defaultdict(list)
    docs = session.execute(
        select(
            col(SearchDoc.clip_id),
            col(SearchDoc.kind),
            col(SearchDoc.at),
            col(SearchDoc.body),
            col(SearchDoc.word_times),
        )
        .where(col(SearchDoc.clip_id).in_(clip_ids))
        .order_by(col(SearchDoc.id))
    )
    for clip_id, kind, at, body, times in docs:
        if match := find(body, terms):
            at = word_time(body, times, match.spans[0][0]) if times else at
            found[clip_id].append(SearchHit(kind=kind, at=at, snippet=snippet(body, match.spans), score=match.score))
    for hits in found.values():
        hits.sort(key=lambda hit: (-hit.score, hit.at if hit.at is not None else -1))
        del hits[HITS_PER_CLIP:]
    return found


def clip_summaries(session: Session, clip_ids: list[int]) -> dict[int, SearchClip]:
    """The few fields a result list shows, for many clips in three queries."""
    rows = session.execute(
        select(Clip, col(Officer.name))
        .outerjoin(Officer, col(Officer.badge_number) == Clip.badge_number)
        .where(col(Clip.id).in_(clip_ids))
    ).all()
    categories: dict[int, set[str]] = defaultdict(set)
    for clip_id, values in session.execute(
        select(col(ClipTag.clip_id), col(ClipTag.categories)).where(col(ClipTag.clip_id).in_(clip_ids))
    ):
        categories[clip_id].update(values)
    posters = set(
        session.execute(
            select(col(Asset.clip_id)).where(col(Asset.clip_id).in_(clip_ids), col(Asset.kind) == "poster.jpg")
        ).scalars()
    )
    summaries: dict[int, SearchClip] = {}
    for clip, name in rows:
        clip_id = saved_id(clip)
        summaries[clip_id] = _summary(clip, name, categories[clip_id], clip_id in posters)
    return summaries


def _summary(clip: Clip, officer_name: str | None, categories: set[str], has_poster: bool) -> SearchClip:
    return SearchClip(
        id=clip.id,
        status=clip.status,
        evidence_id=clip.evidence_id,
        incident_number=clip.incident_number,
        badge_number=clip.badge_number,
        officer_name=officer_name,
        division=clip.division,
        recorded_at=clip.recorded_at,
        categories=sorted(categories),
        suggested_categories=(clip.recognition or {}).get("suggested_categories", []),
        recognition_score=clip.recognition_score,
        poster=MEDIA_URL.format(id=clip.id, name="poster.jpg") if has_poster else None,
    )
