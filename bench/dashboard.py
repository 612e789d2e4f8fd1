"""The dashboard and the equity view stay under 100 ms p95 at the service with 100,000 clips and
50,000 survey responses.

Seeds a fresh SQLite database (migrated with Alembic, in a temp dir) through bulk SQL inserts:
1,000 officers over 13 divisions (a tenth with no division recorded); 100,000 clips over two years,
each with its upload tag (a third with a second tag), its review item (queued, in review,
asking the officer, selected for training, nominated or dismissed; one division's tags mostly
left waiting) and a decision for each decided clip; nominations for the nominated clips (most
decided, with awards for the approved, skewed towards a few officers); 50,000 survey responses
over the same months and divisions (one import).

Then, in-process: the service calls themselves, computed afresh (api.stats.service: dashboard
figures, queue ages, the equity figures; api.surveys.service.csat_by_month): what the worker pays
at each refresh of the snapshots, not judged. Then the pages and their API through the app
(fastapi.testclient.TestClient, bearer token) as they run in production: reading the snapshots
the worker keeps (BESTPART_STATS_CACHE_SECONDS=30): the first view of a new install, before any
snapshot exists, once (it computes them); then each page `--runs` times with the snapshots
fresh, and again while a worker process (workers.stats.StatsWatch, refreshing back to back)
computes and replaces them on the same cores. Server time is measured inside the ASGI app
(bench/pages.py's ServerTimer); the floor is GET /api/v1/health. PASS/MISS is judged on both
snapshot runs' server p95 against 100 ms. `--fresh-pages` also times the pages computing their
figures on every request (BESTPART_STATS_CACHE_SECONDS=0, the tests' setting), not judged.

    .venv/bin/python bench/dashboard.py [--clips 100000] [--surveys 50000] [--runs 100] [--fresh-runs 10]
        [--fresh-pages] [--keep]
"""

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
WORKDIR = Path(tempfile.mkdtemp(prefix="bestpart-bench-dashboard-"))
os.environ.update(BESTPART_DATA_DIR=str(WORKDIR), HF_HUB_OFFLINE="1", BESTPART_STATS_CACHE_SECONDS="0")
for name in ("BESTPART_DATABASE_URL", "BESTPART_QUEUE_URL"):
    os.environ.pop(name, None)

from seed_values import CATEGORIES, DIVISIONS, FIRST, LAST  # noqa: E402

from api.migrate import upgrade  # noqa: E402

TARGET_MS = 100.0
OFFICERS = 1_000
MONTHS = 24
STATES = {  # review states of the clips, and how many of each
    "queued": 40,
    "in_review": 3,
    "needs_info": 4,
    "selected_for_training": 15,
    "nominated": 3,
    "dismissed": 35,
}
SLOW_DIVISION = DIVISIONS[-1]  # its officers' tags are mostly left waiting: the equity view flags it


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def seed(clips: int, surveys: int, rng: random.Random) -> dict[str, int]:
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=30 * MONTHS)
    db = sqlite3.connect(WORKDIR / "bestpart.db")
    officers = []
    for i in range(OFFICERS):
        division = None if i % 10 == 9 else rng.choice(DIVISIONS)
        officers.append((f"{5000 + i}", f"{rng.choice(FIRST)} {rng.choice(LAST)}", division, stamp(now)))
    db.executemany(
        "INSERT INTO officers (badge_number, name, division, active, updated_at) VALUES (?,?,?,1,?)", officers
    )
    # Some officers tag far more than others (a few prolific ones).
    weights = [rng.paretovariate(1.5) for _ in officers]
    states, kinds = list(STATES), list(STATES.values())
    clip_rows, tag_rows, item_rows, decision_rows, nominated = [], [], [], [], []
    picks = rng.choices(range(OFFICERS), weights=weights, k=clips)
    for clip_id, pick in enumerate(picks, start=1):
        badge, _, division, _ = officers[pick]
        division = division or rng.choice(DIVISIONS)
        created = start + timedelta(seconds=rng.randrange(MONTHS * 30 * 86400))
        clip_rows.append((clip_id, uuid.uuid4().hex * 2, badge, division, f"INC-{clip_id}", stamp(created)))
        cats = json.dumps(rng.sample(CATEGORIES, rng.choice([1, 1, 2])))
        tag_rows.append((clip_id, badge, cats, "api", stamp(created)))
        if clip_id % 3 == 0:
            tag_rows.append((clip_id, badge, json.dumps([rng.choice(CATEGORIES)]), "api", stamp(created)))
        state = rng.choices(states, weights=kinds)[0]
        if officers[pick][2] == SLOW_DIVISION and state in ("selected_for_training", "nominated", "dismissed"):
            state = "queued" if rng.random() < 0.85 else state
        item_rows.append((clip_id, state, rng.random(), stamp(created), stamp(created)))
        if state in ("selected_for_training", "nominated", "dismissed", "needs_info"):
            decided = created + timedelta(days=rng.randint(1, 20))
            decision_rows.append((clip_id, state, "bench-reviewer", "{}", stamp(min(decided, now))))
        if state == "nominated":
            nominated.append((clip_id, badge, division, created))
    db.executemany(
        "INSERT INTO clips (id, sha256, size_bytes, status, badge_number, division, incident_number, created_at) "
        "VALUES (?,?,1000,'ready',?,?,?,?)",
        clip_rows,
    )
    db.executemany(
        "INSERT INTO clip_tags (clip_id, badge_number, categories, markers, source, created_at) "
        "VALUES (?,?,?,'[]',?,?)",
        tag_rows,
    )
    db.executemany(
        "INSERT INTO review_items (clip_id, state, priority, queued_at, updated_at) VALUES (?,?,?,?,?)", item_rows
    )
    db.executemany(
        "INSERT INTO decisions (clip_id, kind, reviewer_name, rubric, created_at) VALUES (?,?,?,?,?)", decision_rows
    )
    nominations, nominees, awards = [], [], []
    for n, (_clip, badge, division, created) in enumerate(nominated, start=1):
        decided = created + timedelta(days=rng.randint(10, 40))
        state = rng.choices(["approved", "declined", "pending"], weights=[50, 30, 20])[0]
        nominations.append((n, "bench nomination", state, "bench", stamp(created)))
        nominees.append((n, badge))
        if state == "approved" and decided < now:
            awards.append((n, badge, "Act of Excellence", decided.date().isoformat(), division, stamp(decided)))
    db.executemany(
        "INSERT INTO nominations (id, narrative, state, created_by_name, created_at) VALUES (?,?,?,?,?)", nominations
    )
    db.executemany("INSERT INTO nomination_officers (nomination_id, badge_number) VALUES (?,?)", nominees)
    db.executemany(
        "INSERT INTO awards (nomination_id, badge_number, award_name, awarded_on, division, created_at) "
        "VALUES (?,?,?,?,?,?)",
        awards,
    )
    db.execute(
        "INSERT INTO survey_imports (id, filename, sha256, rows, accepted, unchanged, refused, refusals, "
        "imported_by, imported_at) VALUES (1, 'bench.csv', ?, ?, ?, 0, 0, '[]', 'bench', ?)",
        ("0" * 64, surveys, surveys, stamp(now)),
    )
    responses = []
    for s in range(surveys):
        on = (start + timedelta(days=rng.randrange(MONTHS * 30))).date().isoformat()
        score = rng.choices([1, 2, 3, 4, 5], weights=[8, 6, 10, 30, 46])[0]
        clip = rng.randrange(1, clips + 1)
        responses.append(
            (f"S-{s}", f"INC-{clip}", on, rng.choice(DIVISIONS), score, "1-5", (score - 1) / 4, stamp(now))
        )
    db.executemany(
        "INSERT INTO survey_responses (survey_id, incident_number, responded_on, division, score, scale, "
        "satisfaction, comment_shown, import_id, created_at) VALUES (?,?,?,?,?,?,?,'',1,?)",
        responses,
    )
    db.commit()
    db.execute("ANALYZE")
    counts = {}
    for table in ("officers", "clips", "clip_tags", "review_items", "decisions", "nominations", "awards"):
        counts[table] = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    counts["survey_responses"] = db.execute("SELECT count(*) FROM survey_responses").fetchone()[0]
    db.close()
    return counts


class ServerTimer:
    """ASGI wrapper: milliseconds from the request entering the app to its last body chunk (as in
    bench/pages.py, which cannot be imported here: it sets up a data dir of its own on import)."""

    def __init__(self, app):
        self.app, self.last = app, None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()

        async def timed_send(message):
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last = (time.perf_counter() - started) * 1000
            await send(message)

        await self.app(scope, receive, timed_send)


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=100, method="inclusive")[94]


def timed(work, runs: int) -> list[float]:
    work()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=100_000)
    parser.add_argument("--surveys", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=100, help="GETs of each page reading the snapshots")
    parser.add_argument("--fresh-runs", type=int, default=10, help="runs of each figure computed afresh")
    parser.add_argument("--fresh-pages", action="store_true", help="also time the pages computing afresh")
    parser.add_argument("--keep", action="store_true", help=f"keep the seeded data dir ({WORKDIR})")
    args = parser.parse_args()
    try:
        return run(args, random.Random(20261301))
    finally:
        if not args.keep:
            shutil.rmtree(WORKDIR, ignore_errors=True)


def run(args, rng: random.Random) -> int:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.config import get_settings
    from api.db import session_scope
    from api.stats import service as stats
    from api.stats.equity import equity
    from api.surveys.service import csat_by_month
    from tests.accounts import make_user

    started = time.perf_counter()
    upgrade()
    _, token = make_user("bench-program", roles=["reviewer", "committee"])
    counts = seed(args.clips, args.surveys, rng)
    size = sum(p.stat().st_size for p in WORKDIR.glob("bestpart.db*")) / 2**20
    print(
        f"seeded in {time.perf_counter() - started:.0f} s: "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items())
        + f" ({size:.0f} MiB of SQLite)"
    )
    work = f"{counts['clips']:,} clips, {counts['clip_tags']:,} tags, {counts['decisions']:,} decisions"
    print(f"  every figure below reads {work}, {counts['awards']:,} awards, {counts['survey_responses']:,} surveys")
    ok = True

    def line(name: str, times: list[float], judged: bool, extra: str = "") -> None:
        nonlocal ok
        verdict = ""
        if judged:
            verdict = "PASS" if p95(times) < TARGET_MS else "MISS"
            ok = ok and verdict == "PASS"
        print(
            f"  {name:<54} {statistics.median(times):8.1f} {p95(times):8.1f} {max(times):8.1f} "
            f"{p95(times) / TARGET_MS:7.2f}  {verdict:<4} {extra}"
        )

    print(f"\nservice calls, {args.fresh_runs} runs each, ms (computed afresh: the worker's work at each refresh)")
    print(f"  {'call':<54} {'p50':>8} {'p95':>8} {'worst':>8} {'p95/100':>7}")
    with session_scope() as session:
        for name, call in (
            ("stats.dashboard figures (all)", lambda: stats._compute(session)),
            ("  tags per month", lambda: stats._tags_per_month(session)),
            ("  decisions per month", lambda: stats._decisions_per_month(session)),
            ("  by division", lambda: stats._by_division(session)),
            ("  C-SAT per month (surveys.csat_by_month)", lambda: csat_by_month(session)),
            ("stats.queue_ages", lambda: stats.queue_ages(session)),
            ("stats.equity figures", lambda: equity(session)),
        ):
            line(name, timed(call, args.fresh_runs), judged=False)
        figures = equity(session)
    flagged = [r.division for r in figures.review_rates.divisions if r.flagged]
    awards = figures.concentration["awards"]
    print(
        f"  (equity: {figures.officers:,} officers; awards: top 10 % hold {awards.top_decile_share:.0%}, "
        f"Gini {awards.gini:.2f}; flagged: {', '.join(flagged) or 'none'}; seeded slow division: {SLOW_DIVISION})"
    )

    timer = ServerTimer(create_app())
    headers = {"Authorization": f"Bearer {token}"}
    pages = ["/dashboard", "/dashboard/equity", "/api/v1/stats", "/api/v1/stats/equity", "/api/v1/surveys/csat"]
    header = f"  {'page':<54} {'p50':>8} {'p95':>8} {'worst':>8} {'p95/100':>7}"
    with TestClient(timer) as client:

        def get(url):
            def call():
                response = client.get(url, headers=headers)
                assert response.status_code == 200, f"{url}: {response.status_code} {response.text[:300]}"
                return timer.last

            return call

        def server_times(url: str, runs: int) -> list[float]:
            call = get(url)
            call()
            return [call() for _ in range(runs)]

        if args.fresh_pages:
            print(f"\npages computing their figures on every request, {args.fresh_runs} GETs each, server ms")
            print(header)
            for url in pages:
                line(f"{url} (fresh)", server_times(url, args.fresh_runs), judged=False)

        object.__setattr__(get_settings(), "stats_cache_seconds", SNAPSHOT_SECONDS)
        print("\nfirst view of a new install: no snapshot yet, computed on this request (once), server ms")
        for url in pages[:2]:
            once = [get(url)()]
            print(f"  {url:<54} {once[0]:8.1f}")
        with session_scope() as session:  # the worker's first pass: every kind
            took = stats.refresh(session)
        print("  the worker's pass: " + ", ".join(f"{k} {v:.2f} s" for k, v in took.items()))

        print(f"\npages reading the snapshots, {args.runs} GETs each, server ms (inside the ASGI app)")
        print(header)
        line("GET /api/v1/health (floor)", server_times("/api/v1/health", args.runs), judged=False)
        for url in pages:
            line(f"{url} ({label(url)})", server_times(url, args.runs), judged=True, extra=note(url))

        worker = start_worker()
        try:
            deadline = time.monotonic() + 120
            while not refreshed() and time.monotonic() < deadline:  # its first snapshot stored
                time.sleep(0.2)
            before = refreshed()
            print("\n  ... while a worker process computes and replaces every snapshot, back to back")
            print(header)
            for url in pages:
                line(f"{url} ({label(url)}, worker busy)", server_times(url, args.runs), judged=True, extra=note(url))
            print(f"  (the worker stored {refreshed() - before} snapshots while these pages were timed)")
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    print(f"\n{'PASS' if ok else 'MISS'}: every page under {TARGET_MS:.0f} ms p95 reading the snapshots, at {work}")
    return 0 if ok else 1


SNAPSHOT_SECONDS = 30.0  # BESTPART_STATS_CACHE_SECONDS, the default
REFRESHES = WORKDIR / "refreshes.log"  # the worker process writes a line for each snapshot it stores


FRESH_STILL = {
    "/api/v1/surveys/csat": "api/surveys/routes.py computes it per request; stats.csat_cells reads the snapshot"
}


def label(url: str) -> str:
    return "fresh" if url in FRESH_STILL else "snapshot"


def note(url: str) -> str:
    return FRESH_STILL.get(url, "")


def refreshed() -> int:
    """How many snapshots the worker process has stored so far."""
    return len(REFRESHES.read_text().splitlines()) if REFRESHES.exists() else 0


def start_worker() -> subprocess.Popen:
    """A worker process (its own interpreter, as `bestpart worker` runs) whose StatsWatch finds every
    snapshot due at once: BESTPART_STATS_CACHE_SECONDS=1, so it refreshes them back to back."""
    code = (
        "import time\n"
        "from workers.stats import StatsWatch\n"
        "watch = StatsWatch()\n"
        "while True:\n"
        "    stored = watch.check()\n"
        f"    open({str(REFRESHES)!r}, 'a').write(''.join(name + '\\n' for name in stored))\n"
        "    time.sleep(watch.every)\n"
    )
    env = {**os.environ, "BESTPART_STATS_CACHE_SECONDS": "1"}
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
