"""Search over transcripts, markers and metadata, on a real migrated SQLite database (FTS5) and,
where the test server answers, a fresh PostgreSQL database (tsvector + GIN)."""

import subprocess
import sys
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, create_engine

from api.clips.models import Asset, Clip, ClipStatus, ClipTag, Stage, StageName, StageState
from api.clips.schemas import TagInput
from api.clips.service import add_tag
from api.review.models import ReviewItem, ReviewState
from api.search.repository import Term
from api.search.schemas import SearchFilters
from api.search.service import index_clip, parse_terms, passages, search
from api.users.models import Officer
from tests.services import backend_env, fresh_postgres_database


def transcript(*lines: str, start: float = 1.0) -> dict:
    """Whisper-shaped: one segment per line, 0.5 s a word, a 2 s pause between lines."""
    segments, t = [], start
    for line in lines:
        words = []
        for raw in line.split():
            words.append({"start": round(t, 3), "end": round(t + 0.4, 3), "word": raw, "probability": 0.9})
            t += 0.5
        segments.append({"start": words[0]["start"], "end": words[-1]["end"], "text": line, "words": words})
        t += 2.0
    return {"language": "en", "model": "test", "segments": segments}


NARCAN = transcript(
    "Dispatch, we are on scene at the bus shelter.",
    "He is not breathing. I gave him two doses of Narcan and started CPR.",
    "Stay with me, buddy. Medic is two minutes out.",
)
TRAFFIC = transcript(
    "Good evening, my name is Officer Reyes.",
    "Take a deep breath, you are not in trouble.",
    "Your tail light is out, that is all.",
)
BLOCK_PARTY = transcript(
    "Thanks for coming out to the block party.",
    "The kids can sit in the patrol car and try the siren.",
)
# A long monologue with no pause: one Whisper segment, cut into passages for the jump time.
LONG = transcript(" ".join(f"word{i}" for i in range(60)) + " tourniquet applied above the wound")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(request, tmp_path_factory):
    data = tmp_path_factory.mktemp(f"search-{request.param}")
    env = backend_env("sqlite", data)
    if request.param == "postgresql":
        env["BESTPART_DATABASE_URL"] = fresh_postgres_database()
    migrate = subprocess.run([sys.executable, "-m", "api.cli", "migrate"], env=env, capture_output=True, text=True)
    assert migrate.returncode == 0, migrate.stderr
    engine = create_engine(env.get("BESTPART_DATABASE_URL") or f"sqlite:///{data / 'bestpart.db'}")
    clips = seed(engine)
    engine.clips = clips
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    with Session(engine) as session:
        yield session
        session.rollback()


@pytest.fixture
def clips(engine) -> dict[str, int]:
    return engine.clips


def make_clip(
    session,
    *,
    badge,
    evidence,
    categories,
    transcript_=None,
    status=ClipStatus.READY,
    division=None,
    incident=None,
    recorded=None,
    note=None,
    markers=(),
    review_state=ReviewState.QUEUED,
    poster=False,
) -> int:
    clip = Clip(
        sha256=uuid.uuid4().hex * 2,
        size_bytes=1,
        status=status,
        evidence_id=evidence,
        badge_number=badge,
        division=division,
        incident_number=incident,
        recorded_at=recorded,
    )
    session.add(clip)
    session.flush()
    session.add(
        ClipTag(
            clip_id=clip.id,
            badge_number=badge,
            evidence_id=evidence,
            categories=categories,
            markers=list(markers),
            note=note,
            source="api",
        )
    )
    session.add(ReviewItem(clip_id=clip.id, state=review_state))
    for name in StageName:
        session.add(
            Stage(
                clip_id=clip.id,
                name=name,
                state=StageState.DONE if status == ClipStatus.READY else StageState.QUEUED,
                progress=1.0 if status == ClipStatus.READY else 0.0,
            )
        )
    if poster:
        session.add(
            Asset(
                clip_id=clip.id,
                kind="poster.jpg",
                path="p",
                content_type="image/jpeg",
                size_bytes=1,
                sha256="0" * 64,
                parent_sha256=clip.sha256,
                tool="test",
                tool_version="test",
            )
        )
    session.flush()
    index_clip(session, clip, transcript_)
    return clip.id


def seed(engine) -> dict[str, int]:
    with Session(engine) as session:
        session.add(Officer(badge_number="4711", name="Daniel Reyes", division="Metro"))
        session.add(Officer(badge_number="5150", name="Maria Okafor", division="Providence"))
        session.flush()
        clips = {
            "narcan": make_clip(
                session,
                badge="4711",
                evidence="EV-2026-0042",
                incident="2026-123456",
                categories=["life-saving"],
                transcript_=NARCAN,
                division="Metro",
                recorded=datetime(2026, 3, 1, 22, 15, tzinfo=UTC),
                note="Overdose at the bus shelter; <script>alert(1)</script> in the note",
                markers=[{"at": 7.5, "note": "starts compressions"}],
            ),
            "traffic": make_clip(
                session,
                badge="4711",
                evidence="EV-2026-0077",
                categories=["de-escalation"],
                transcript_=TRAFFIC,
                division="Metro",
                recorded=datetime(2026, 4, 2, 9, 0, tzinfo=UTC),
                review_state=ReviewState.SELECTED_FOR_TRAINING,
            ),
            "party": make_clip(
                session,
                badge="5150",
                evidence="EV-2026-0100",
                categories=["community-engagement"],
                transcript_=BLOCK_PARTY,
                division="Providence",
                poster=True,
                recorded=datetime(2026, 5, 20, 18, 0, tzinfo=UTC),
            ),
            "long": make_clip(
                session,
                badge="5150",
                evidence="EV-2026-0101",
                categories=["life-saving"],
                transcript_=LONG,
                division="Providence",
                recorded=datetime(2026, 5, 21, 18, 0, tzinfo=UTC),
            ),
            "processing": make_clip(
                session,
                badge="5150",
                evidence="EV-2026-0200",
                categories=["life-saving"],
                status=ClipStatus.PROCESSING,
                division="Providence",
                note="second overdose call of the night",
            ),
        }
        session.commit()
        return clips


def word_of(transcript_: dict, text: str) -> dict:
    return next(w for s in transcript_["segments"] for w in s["words"] if w["word"].startswith(text))


def ids(page) -> list[int]:
    return [result.clip.id for result in page.results]


def test_a_spoken_word_finds_its_clip_with_a_snippet_and_the_second_to_jump_to(session, clips):
    page = search(session, "narcan")
    assert ids(page) == [clips["narcan"]]
    (hit,) = page.results[0].hits
    said = word_of(NARCAN, "Narcan")
    assert hit.kind == "transcript" and hit.at == said["start"] > NARCAN["segments"][1]["start"], (
        "a hit jumps to its word, not to the start of its segment"
    )
    assert "<mark>Narcan</mark>" in hit.snippet and "two doses of" in hit.snippet


def test_a_long_segment_is_cut_so_the_jump_lands_near_the_words(session, clips):
    (result,) = search(session, "tourniquet").results
    tourniquet = next(w for w in LONG["segments"][0]["words"] if w["word"] == "tourniquet")
    assert result.hits[0].at == tourniquet["start"]
    assert [start for start, _, _ in passages(LONG)] == [1.0, 13.5, 26.0]  # 25 words each, the last 15


def test_every_term_must_match_and_a_quoted_phrase_keeps_its_order(session, clips):
    assert ids(search(session, "deep breath")) == [clips["traffic"]]
    assert ids(search(session, '"take a deep breath"')) == [clips["traffic"]]
    assert ids(search(session, '"breath deep"')) == []
    assert ids(search(session, "narcan siren")) == []


def test_a_word_matches_as_the_start_of_longer_ones_but_a_quoted_word_exactly(session, clips):
    assert set(ids(search(session, "breath"))) == {clips["narcan"], clips["traffic"]}  # breathing, breath.
    assert ids(search(session, "breathing")) == [clips["narcan"]]
    assert ids(search(session, '"breath"')) == [clips["traffic"]]
    assert ids(search(session, "compress")) == [clips["narcan"]]  # the marker: "starts compressions"


def test_an_acronym_is_not_stemmed_into_a_common_word(session, clips):
    # Porter and Snowball both make "AED" "a": a stemmed index would find every clip with an "a".
    assert ids(search(session, "AED")) == []
    assert ids(search(session, "CPR")) == [clips["narcan"]]


def test_evidence_and_incident_ids_are_found_whole(session, clips):
    (result,) = search(session, "EV-2026-0042").results
    assert result.clip.id == clips["narcan"]
    hit = result.hits[0]
    assert hit.kind == "metadata" and hit.at is None
    assert hit.snippet.startswith("<mark>EV-2026-0042</mark> · 2026-123456 · badge 4711 Daniel Reyes")
    assert ids(search(session, "2026-123456")) == [clips["narcan"]]
    assert ids(search(session, "EV-2026-0043")) == []


def test_officer_names_come_from_the_directory(session, clips):
    assert set(ids(search(session, "Reyes"))) == {clips["narcan"], clips["traffic"]}
    page = search(session, "Okafor")
    assert set(ids(page)) == {clips["party"], clips["long"], clips["processing"]}
    assert {r.clip.officer_name for r in page.results} == {"Maria Okafor"}


def test_a_marker_note_jumps_to_its_moment(session, clips):
    (result,) = search(session, "compressions").results
    assert result.clip.id == clips["narcan"]
    marker = next(h for h in result.hits if h.kind == "marker")
    assert marker.at == 7.5 and "<mark>compressions</mark>" in marker.snippet


def test_a_clip_appears_once_with_its_best_hits_best_first(session, clips):
    page = search(session, "overdose")  # the note (metadata) of two clips
    assert sorted(ids(page)) == sorted({clips["narcan"], clips["processing"]})
    for result in search(session, "medic").results + search(session, "two").results:
        assert 1 <= len(result.hits) <= 3
        assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)
    (narcan,) = search(session, "two", SearchFilters(badge_number="4711")).results
    # "two doses of Narcan" and "two minutes out": the shorter passage, denser in the word, first
    twos = [
        w["start"]
        for s in (NARCAN["segments"][2], NARCAN["segments"][1])
        for w in s["words"]
        if w["word"].lower().startswith("two")
    ]
    assert [h.at for h in narcan.hits] == twos
    assert len(ids(search(session, "two"))) == len(set(ids(search(session, "two"))))


def test_snippets_are_escaped_html(session, clips):
    (result,) = search(session, "alert").results
    assert "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;" in result.hits[0].snippet


@pytest.mark.parametrize(
    "filters, expected",
    [
        (SearchFilters(status=ClipStatus.PROCESSING), ["processing"]),
        (SearchFilters(status=ClipStatus.READY), ["party", "long"]),
        (SearchFilters(category="community-engagement"), ["party"]),
        (SearchFilters(division="Providence"), ["party", "long", "processing"]),
        (SearchFilters(badge_number="4711"), []),
        (SearchFilters(date_from=date(2026, 5, 21)), ["long", "processing"]),  # no recorded_at: its upload date
        (SearchFilters(date_from=date(2026, 5, 1), date_to=date(2026, 5, 20)), ["party"]),
        (SearchFilters(review_state=ReviewState.QUEUED, division="Providence"), ["party", "long", "processing"]),
    ],
)
def test_the_queue_filters_narrow_a_search(session, clips, filters, expected):
    assert set(ids(search(session, "Okafor", filters))) == {clips[name] for name in expected}


def test_review_state_filter(session, clips):
    chosen = SearchFilters(review_state=ReviewState.SELECTED_FOR_TRAINING)
    assert ids(search(session, "Reyes", chosen)) == [clips["traffic"]]


def test_an_officer_finds_only_their_own_clips(session, clips):
    assert set(ids(search(session, "2026", restrict_to_badge="4711"))) == {clips["narcan"], clips["traffic"]}
    assert ids(search(session, "Okafor", restrict_to_badge="4711")) == []
    assert ids(search(session, "siren", SearchFilters(badge_number="5150"), restrict_to_badge="4711")) == []
    assert ids(search(session, "siren", restrict_to_badge="5150")) == [clips["party"]]
    assert ids(search(session, "narcan", restrict_to_badge="\x00no-badge")) == []


def test_pages_say_when_there_is_more(session, clips):
    first = search(session, "2026", limit=2)
    second = search(session, "2026", limit=2, offset=2)
    third = search(session, "2026", limit=2, offset=4)
    assert first.has_more and second.has_more and not third.has_more
    assert len(set(ids(first) + ids(second) + ids(third))) == 5


def test_queries_are_words_never_query_syntax(session, clips):
    for q in ("", "   ", "-- ;", '"" ()', "*", "NEAR(narcan cpr)", "narcan OR siren"):
        assert search(session, q).results == [], q
    assert ids(search(session, "narcan & | ! :* <->")) == [clips["narcan"]]
    assert parse_terms('a "b c" d-e narc 2026 "cpr"') == [
        Term(("a",)),
        Term(("b", "c")),
        Term(("d", "e")),
        Term(("narc",), prefix=True),
        Term(("2026",)),
        Term(("cpr",)),
    ]


def test_the_result_says_what_the_clip_is(session, clips):
    (result,) = search(session, "narcan").results
    clip = result.clip
    assert (clip.evidence_id, clip.badge_number, clip.officer_name, clip.division) == (
        "EV-2026-0042",
        "4711",
        "Daniel Reyes",
        "Metro",
    )
    assert clip.categories == ["life-saving"] and clip.status == ClipStatus.READY and clip.poster is None
    (party,) = search(session, "siren").results
    assert party.clip.poster == f"/api/v1/clips/{clips['party']}/media/poster.jpg"


def test_a_tag_added_later_is_searchable_at_once(engine, clips):
    with Session(engine) as session:
        clip = session.get(Clip, clips["party"])
        add_tag(
            session,
            clip,
            TagInput(
                badge_number="5150",
                categories=["community-engagement"],
                note="lemonade stand for the food bank",
                markers=[{"at": 3.0, "note": "hands out stickers"}],
            ),
            source="api",
            submitted_from=None,
        )
        session.commit()
    with Session(engine) as session:
        (result,) = search(session, "lemonade").results
        assert result.clip.id == clips["party"]
        assert search(session, "stickers").results[0].hits[0].at == 3.0
        assert ids(search(session, "siren")) == [clips["party"]], "the transcript stays indexed"


def test_a_page_of_clips_reads_as_each_clip_alone(session, clips):
    from sqlmodel import select

    from api.clips.service import clip_public, clips_public

    page = list(session.exec(select(Clip).order_by(Clip.id.desc())))
    listed = clips_public(session, page)
    assert listed == [clip_public(session, clip) for clip in page]
    assert [c.id for c in listed] == sorted(clips.values(), reverse=True)
    assert all([s.name for s in c.stages] == list(StageName) for c in listed)
    assert {c.id: list(c.assets) for c in listed if c.assets} == {clips["party"]: ["poster.jpg"]}
