"""Search and listing latency with 100,000 clips, against the raw SQL doing the core of the work.

Seeds a fresh SQLite database (migrated with Alembic, in a temp dir) through bulk SQL inserts:
100,000 clips, each with a tag, five done stages, six assets, a review-queue item and a short
transcript (3 to 8 consecutive segments of a labelled transcript from tests/recognition/transcripts,
scored by the real detector) indexed by the service's own functions, plus 300 officers. Evidence,
incident and badge numbers, divisions, dates and statuses are random (seeded).

Then, each timed over 200 calls, with a new session per call as a request has:
  search   api.search.service.search: domain words, phrases, officer names, evidence and incident
           ids, common words, with and without the queue's filters and the officer restriction;
           and the same queries through GET /api/v1/search (authenticated with an API token)
  listing  api.clips.service.list_clips + clip_public for a page of 50 (what GET /api/v1/clips
           returns), the same with clips_public (one query per table for the page; the target is
           judged on this one), and GET /api/v1/clips?limit=50
  queue    the review queue's page of 50 queued clips, by priority or oldest first, with and
           without a division filter: queue_page and the route's rows (judged on the listing
           target), and GET /api/v1/review/queue
Raw baselines, same queries: the FTS5 MATCH ... ORDER BY rank LIMIT 20 for search, and
SELECT * FROM clips ORDER BY id DESC LIMIT 50 for the listing; the ratios say what our layers cost.

Targets: search p95 < 100 ms, listing p95 < 50 ms (service level).

    .venv/bin/python bench/search.py [--clips 100000]
"""

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# BENCH_SEARCH_DIR: a folder this script seeded before, to measure again without seeding again.
WORKDIR = Path(os.environ.get("BENCH_SEARCH_DIR") or tempfile.mkdtemp(prefix="bestpart-bench-search-"))
os.environ.update(BESTPART_DATA_DIR=str(WORKDIR), HF_HUB_OFFLINE="1")  # before anything imports settings
for name in ("BESTPART_DATABASE_URL", "BESTPART_QUEUE_URL"):
    os.environ.pop(name, None)

from seed_values import ASSETS, CATEGORIES, DIVISIONS, FIRST, LAST, STAGES  # noqa: E402
from sqlmodel import Session  # noqa: E402

from api.clips.models import Clip, ClipTag  # noqa: E402
from api.db import get_engine  # noqa: E402
from api.migrate import upgrade  # noqa: E402
from api.recognition import detect  # noqa: E402
from api.search.schemas import SearchFilters  # noqa: E402
from api.search.service import metadata_doc, transcript_docs  # noqa: E402

TRANSCRIPTS = ROOT / "tests" / "recognition" / "transcripts"
SEARCH_TARGET_MS, LISTING_TARGET_MS = 100.0, 50.0
RUNS = 200
CHUNK = 5000


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def excerpts(rng: random.Random) -> list[dict]:
    """Short transcripts: a run of 3 to 8 segments from each labelled transcript, 2,000 of them."""
    sources = [json.loads(p.read_text())["transcript"] for p in sorted(TRANSCRIPTS.glob("*.json"))]
    found = []
    for _ in range(2000):
        segments = rng.choice(sources)["segments"]
        start = rng.randrange(max(1, len(segments) - 3))
        found.append({"language": "en", "model": "bench", "segments": segments[start : start + rng.randint(3, 8)]})
    return found


def seed(n: int, rng: random.Random) -> dict:
    """Bulk inserts in chunks; each chunk's search documents come from the service's own functions
    (in a session of their own: SQLite has one writer, and the service's sessions write-lock)."""
    officers = {f"{4000 + i}": f"{rng.choice(FIRST)} {rng.choice(LAST)}" for i in range(300)}
    texts = excerpts(rng)
    recognitions = [detect(t).to_dict() for t in texts]
    now = datetime(2026, 11, 1, tzinfo=UTC)
    db = sqlite3.connect(WORKDIR / "bestpart.db", isolation_level=None)
    db.executemany(
        "INSERT INTO officers (badge_number, name, division, active, updated_at) VALUES (?,?,?,1,?)",
        [(b, name, rng.choice(DIVISIONS), stamp(now)) for b, name in officers.items()],
    )
    for first in range(1, n + 1, CHUNK):
        rows = {"clips": [], "clip_tags": [], "stages": [], "assets": [], "review_items": [], "docs": []}
        with Session(get_engine()) as session:
            for clip_id in range(first, min(first + CHUNK, n + 1)):
                add_clip(rows, clip_id, rng, officers, texts, recognitions, now, session)
        db.execute("BEGIN")
        flush(db, rows)
        db.execute("COMMIT")
    db.close()
    return {"officers": officers, "texts": texts}


def add_clip(rows, clip_id, rng, officers, texts, recognitions, now, session) -> None:
    badge = rng.choice(list(officers))
    status = rng.choices(["ready", "processing", "rejected", "failed"], [90, 5, 3, 2])[0]
    recorded = now - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
    evidence, incident = f"EV-{recorded.year}-{clip_id:06d}", f"{recorded.year}-{rng.randrange(10**6):06d}"
    division, categories = rng.choice(DIVISIONS), rng.sample(CATEGORIES, rng.choice([1, 1, 1, 2]))
    pick = rng.randrange(len(texts))
    recognition = recognitions[pick] if status == "ready" else None
    sha = uuid.UUID(int=rng.getrandbits(128)).hex * 2
    rows["clips"].append(
        (
            clip_id,
            sha,
            10_000_000,
            status,
            evidence,
            badge,
            stamp(recorded),
            incident,
            division,
            json.dumps({"duration": 120.0}),
            stamp(recorded + timedelta(hours=2)),
            stamp(recorded + timedelta(hours=3)) if status == "ready" else None,
            json.dumps(recognition) if recognition else None,
            recognition["score"] if recognition else None,
        )
    )
    note = rng.choice([None, None, "offered water and a ride", "stayed with the family", "CPR until EMS arrived"])
    rows["clip_tags"].append(
        (clip_id, badge, evidence, json.dumps(categories), "[]", note, "import", stamp(recorded + timedelta(hours=2)))
    )
    rows["stages"] += [(clip_id, name, "done", 1.0, 1) for name in STAGES]
    rows["assets"] += [
        (
            clip_id,
            kind,
            f"derived/{sha[:2]}/{sha}/{kind}",
            ctype,
            1000,
            sha[:64],
            sha[:64],
            "ffmpeg",
            "7",
            "[]",
            stamp(now),
        )
        for kind, ctype in ASSETS
    ]
    rows["review_items"].append(
        (
            clip_id,
            "queued",
            recognition["score"] if recognition else 0.0,
            stamp(recorded + timedelta(hours=2)),
            stamp(now),
        )
    )
    clip = Clip(
        id=clip_id,
        sha256=sha,
        size_bytes=1,
        evidence_id=evidence,
        badge_number=badge,
        incident_number=incident,
        division=division,
    )
    tag = ClipTag(
        clip_id=clip_id, badge_number=badge, evidence_id=evidence, categories=categories, note=note, source="import"
    )
    docs = [metadata_doc(session, clip, [tag])] + (transcript_docs(clip_id, texts[pick]) if status == "ready" else [])
    rows["docs"] += [(d["clip_id"], d["kind"], d["at"], d["body"]) for d in docs]


def flush(cursor, rows: dict) -> None:
    statements = {
        "clips": "INSERT INTO clips (id, sha256, size_bytes, status, evidence_id, badge_number, recorded_at, "
        "incident_number, division, media_info, created_at, ready_at, recognition, recognition_score, "
        "rules_digest) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,'bench')",
        "clip_tags": "INSERT INTO clip_tags (clip_id, badge_number, evidence_id, categories, markers, note, source, "
        "created_at) VALUES (?,?,?,?,?,?,?,?)",
        "stages": "INSERT INTO stages (clip_id, name, state, progress, attempts) VALUES (?,?,?,?,?)",
        "assets": "INSERT INTO assets (clip_id, kind, path, content_type, size_bytes, sha256, parent_sha256, tool, "
        "tool_version, arguments, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        "review_items": "INSERT INTO review_items (clip_id, state, priority, queued_at, updated_at) VALUES (?,?,?,?,?)",
        "docs": "INSERT INTO search_docs (clip_id, kind, at, body) VALUES (?,?,?,?)",
    }
    for table, statement in statements.items():
        cursor.executemany(statement, rows[table])
        rows[table].clear()


def queries(rng: random.Random, seeded: dict, n: int) -> list[tuple[str, str, SearchFilters, str | None]]:
    """200 searches as people would type them: (kind, q, filters, officer's badge or None).
    A third carry the queue's filters, a tenth are an officer's (restricted to their clips)."""
    officers = seeded["officers"]
    words = [
        "narcan",
        "tourniquet",
        "CPR",
        "AED",
        "naloxone",
        "compressions",
        "breathing",
        "ambulance",
        "medic",
        "water",
        "blanket",
        '"deep breath"',
        '"not in trouble"',
        "basketball",
        "coffee",
        "de-escalation",
        "understand",
        "okay",
        "thank you",
        "sir",
        "help",
        "my name is",
    ]
    found = []
    for i in range(RUNS):
        kind = ["word", "word", "officer name", "evidence or incident id", "two words"][i % 5]
        if kind == "word":
            q = rng.choice(words)
        elif kind == "officer name":
            q = officers[rng.choice(list(officers))].split()[-1]
        elif kind == "evidence or incident id":
            clip_id = rng.randrange(1, n + 1)
            q = rng.choice([f"EV-{rng.choice([2024, 2025, 2026])}-{clip_id:06d}", f"{rng.randrange(10**6):06d}"])
        else:
            q = f"{rng.choice(words)} {rng.choice(['please', 'hospital', 'car', 'water', 'family'])}"
        filters = SearchFilters()
        if i % 3 == 0:
            filters = SearchFilters(
                status="ready", division=rng.choice(DIVISIONS), category=rng.choice(CATEGORIES), date_from="2026-01-01"
            )
            kind += " + filters"
        badge = rng.choice(list(officers)) if i % 10 == 7 else None
        found.append((kind, q, filters, badge))
    return found


def timed(call, runs) -> list[float]:
    times = []
    for args in runs:
        started = time.perf_counter()
        call(*args)
        times.append((time.perf_counter() - started) * 1000)
    return times


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=100)[94]


def report(name: str, times: list[float], baseline: list[float] | None = None, target: float | None = None) -> bool:
    line = f"  {name:<44} p50 {statistics.median(times):7.2f} ms   p95 {p95(times):7.2f} ms   max {max(times):7.2f} ms"
    if baseline:
        line += f"   x{p95(times) / p95(baseline):.1f} raw p95"
    ok = target is None or p95(times) < target
    if target is not None:
        line += f"   {'PASS' if ok else 'MISS'} (< {target:.0f} ms)"
    print(line)
    return ok


def service_search(q, filters, badge):
    from api.search.service import search

    with Session(get_engine()) as session:
        return search(session, q, filters, restrict_to_badge=badge, limit=20)


def raw_fts(connection, q, _filters, _badge):
    from api.search.repository import SqliteIndex
    from api.search.service import parse_terms

    expression = SqliteIndex()._match(parse_terms(q)).compile().params["match"]  # the service's own query
    connection.execute(
        "SELECT rowid FROM search_fts WHERE search_fts MATCH ? ORDER BY rank LIMIT 20", (expression,)
    ).fetchall()


def service_listing(offset):
    from api.clips.service import clip_public, list_clips

    with Session(get_engine()) as session:
        return [clip_public(session, clip) for clip in list_clips(session, status=None, limit=50, offset=offset)]


def batched_listing(offset):
    from api.clips.service import clips_public, list_clips

    with Session(get_engine()) as session:
        return clips_public(session, list_clips(session, status=None, limit=50, offset=offset))


def http_client():
    """The real app in-process, with a reviewer's API token (the search route asks who is calling)."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.accounts import make_user

    app = create_app()
    if not any(getattr(route, "path", "") == "/api/v1/search" for route in app.routes):
        from api.search.routes import router

        app.include_router(router)
    _, token = make_user(roles=["reviewer"])
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def http_search(client, q, filters, badge):
    params = {"q": q, **filters.model_dump(exclude_none=True, mode="json")}
    if badge:
        params["badge_number"] = badge
    response = client.get("/api/v1/search", params=params)
    assert response.status_code == 200, response.text


def http_listing(client, offset):
    response = client.get("/api/v1/clips", params={"limit": 50, "offset": offset})
    assert response.status_code == 200, response.text


def service_queue(offset, order, division):
    """What GET /api/v1/review/queue does below HTTP: the page, its counts, its categories."""
    from api.review.models import ReviewState
    from api.review.routes import _publics
    from api.review.service import QueueFilter, queue_page

    with Session(get_engine()) as session:
        page = queue_page(session, QueueFilter(ReviewState.QUEUED, division=division), order, 50, offset)
        return _publics(page.items)


def http_queue(client, offset, order, division):
    params = {"limit": 50, "offset": offset, "order": order, "state": "queued"}
    if division:
        params["division"] = division
    response = client.get("/api/v1/review/queue", params=params)
    assert response.status_code == 200, response.text


def bench_search(raw, client, runs) -> bool:
    calls = [run[1:] for run in runs]
    service_search(*calls[0])  # warm the page cache and the imports once
    found = sum(bool(service_search(*call).results) for call in calls)
    print(f"\nsearch: {len(calls)} queries ({found} find something), 20 clips a page")
    raw_times = timed(lambda *call: raw_fts(raw, *call), calls)
    report("raw FTS5 MATCH ... ORDER BY rank LIMIT 20", raw_times)
    times = timed(service_search, calls)
    ok = report("api.search.service.search", times, raw_times, SEARCH_TARGET_MS)
    http_search(client, *calls[0])
    report("GET /api/v1/search (token auth)", timed(lambda *call: http_search(client, *call), calls), raw_times)
    print("  by kind of query (service):")
    for kind in sorted({run[0] for run in runs}):
        report(
            f"  {kind} ({sum(run[0] == kind for run in runs)})", [t for t, run in zip(times, runs) if run[0] == kind]
        )
    return ok


def bench_listing(raw, client, rng) -> bool:
    """The target is judged on the first ten pages, where people look; deep pages are shown apart:
    OFFSET walks every clip before the page, whatever the layers above it do."""
    pages = [(50 * rng.randrange(10),) for _ in range(RUNS)]
    print(f"\nlisting: {RUNS} pages of 50 clips among the first ten (offsets 0 to 450)")
    raw_list = timed(
        lambda offset: raw.execute("SELECT * FROM clips ORDER BY id DESC LIMIT 50 OFFSET ?", (offset,)).fetchall(),
        pages,
    )
    report("raw SELECT * FROM clips ... LIMIT 50", raw_list)
    report("list_clips + clip_public x 50 (3 queries a clip)", timed(service_listing, pages), raw_list)
    assert batched_listing(0) == service_listing(0)
    ok = report(
        "list_clips + clips_public (3 queries a page)", timed(batched_listing, pages), raw_list, LISTING_TARGET_MS
    )
    http_listing(client, 0)
    report("GET /api/v1/clips?limit=50 (token auth)", timed(lambda o: http_listing(client, o), pages), raw_list)
    # The review team's queue: what /queue shows, by priority (the recognition score) or oldest first.
    calls = [
        (50 * rng.randrange(10), rng.choice(["priority", "oldest"]), rng.choice([None, *DIVISIONS]))
        for _ in range(RUNS)
    ]
    raw_queue = timed(
        lambda offset, *_: raw.execute(
            "SELECT * FROM review_items JOIN clips ON clips.id = review_items.clip_id WHERE review_items.state = 'queued' "
            "ORDER BY review_items.priority DESC LIMIT 50 OFFSET ?",
            (offset,),
        ).fetchall(),
        calls,
    )
    report("raw SELECT queued review items ... LIMIT 50", raw_queue)
    service_queue(*calls[0])
    ok &= report(
        "list_queue + the route's rows (service level)", timed(service_queue, calls), raw_queue, LISTING_TARGET_MS
    )
    http_queue(client, *calls[0])
    report(
        "GET /api/v1/review/queue?limit=50 (token auth)",
        timed(lambda *call: http_queue(client, *call), calls),
        raw_queue,
    )
    for offset in (5_000, 50_000):
        deep = [(offset,)] * 20
        print(f"  deep page at offset {offset:,}, 20 times:")
        raw_deep = timed(
            lambda o: raw.execute("SELECT * FROM clips ORDER BY id DESC LIMIT 50 OFFSET ?", (o,)).fetchall(), deep
        )
        report("  raw SELECT", raw_deep)
        report("  list_clips + clips_public", timed(batched_listing, deep), raw_deep)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(20261124)
    started = time.perf_counter()
    if (WORKDIR / "bestpart.db").exists():
        seeded = reseeded(rng)
    else:
        upgrade()
        seeded = seed(args.clips, rng)
    with get_engine().connect() as connection:
        clips = connection.exec_driver_sql("SELECT count(*) FROM clips").scalar()
        docs = connection.exec_driver_sql("SELECT count(*) FROM search_docs").scalar()
    size = sum(p.stat().st_size for p in WORKDIR.glob("bestpart.db*")) / 2**20
    print(
        f"{clips:,} clips, {docs:,} search documents, seeded in {time.perf_counter() - started:.0f} s "
        f"({size:.0f} MiB of SQLite in {WORKDIR})"
    )
    raw = sqlite3.connect(WORKDIR / "bestpart.db")
    with http_client() as client:
        ok = bench_search(raw, client, queries(rng, seeded, clips))
        ok &= bench_listing(raw, client, rng)
    print(
        f"\nRESULT: {'PASS' if ok else 'MISS'} (service level: search p95 < {SEARCH_TARGET_MS:.0f} ms, "
        f"listing p95 < {LISTING_TARGET_MS:.0f} ms)"
    )
    return 0 if ok else 1


def reseeded(rng: random.Random) -> dict:
    """The officers of a database seeded before (BENCH_SEARCH_DIR), for the queries."""
    with sqlite3.connect(WORKDIR / "bestpart.db") as db:
        officers = dict(db.execute("SELECT badge_number, name FROM officers WHERE badge_number >= '4000'"))
    return {"officers": officers}


if __name__ == "__main__":
    sys.exit(main())
