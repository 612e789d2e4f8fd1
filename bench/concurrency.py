"""100 concurrent uploads to the real `bestpart serve` while the review queue is read, per backend.

One run per backend (the default SQLite setup, then PostgreSQL + Redis when they answer), each on a
fresh data dir with the embedded worker running, measures:

  idle      GET /api/v1/review/queue 30 times on the idle server: the baseline for the ratio
  uploads   100 distinct small clips (tests/fixtures/silent.mkv with distinct bytes appended, as
            tests/accounts.py fresh_copy does), all started at once, each from its own thread;
            a 503 is retried after its Retry-After (at most 8 tries), as bestpart's clients do
  reads     meanwhile another process (as a reviewer's browser is) GETs the review queue back to
            back, from the moment the uploads start until they are all answered
  check     afterwards every clip must be in GET /api/v1/clips exactly once

Printed: landed / lost / 5xx not retried to success / 503s retried, the queue GET p50 / p95 / max
under load and their ratio to the idle p50, with the work done (uploads, bytes, queue reads).

Targets: 100 land, 0 5xx that were not retried to success, queue GET p95 < 250 ms.
Only 127.0.0.1 is contacted; the request count is bounded (uploads x tries, reads capped).
"""

import argparse
import hashlib
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx

from tests.services import backend_env, running_service, upload_retrying

FIXTURE = ROOT / "tests" / "fixtures" / "silent.mkv"
UPLOADS = 100
MAX_TRIES = 8
MAX_READS = 20_000
IDLE_READS = 30
TARGET_P95_MS = 250
BACKENDS = ("sqlite", "postgres+redis")


@dataclass
class Outcome:
    """One upload: every status it got, in order."""

    sha256: str
    statuses: list[int] = field(default_factory=list)
    error: str | None = None

    @property
    def landed(self) -> bool:
        return bool(self.statuses) and self.statuses[-1] in (200, 201)


def make_clips(folder: Path, count: int) -> list[Path]:
    """Distinct small clips: the fixture with distinct bytes appended (the API sniffs the head)."""
    base = FIXTURE.read_bytes()
    clips = [folder / f"clip-{n}.mkv" for n in range(count)]
    for n, clip in enumerate(clips):
        clip.write_bytes(base + f"bench-concurrency-{n}".encode())
    return clips


def upload_once_ready(client: httpx.Client, clip: Path, start: threading.Event) -> Outcome:
    outcome = Outcome(hashlib.sha256(clip.read_bytes()).hexdigest())
    start.wait()
    try:
        outcome.statuses = [r.status_code for r in upload_retrying(client, clip, tries=MAX_TRIES)]
    except httpx.HTTPError as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"
    return outcome


def read_queue(client: httpx.Client, stop: threading.Event, limit: int) -> tuple[list[float], list[int]]:
    """Seconds per GET of the review queue, and any status that was not 200."""
    seconds, failures = [], []
    while not stop.is_set() and len(seconds) < limit:
        began = time.perf_counter()
        try:
            status = client.get("/api/v1/review/queue").status_code
        except httpx.HTTPError:
            status = -1
        seconds.append(time.perf_counter() - began)
        if status != 200:
            failures.append(status)
    return seconds, failures


def recorded(client: httpx.Client) -> list[str]:
    """The sha256 of every clip the server lists (all pages)."""
    shas, offset = [], 0
    while page := client.get("/api/v1/clips", params={"limit": 500, "offset": offset}).json():
        shas += [clip["sha256"] for clip in page]
        offset += len(page)
    return shas


def read_queue_process(options: dict, start, stop, out) -> None:
    """The review team's browser: a process of its own, so the uploaders' threads (and their share
    of this process's GIL) do not slow the reads being measured."""
    with httpx.Client(**options) as client:
        start.wait()
        out.put(read_queue(client, stop, MAX_READS))


def run(backend: str, workdir: Path, with_worker: bool) -> dict:
    env = backend_env(backend, workdir / "data")
    env.setdefault("BESTPART_MODEL_DIR", str(ROOT / "test-output" / "models"))  # assembled once, shared
    clips = make_clips(workdir, UPLOADS)
    with running_service(env, workdir / "serve.log", with_worker=with_worker) as admin:
        options = {"base_url": str(admin.base_url), "headers": dict(admin.headers), "timeout": 120}
        with httpx.Client(**options) as reader:
            idle, _ = read_queue(reader, threading.Event(), IDLE_READS)
        spawn = multiprocessing.get_context("spawn")
        start, stop, out = spawn.Event(), spawn.Event(), spawn.Queue()
        reads = spawn.Process(target=read_queue_process, args=(options, start, stop, out))
        reads.start()
        with (
            httpx.Client(**options, limits=httpx.Limits(max_connections=UPLOADS)) as uploads,
            ThreadPoolExecutor(UPLOADS) as pool,
        ):
            futures = [pool.submit(upload_once_ready, uploads, clip, start) for clip in clips]
            time.sleep(1)  # the reader process is up (httpx imported) before the uploads start
            began = time.perf_counter()
            start.set()
            outcomes = [future.result() for future in futures]
            elapsed = time.perf_counter() - began
        stop.set()
        loaded, read_failures = out.get(timeout=300)
        reads.join()
        shas = recorded(admin)
    return {
        "outcomes": outcomes,
        "idle": idle,
        "loaded": loaded,
        "read_failures": read_failures,
        "elapsed": elapsed,
        "bytes": sum(clip.stat().st_size for clip in clips),
        "shas": shas,
        "log": workdir / "serve.log",
    }


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(backend: str, figures: dict) -> bool:
    outcomes = figures["outcomes"]
    counts = {sha: figures["shas"].count(sha) for sha in (o.sha256 for o in outcomes)}
    landed = sum(o.landed and counts[o.sha256] == 1 for o in outcomes)
    lost = sum(counts[o.sha256] == 0 for o in outcomes)
    twice = sum(counts[o.sha256] > 1 for o in outcomes)
    final_5xx = sum(bool(o.statuses) and o.statuses[-1] >= 500 for o in outcomes)
    retried_503 = sum(o.statuses.count(503) for o in outcomes if o.landed)
    errors = [o.error for o in outcomes if o.error]
    other = sorted({o.statuses[-1] for o in outcomes if o.statuses and o.statuses[-1] not in (200, 201, 503)})
    loaded_ms = [s * 1000 for s in figures["loaded"]]
    idle_p50 = statistics.median(figures["idle"]) * 1000
    p50, p95, worst = statistics.median(loaded_ms), percentile(loaded_ms, 95), max(loaded_ms)
    print(
        f"\n[{backend}] {UPLOADS} uploads ({figures['bytes'] / 1e6:.1f} MB) in {figures['elapsed']:.1f} s "
        f"({UPLOADS / figures['elapsed']:.1f} uploads/s), {len(loaded_ms)} queue reads meanwhile "
        f"({len(figures['read_failures'])} not 200: {sorted(set(figures['read_failures']))})"
    )
    print(
        f"  landed {landed}/{UPLOADS} (target {UPLOADS}) {verdict(landed == UPLOADS)}; lost {lost}; "
        f"recorded twice {twice}; 503s retried to success {retried_503}"
    )
    print(
        f"  5xx not retried to success: {final_5xx} (target 0) {verdict(final_5xx == 0)}"
        + (f"; other final statuses {other}" if other else "")
        + (f"; transport errors {len(errors)}: {errors[0]}" if errors else "")
    )
    print(
        f"  queue GET under load: p50 {p50:.0f} ms, p95 {p95:.0f} ms (target < {TARGET_P95_MS}) "
        f"{verdict(p95 < TARGET_P95_MS)}, max {worst:.0f} ms; idle p50 {idle_p50:.0f} ms "
        f"(p95 loaded / p50 idle: {p95 / idle_p50:.1f})"
    )
    ok = landed == UPLOADS and final_5xx == 0 and not errors and p95 < TARGET_P95_MS
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=(*BACKENDS, "all"), default="all")
    parser.add_argument("--no-worker", action="store_true", help="serve --no-worker (uploads and reads only)")
    parser.add_argument("--keep", action="store_true", help="keep the data dirs and server logs")
    args = parser.parse_args()
    results = []
    for backend in BACKENDS if args.backend == "all" else (args.backend,):
        workdir = Path(tempfile.mkdtemp(prefix=f"bestpart-concurrency-{backend.replace('+', '-')}-"))
        ok = False
        try:
            ok = report(backend, run(backend, workdir, not args.no_worker))
            results.append(ok)
        except BaseException as exc:  # pytest.skip from backend_env: that backend is not reachable here
            if type(exc).__name__ != "Skipped":
                raise
            print(f"\n[{backend}] SKIP: {exc}")
            ok = True
        finally:
            if args.keep or not ok:  # a MISS keeps its server log to read
                print(f"  kept {workdir} (server log: {workdir / 'serve.log'})")
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
