"""Every page answers in under 50 ms server time at p95 with 10,000 clips in the database.

Seeds a fresh SQLite database (migrated with Alembic, in a temp dir) through bulk SQL inserts, in a
realistic mix: 300 officers; 10,000 clips (90 % ready, 5 % processing, 3 % rejected, 2 % failed)
over two years, each with its upload tag (a third also with the officer's own tag and markers),
its five pipeline stages and its derived assets; a review item for every clip, the ready ones
spread over the states (queued, in review, selected for training, nominated, dismissed, needs
info) with their decisions (some revised) and officers' replies; nominations for the nominated
clips and some selected ones, most decided, with awards for the approved; 60 more users and 40 API
tokens; 8 courses of 5 lessons of 4 to 8 segments with exports; 100,000 audit records, a valid
chain. Ready clips carry the recognizer's result for one of the labelled transcripts in
tests/recognition/transcripts; the clips whose page is timed also get that transcript as
transcript.json in the store (the page reads it; for the other clips it would be missing, which
the page tolerates by showing no transcript).

Then, in-process (fastapi.testclient.TestClient over the real app), 100 GETs of each page with a
bearer token: an admin who is also reviewer, trainer and committee for the staff pages, an officer
(badge with ~35 clips, nominations and awards) for /my and /upload. A few warm-up requests first.

Server time is measured by a pure ASGI wrapper around the app: from the moment the request enters
the app until its last body chunk is handed back, so everything the server does (authentication,
queries, the page's audit writes, rendering) and nothing the TestClient transport adds. The
TestClient wall time per request is reported beside it (p95 "wall"). The floor is the same two
measures of GET /api/v1/health through the same client in the same run: what the framework costs
with no work at all; "x floor" is a page's server p95 over the floor's. PASS/MISS is judged on the
server p95 against 50 ms.

JS+CSS is what the page ships: the /static scripts and stylesheets it links (and the modules they
import), plus its inline <script> and <style>, in bytes (uncompressed).

    .venv/bin/python bench/pages.py [--clips 10000] [--runs 100] [--keep]
"""

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORKDIR = Path(tempfile.mkdtemp(prefix="bestpart-bench-pages-"))
os.environ.update(BESTPART_DATA_DIR=str(WORKDIR), HF_HUB_OFFLINE="1")  # before anything imports settings
for name in ("BESTPART_DATABASE_URL", "BESTPART_QUEUE_URL"):
    os.environ.pop(name, None)

from seed_values import ASSETS, CATEGORIES, DIVISIONS, FIRST, LAST, STAGES  # noqa: E402

from api.audit.models import AuditEvent  # noqa: E402
from api.audit.service import event_hash  # noqa: E402
from api.migrate import upgrade  # noqa: E402
from api.recognition import detect  # noqa: E402

TARGET_MS = 50.0
TRANSCRIPTS = ROOT / "tests" / "recognition" / "transcripts"
STATIC = ROOT / "review_ui" / "static"
# The review states of ready clips, and how many of each.
REVIEW_MIX = {
    "queued": 45,
    "in_review": 3,
    "selected_for_training": 15,
    "nominated": 4,
    "dismissed": 28,
    "needs_info": 5,
}
DECISION_OF = {
    "selected_for_training": "selected_for_training",
    "nominated": "nominated",
    "dismissed": "dismissed",
    "needs_info": "needs_info",
}
OFFICER_BADGE = "4042"  # the officer whose /my is timed
TIMED_CLIPS = 20  # /clips/{id} cycles over this many ready, queued clips with a transcript


def stamp(at: datetime) -> str:
    """How SQLAlchemy keeps a datetime in SQLite (UTC, no zone)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# --- seeding ----------------------------------------------------------------------------------


class Rows(dict):
    def add(self, table: str, *row) -> None:
        self.setdefault(table, []).append(row)


INSERTS = {
    "officers": "INSERT INTO officers (badge_number, name, division, active, updated_at) VALUES (?,?,?,1,?)",
    "users": "INSERT INTO users (id, username, display_name, password_hash, roles, badge_number, active, "
    "must_change_password, created_at) VALUES (?,?,?,?,?,?,1,0,?)",
    "api_tokens": "INSERT INTO api_tokens (name, token_hash, user_id, scope, created_at, last_used_at, revoked_at) "
    "VALUES (?,?,?,?,?,?,?)",
    "clips": "INSERT INTO clips (id, sha256, size_bytes, status, reason, evidence_id, badge_number, recorded_at, "
    "incident_number, division, media_info, created_at, ready_at, recognition, recognition_score, "
    "rules_digest) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,'bench')",
    "clip_tags": "INSERT INTO clip_tags (clip_id, badge_number, evidence_id, categories, markers, note, source, "
    "created_at) VALUES (?,?,?,?,?,?,?,?)",
    "stages": "INSERT INTO stages (clip_id, name, state, progress, attempts, error) VALUES (?,?,?,?,?,?)",
    "assets": "INSERT INTO assets (clip_id, kind, path, content_type, size_bytes, sha256, parent_sha256, tool, "
    "tool_version, arguments, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
    "review_items": "INSERT INTO review_items (clip_id, state, priority, claimed_by, claimed_by_name, "
    "claim_expires_at, queued_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
    "decisions": "INSERT INTO decisions (id, clip_id, kind, reviewer_id, reviewer_name, reason, rubric, notes, "
    "revises_id, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
    "officer_replies": "INSERT INTO officer_replies (clip_id, decision_id, user_id, text, created_at) "
    "VALUES (?,?,?,?,?)",
    "nominations": "INSERT INTO nominations (id, narrative, state, created_by, created_by_name, created_at, "
    "decided_by_name, decided_at, decision_reason, award_name) VALUES (?,?,?,?,?,?,?,?,?,?)",
    "nomination_officers": "INSERT INTO nomination_officers (nomination_id, badge_number) VALUES (?,?)",
    "nomination_clips": "INSERT INTO nomination_clips (nomination_id, clip_id, moments) VALUES (?,?,?)",
    "awards": "INSERT INTO awards (nomination_id, badge_number, award_name, awarded_on, division, created_at) "
    "VALUES (?,?,?,?,?,?)",
    "courses": "INSERT INTO courses (id, title, description, created_by_name, created_at) VALUES (?,?,?,?,?)",
    "lessons": "INSERT INTO lessons (id, course_id, title, summary, position, created_at) VALUES (?,?,?,?,?,?)",
    "lesson_items": "INSERT INTO lesson_items (lesson_id, clip_id, position, title, in_point, out_point, "
    "annotations) VALUES (?,?,?,?,?,?,?)",
    "lesson_exports": "INSERT INTO lesson_exports (lesson_id, state, progress, path, size_bytes, sha256, error, "
    "requested_by_name, created_at, finished_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
    "audit_events": "INSERT INTO audit_events (seq, at, actor, actor_user_id, action, object_type, object_id, "
    "outcome, source, details, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
}


def transcripts() -> list[dict]:
    return [json.loads(p.read_text())["transcript"] for p in sorted(TRANSCRIPTS.glob("*.json"))]


def seed(n: int, rng: random.Random, texts: list[dict], staff: dict) -> dict:
    """Everything but the two accounts the benchmark signs in with (made by the real services)."""
    recognitions = [detect(t).to_dict() for t in texts]
    now = datetime.now(UTC).replace(microsecond=0)
    with sqlite3.connect(WORKDIR / "bestpart.db") as db:  # the migration's rubric; the chain so far
        rubric = [key for (key,) in db.execute("SELECT key FROM rubric_items")]
        head = db.execute("SELECT seq, last_hash FROM audit_head WHERE id = 1").fetchone()
    rows = Rows()
    officers = {f"{4000 + i}": (f"{rng.choice(FIRST)} {rng.choice(LAST)}", rng.choice(DIVISIONS)) for i in range(300)}
    for badge, (name, division) in officers.items():
        rows.add("officers", badge, name, division, stamp(now))

    # Users besides the benchmark's two: reviewers, committee, trainers, officers with accounts.
    people = {"reviewer": [], "committee": [], "trainer": []}
    badges = list(officers)
    roles = ["reviewer"] * 2 + ["committee", "trainer"] + ["officer"] * 6  # user 100 + i has roles[i % 10]
    for i in range(60):
        role = roles[i % len(roles)]
        user_id = 100 + i
        badge = badges[i * 5] if role == "officer" else None
        rows.add(
            "users",
            user_id,
            f"{role}-{i:02d}",
            f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "not-a-hash",
            json.dumps([role]),
            badge,
            stamp(now - timedelta(days=rng.randrange(700))),
        )
        if role in people:
            people[role].append((user_id, f"{role}-{i:02d}"))
    for i in range(40):
        service = i % 3 == 0
        rows.add(
            "api_tokens",
            f"token-{i:02d}",
            uuid.UUID(int=rng.getrandbits(128)).hex * 2,
            None if service else 100 + rng.randrange(60),
            "ingest" if service else None,
            stamp(now - timedelta(days=rng.randrange(400))),
            stamp(now - timedelta(hours=rng.randrange(200))),
            stamp(now - timedelta(days=rng.randrange(30))) if i % 7 == 0 else None,
        )

    reviewers = people["reviewer"] + [staff["admin"]]
    by_state: dict[str, list[int]] = {state: [] for state in REVIEW_MIX}
    clip_facts = {}
    decision_id = 0
    for clip_id in range(1, n + 1):
        badge = OFFICER_BADGE if clip_id % 290 == 0 else rng.choice(badges)  # the timed officer: ~35 clips
        status = rng.choices(["ready", "processing", "rejected", "failed"], [90, 5, 3, 2])[0]
        recorded = now - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
        created = recorded + timedelta(hours=rng.randrange(1, 72))
        evidence = f"EV-{recorded.year}-{clip_id:06d}"
        division = officers[badge][1] if rng.random() < 0.8 else rng.choice(DIVISIONS)
        categories = rng.sample(CATEGORIES, rng.choice([1, 1, 1, 2]))
        pick = rng.randrange(len(texts))
        length = round(texts[pick]["segments"][-1]["end"] + rng.uniform(1, 20), 2)
        recognition = recognitions[pick] if status == "ready" else None
        sha = uuid.UUID(int=rng.getrandbits(128)).hex * 2
        reason = {
            "rejected": "not a video we can process: no video stream",
            "failed": "the proxy stage failed three times: ffmpeg exited 1",
        }.get(status)
        rows.add(
            "clips",
            clip_id,
            sha,
            rng.randrange(10**7, 10**9),
            status,
            reason,
            evidence,
            badge,
            stamp(recorded),
            f"{recorded.year}-{rng.randrange(10**6):06d}",
            division,
            json.dumps({"duration": length, "width": 1280, "height": 720}) if status != "rejected" else None,
            stamp(created),
            stamp(created + timedelta(minutes=3)) if status == "ready" else None,
            json.dumps(recognition) if recognition else None,
            recognition["score"] if recognition else None,
        )
        clip_facts[clip_id] = (badge, pick, length, division, created)
        note = rng.choice([None, None, "offered water and a ride", "stayed with the family", "CPR until EMS arrived"])
        rows.add("clip_tags", clip_id, badge, evidence, json.dumps(categories), "[]", note, "api", stamp(created))
        if rng.random() < 0.33:
            markers = [
                {
                    "at": round(rng.uniform(0, length), 1),
                    "note": rng.choice(["offers water", "calms him down", "starts CPR", "thanks them"]),
                }
                for _ in range(rng.randint(1, 3))
            ]
            rows.add(
                "clip_tags",
                clip_id,
                badge,
                evidence,
                json.dumps(rng.sample(CATEGORIES, 1)),
                json.dumps(markers),
                None,
                "officer",
                stamp(created + timedelta(hours=rng.randrange(1, 48))),
            )
        add_pipeline(rows, rng, clip_id, status, sha, created)

        state = rng.choices(list(REVIEW_MIX), list(REVIEW_MIX.values()))[0] if status == "ready" else "queued"
        claimed = rng.choice(reviewers) if state == "in_review" else None
        queued_at = created + timedelta(minutes=5)
        rows.add(
            "review_items",
            clip_id,
            state,
            recognition["score"] if recognition else 0.0,
            claimed[0] if claimed else None,
            claimed[1] if claimed else None,
            stamp(now + timedelta(minutes=20)) if claimed else None,
            stamp(queued_at),
            stamp(queued_at + timedelta(hours=rng.randrange(1, 200))),
        )
        if status == "ready":
            by_state[state].append(clip_id)
        if state in DECISION_OF:
            decided = queued_at + timedelta(hours=rng.randrange(1, 100))
            kinds = [DECISION_OF[state]]
            if rng.random() < 0.1:  # revised once
                kinds.insert(0, rng.choice(["dismissed", "needs_info", "selected_for_training"]))
            previous = None
            for i, kind in enumerate(kinds):
                decision_id += 1
                reviewer = rng.choice(reviewers)
                reason = {
                    "dismissed": "routine contact; nothing to hold up as an example",
                    "needs_info": "What happened before the camera started?",
                }.get(kind)
                rows.add(
                    "decisions",
                    decision_id,
                    clip_id,
                    kind,
                    reviewer[0],
                    reviewer[1],
                    reason,
                    json.dumps({key: rng.random() < 0.5 for key in rubric}),
                    rng.choice([None, "good tone throughout", "see 1:20"]),
                    previous,
                    stamp(decided + timedelta(minutes=i)),
                )
                previous = decision_id
            if state == "needs_info" and rng.random() < 0.3:
                rows.add(
                    "officer_replies",
                    clip_id,
                    decision_id,
                    104 + 10 * rng.randrange(6),  # an officer
                    "The driver had called us himself.",
                    stamp(decided + timedelta(hours=5)),
                )

    add_nominations(rows, rng, by_state, clip_facts, officers, reviewers, people["committee"] + [staff["admin"]], now)
    lessons = add_curriculum(rows, rng, by_state["selected_for_training"], clip_facts, now)
    head = add_audit(rows, rng, n, reviewers, now, head)

    db = sqlite3.connect(WORKDIR / "bestpart.db", isolation_level=None)
    db.execute("BEGIN")
    for table, statement in INSERTS.items():
        db.executemany(statement, rows.get(table, []))
    db.execute("UPDATE audit_head SET seq = ?, last_hash = ? WHERE id = 1", head)
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return {"by_state": by_state, "facts": clip_facts, "lessons": lessons}


def add_pipeline(rows: Rows, rng: random.Random, clip_id: int, status: str, sha: str, created: datetime) -> None:
    """Stages and assets as the pipeline leaves them for a clip of that status."""
    if status == "ready":
        done = STAGES
    elif status == "processing":
        done = STAGES[: rng.randrange(1, 4)]
    elif status == "failed":
        done = STAGES[:2]
    else:
        done = []
    for name in STAGES:
        if name in done:
            rows.add("stages", clip_id, name, "done", 1.0, 1, None)
        elif status == "processing":
            running = name == STAGES[len(done)]
            rows.add(
                "stages",
                clip_id,
                name,
                "running" if running else "queued",
                round(rng.random(), 2) if running else 0.0,
                int(running),
                None,
            )
        elif status == "failed" and name == "proxy":
            rows.add("stages", clip_id, name, "failed", 0.4, 3, "ffmpeg exited 1")
        elif status == "rejected" and name == "probe":
            rows.add("stages", clip_id, name, "failed", 0.0, 1, "no video stream")
        else:
            rows.add("stages", clip_id, name, "queued", 0.0, 0, None)
    made = {"probe": [], "thumbnails": ASSETS[:3], "proxy": ASSETS[3:4], "transcript": ASSETS[4:6], "recognize": []}
    for name in done:
        for kind, content_type in made[name]:
            rows.add(
                "assets",
                clip_id,
                kind,
                f"derived/{sha[:2]}/{sha}/{kind}",
                content_type,
                rng.randrange(10**4, 10**7),
                sha[:64],
                sha[:64],
                "ffmpeg",
                "7.1",
                "[]",
                stamp(created + timedelta(minutes=2)),
            )


def add_nominations(rows, rng, by_state, facts, officers, reviewers, committee, now) -> None:
    """A nomination for each nominated clip and for a tenth of the selected ones; most decided."""
    nominated = by_state["nominated"] + rng.sample(
        by_state["selected_for_training"], len(by_state["selected_for_training"]) // 10
    )
    timed_officer = [c for c in nominated if facts[c][0] == OFFICER_BADGE]
    if not timed_officer:  # the officer whose /my is timed has some recognition to show
        nominated += [
            c
            for state in ("selected_for_training", "dismissed")
            for c in by_state[state]
            if facts[c][0] == OFFICER_BADGE
        ][:3]
    for nomination_id, clip_id in enumerate(nominated, start=1):
        badge, _, length, division, created = facts[clip_id]
        badges = [badge] + ([rng.choice(list(officers))] if rng.random() < 0.15 else [])
        state = rng.choices(["pending", "approved", "declined"], [30, 55, 15])[0]
        if badge == OFFICER_BADGE and nomination_id % 2:
            state = "approved"
        at = created + timedelta(days=rng.randrange(1, 20))
        decided_at = at + timedelta(days=rng.randrange(1, 30)) if state != "pending" else None
        nominator, decider = rng.choice(reviewers), rng.choice(committee)
        rows.add(
            "nominations",
            nomination_id,
            "Stayed calm with a frightened driver, explained every step, and offered a medic. " * 3,
            state,
            nominator[0],
            nominator[1],
            stamp(at),
            decider[1] if decided_at else None,
            stamp(decided_at) if decided_at else None,
            "not above the standard we expect" if state == "declined" else None,
            "Act of Excellence" if state == "approved" else None,
        )
        for b in dict.fromkeys(badges):
            rows.add("nomination_officers", nomination_id, b)
            if state == "approved":
                rows.add(
                    "awards",
                    nomination_id,
                    b,
                    "Act of Excellence",
                    decided_at.date().isoformat(),
                    officers[b][1],
                    stamp(decided_at),
                )
        rows.add(
            "nomination_clips",
            nomination_id,
            clip_id,
            json.dumps(
                [{"at": round(rng.uniform(0, length), 1), "note": "offers water"} for _ in range(rng.randint(1, 3))]
            ),
        )


def add_curriculum(rows, rng, selected: list[int], facts, now) -> list[int]:
    """8 courses of 5 lessons, each of 4 to 8 segments of clips selected for training; some exports."""
    lessons = []
    for course_id in range(1, 9):
        rows.add(
            "courses",
            course_id,
            f"Course {course_id}: {rng.choice(['De-escalation', 'Community', 'First aid'])}",
            "Segments chosen by the training unit.",
            "trainer-03",
            stamp(now - timedelta(days=300 - course_id)),
        )
        for position in range(5):
            lesson_id = len(lessons) + 1
            lessons.append(lesson_id)
            rows.add(
                "lessons",
                lesson_id,
                course_id,
                f"Lesson {position + 1} of course {course_id}",
                "What to watch for.",
                position,
                stamp(now - timedelta(days=200 - lesson_id)),
            )
            for item in range(rng.randint(4, 8)):
                clip_id = rng.choice(selected)
                length = facts[clip_id][2]
                start = round(rng.uniform(0, max(0.0, length - 12)), 1)
                end = round(min(length, start + rng.uniform(4, 12)), 1)
                rows.add(
                    "lesson_items",
                    lesson_id,
                    clip_id,
                    item,
                    rng.choice([None, "Calm voice", "Explains"]),
                    start,
                    end,
                    json.dumps([{"at": start + 1, "text": "eye level, open hands"}]),
                )
            if lesson_id % 3 == 0:
                done = now - timedelta(days=rng.randrange(60))
                rows.add(
                    "lesson_exports",
                    lesson_id,
                    "done",
                    1.0,
                    f"exports/lesson-{lesson_id}.zip",
                    4_000_000,
                    "0" * 64,
                    None,
                    "trainer-03",
                    stamp(done - timedelta(minutes=2)),
                    stamp(done),
                )
    return lessons


def add_audit(rows, rng, n: int, reviewers, now, head: tuple[int, str], count: int = 100_000) -> tuple[int, str]:
    """`count` more records after the head, chained with the service's own hash: the chain verifies."""
    first, previous = head[0] + 1, head[1]
    start = now - timedelta(days=365)
    step = (now - start) / count
    actions = [
        ("clip.view", "clip"),
        ("clip.stream", "clip"),
        ("review.claim", "clip"),
        ("review.decide", "clip"),
        ("clip.upload", "clip"),
        ("clip.tag", "clip"),
        ("auth.login", "user"),
        ("nomination.create", "nomination"),
    ]
    for seq in range(first, first + count):
        action, object_type = rng.choices(actions, [50, 25, 8, 6, 5, 3, 2, 1])[0]
        actor = rng.choice(reviewers)
        moment = start + step * (seq - first)
        at = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        event = AuditEvent(
            seq=seq,
            at=at,
            actor=actor[1],
            actor_user_id=actor[0],
            action=action,
            object_type=object_type,
            object_id=str(rng.randrange(1, n + 1)),
            outcome="success",
            source="10.0.0.7",
            details={},
            prev_hash=previous,
            hash="",
        )
        event.hash = event_hash(event)
        rows.add(
            "audit_events",
            seq,
            stamp(at),
            event.actor,
            event.actor_user_id,
            action,
            object_type,
            event.object_id,
            "success",
            event.source,
            "{}",
            previous,
            event.hash,
        )
        previous = event.hash
    return first + count - 1, previous


def write_transcripts(clip_ids: list[int], facts: dict, texts: list[dict]) -> None:
    """transcript.json into the store, where the clips' asset rows say it is."""
    from api.clips.service import get_store

    db = sqlite3.connect(WORKDIR / "bestpart.db")
    store = get_store()
    for clip_id in clip_ids:
        (path,) = db.execute(
            "SELECT path FROM assets WHERE clip_id = ? AND kind = 'transcript.json'", (clip_id,)
        ).fetchone()
        target = store.absolute(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(texts[facts[clip_id][1]]))
    db.close()


# --- measuring --------------------------------------------------------------------------------


class ServerTimer:
    """ASGI wrapper: milliseconds from the request entering the app to its last body chunk."""

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


class Assets(HTMLParser):
    """The /static scripts and stylesheets a page links, and its inline script and style bytes."""

    def __init__(self):
        super().__init__()
        self.files, self.inline, self._in = [], 0, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src", "").startswith("/static/"):
            self.files.append(attrs["src"])
        elif tag == "link" and attrs.get("rel") == "stylesheet" and attrs.get("href", "").startswith("/static/"):
            self.files.append(attrs["href"])
        elif tag in ("script", "style") and not attrs.get("src"):
            self._in = tag

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in:
            self.inline += len(data.encode())


IMPORT = re.compile(r"""(?:import|from)\s*["'](/static/[^"']+)["']""")


def shipped_bytes(html: str) -> int:
    parser = Assets()
    parser.feed(html)
    seen, todo = set(), list(parser.files)
    while todo:  # the modules a script imports are shipped too
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        if path.endswith(".js"):
            todo += IMPORT.findall((STATIC / path.removeprefix("/static/")).read_text())
    return sum((STATIC / path.removeprefix("/static/")).stat().st_size for path in seen) + parser.inline


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=100, method="inclusive")[94]


def measure(client, timer: ServerTimer, urls: list[str], headers: dict, runs: int) -> tuple[list, list, str]:
    """(server ms, wall ms, the first response's HTML) over `runs` GETs cycling through `urls`."""
    first = None
    for url in urls[:5]:  # warm-up: imports, template compilation, the database's pages
        response = client.get(url, headers=headers)
        assert response.status_code == 200, f"{url}: {response.status_code} {response.text[:300]}"
        first = first or response.text
    server, wall = [], []
    for i in range(runs):
        url = urls[i % len(urls)]
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        wall.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        server.append(timer.last)
    return server, wall, first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help=f"keep the seeded data dir ({WORKDIR})")
    args = parser.parse_args()
    rng = random.Random(20261125)
    try:
        return run(args, rng)
    finally:
        if not args.keep:
            shutil.rmtree(WORKDIR, ignore_errors=True)


def run(args, rng: random.Random) -> int:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.accounts import make_user

    started = time.perf_counter()
    upgrade()
    admin_id, admin_token = make_user("bench-admin", roles=["admin", "reviewer", "trainer", "committee"])
    _, officer_token = make_user("bench-officer", roles=["officer"], badge=OFFICER_BADGE)
    texts = transcripts()
    seeded = seed(args.clips, rng, texts, {"admin": (admin_id, "bench-admin")})
    facts = seeded["facts"]
    clip_ids = seeded["by_state"]["queued"][:TIMED_CLIPS]
    write_transcripts(clip_ids, facts, texts)
    counts = {}
    with sqlite3.connect(WORKDIR / "bestpart.db") as db:
        for table in (
            "clips",
            "clip_tags",
            "assets",
            "review_items",
            "decisions",
            "nominations",
            "awards",
            "lesson_items",
            "audit_events",
            "users",
        ):
            counts[table] = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    size = sum(p.stat().st_size for p in WORKDIR.glob("bestpart.db*")) / 2**20
    print(
        f"seeded in {time.perf_counter() - started:.0f} s: "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items())
        + f" ({size:.0f} MiB of SQLite)"
    )

    timer = ServerTimer(create_app())
    staff = {"Authorization": f"Bearer {admin_token}"}
    officer = {"Authorization": f"Bearer {officer_token}"}
    lesson = seeded["lessons"][len(seeded["lessons"]) // 2]
    pages = [
        ("/queue", ["/queue"], staff),
        (
            "/queue?state&category&division",
            [f"/queue?state=queued&category={c}&division={d}&order=oldest" for c in CATEGORIES for d in DIVISIONS[:4]],
            staff,
        ),
        ("/queue?text=", [f"/queue?text={t}" for t in ("water", "EV-2026", "Metro", "40")], staff),
        ("/clips/{id}", [f"/clips/{c}" for c in clip_ids], staff),
        ("/my (officer)", ["/my"], officer),
        ("/upload (officer)", ["/upload"], officer),
        ("/nominations", ["/nominations"], staff),
        ("/awards", ["/awards"], staff),
        ("/dashboard", ["/dashboard"], staff),
        ("/curriculum", ["/curriculum"], staff),
        ("/curriculum/lessons/{id}", [f"/curriculum/lessons/{lesson}"], staff),
        ("/admin", ["/admin"], staff),
        ("/admin/audit", ["/admin/audit"], staff),
    ]
    print(f"\n{args.runs} GETs a page, in-process; server = inside the ASGI app, wall = TestClient round trip")
    print(f"  {'page':<34} {'p50':>7} {'p95':>7} {'p95 wall':>9} {'x floor':>8} {'JS+CSS':>9}")
    ok = True
    with TestClient(timer) as client:
        floor, floor_wall, _ = measure(client, timer, ["/api/v1/health"], staff, args.runs)
        print(
            f"  {'GET /api/v1/health (floor)':<34} {statistics.median(floor):7.2f} {p95(floor):7.2f} "
            f"{p95(floor_wall):9.2f} {'':>8} {'':>9}"
        )
        html = client.get(f"/clips/{clip_ids[0]}", headers=staff).text
        assert html.count('class="word') > 10, "the timed clip page shows no transcript"
        for name, urls, headers in pages:
            server, wall, first = measure(client, timer, urls, headers, args.runs)
            good = p95(server) < TARGET_MS
            ok &= good
            print(
                f"  {name:<34} {statistics.median(server):7.2f} {p95(server):7.2f} {p95(wall):9.2f} "
                f"{p95(server) / p95(floor):7.1f}x {shipped_bytes(first):9,}  {'PASS' if good else 'MISS'}"
            )
    print(
        f"\nRESULT: {'PASS' if ok else 'MISS'} (every page p95 < {TARGET_MS:.0f} ms server time, "
        f"{args.clips:,} clips; times in ms, JS+CSS in bytes)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
