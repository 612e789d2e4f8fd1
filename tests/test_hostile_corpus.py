"""Hundreds of hostile files (tests.fuzz.corpus) through the real `bestpart serve` and its worker.

Whatever a file does, the server answers it without a 5xx, every clip settles as ready or
rejected (never failed: that is for our own faults, and never left processing), a rejection says
why, and no byte of a local file the files point at (a secret beside the test, /etc/passwd)
reaches anything the service wrote.
"""

import collections
import secrets
import time
from pathlib import Path

import httpx
import pytest

from media.ffmpeg import ffmpeg_exe
from tests.fuzz.corpus import Hostile, build_corpus
from tests.services import backend_env, running_service, wait_until

SEED = 20240611
SETTLE_SECONDS = 900
UPLOAD_STATUSES = {200, 201, 400, 413, 415, 422}  # 200: the same bytes again (a duplicate)


@pytest.fixture(scope="module")
def secret(tmp_path_factory) -> tuple[Path, bytes]:
    path = tmp_path_factory.mktemp("secret") / "secret.txt"
    content = f"CONFIDENTIAL-{secrets.token_hex(8)}\n".encode()
    path.write_bytes(content)
    return path, content.strip()


@pytest.fixture(scope="module")
def corpus(fixtures, secret) -> list[Hostile]:
    return build_corpus(fixtures, SEED, ffmpeg_exe(), secret[0])


@pytest.fixture(scope="module")
def outcome(tmp_path_factory, corpus) -> dict:
    """Every file uploaded, then every clip waited for: responses, clips and the data dir."""
    data = tmp_path_factory.mktemp("hostile")
    env = {**backend_env("sqlite", data), "BESTPART_WHISPER_MODEL": "tiny"}  # the garbage's words don't matter
    started = time.monotonic()
    with running_service(env, data / "serve.log") as client:
        uploads = [(item, _upload(client, item)) for item in corpus]
        clips = _settled_clips(client)
        health = client.get("/api/v1/health")
    by_id = collections.defaultdict(list)
    for item, response in uploads:
        if response.status_code in (200, 201):
            by_id[response.json()["id"]].append(item)
    print(
        f"\n{len(corpus)} hostile files in {time.monotonic() - started:.0f} s; uploads: "
        f"{dict(collections.Counter(r.status_code for _, r in uploads))}; clips: "
        f"{dict(collections.Counter(c['status'] for c in clips))}"
    )
    return {"uploads": uploads, "clips": clips, "by_id": by_id, "data": data, "health": health}


def _upload(client: httpx.Client, item: Hostile) -> httpx.Response:
    data = {"badge_number": "4711", "categories": "de-escalation"}
    return client.post("/api/v1/clips", data=data, files={"file": (item.name, item.data, "video/mp4")})


def _settled_clips(client: httpx.Client) -> list[dict]:
    def none_processing() -> bool:
        return client.get("/api/v1/clips", params={"status": "processing", "limit": 1}).json() == []

    wait_until(none_processing, SETTLE_SECONDS, f"clips still processing after {SETTLE_SECONDS} s", interval=1)
    clips, offset = [], 0
    while page := client.get("/api/v1/clips", params={"limit": 500, "offset": offset}).json():
        clips += page
        offset += len(page)
    return clips


def _recipes(outcome: dict, clip: dict) -> str:
    return "; ".join(item.recipe for item in outcome["by_id"][clip["id"]])


def test_the_corpus_is_large_and_deterministic(fixtures, corpus, secret):
    assert len(corpus) >= 300
    kinds = collections.Counter(item.kind for item in corpus)
    assert {
        "bitflip",
        "truncate",
        "splice",
        "concat",
        "wrong-extension",
        "tiny",
        "giant-size",
        "giant-field",
        "duration",
        "polyglot",
        "local-path",
        "resolution-change",
    } <= set(kinds)
    again = build_corpus(fixtures, SEED, ffmpeg_exe(), secret[0])
    assert [item.data for item in again] == [item.data for item in corpus]


def test_no_upload_gets_a_server_error(outcome):
    unexpected = [
        (item.recipe, r.status_code, r.text[:200])
        for item, r in outcome["uploads"]
        if r.status_code not in UPLOAD_STATUSES
    ]
    assert unexpected == []
    assert outcome["health"].json() == {"status": "ok"}


def test_every_clip_settles_ready_or_rejected_never_failed(outcome):
    statuses = collections.Counter(clip["status"] for clip in outcome["clips"])
    failed = [(clip["reason"], _recipes(outcome, clip)) for clip in outcome["clips"] if clip["status"] == "failed"]
    assert failed == []
    assert set(statuses) <= {"ready", "rejected"}
    assert statuses["ready"] > 0 and statuses["rejected"] > 0  # the corpus has both, or it tests nothing


def test_every_rejection_says_why(outcome):
    vague = [
        (clip["reason"], _recipes(outcome, clip))
        for clip in outcome["clips"]
        if clip["status"] == "rejected" and len(clip["reason"] or "") < 15
    ]
    assert vague == []
    refused = [r for _, r in outcome["uploads"] if r.status_code == 415]
    assert refused and all(len(r.json()["detail"]) >= 15 for r in refused)


def test_pictures_past_the_cap_mid_stream_are_rejected(outcome):
    for clip in outcome["clips"]:
        names = {item.name for item in outcome["by_id"][clip["id"]]}
        if names & {"size-past-cap.mp4", "size-past-cap.mkv"}:
            assert clip["status"] == "rejected" and "4128x4128" in clip["reason"], clip
        if names & {"size-within-cap.mp4", "size-within-cap.mkv"}:
            assert clip["status"] == "ready", clip


def test_impossible_durations_are_rejected(outcome):
    for clip in outcome["clips"]:
        recipes = _recipes(outcome, clip)
        if any(f"Duration {value}" in recipes for value in ("0.0", "-1.0", "nan", "1e-09")):
            assert clip["status"] == "rejected" and "duration" in clip["reason"], (recipes, clip)
        if clip["status"] == "ready":
            assert clip["media"]["duration"] > 0, (recipes, clip)


def test_no_local_file_reaches_anything_the_service_wrote(outcome, secret):
    """ffmpeg's playlists, concat and metadata tricks: nothing they name may be read into an output."""
    local = [secret[1], *_first_lines(Path("/etc/passwd"))]
    leaks = []
    for path in outcome["data"].rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            leaks += [(str(path), needle) for needle in local if needle in content]
    assert leaks == []


def _first_lines(path: Path) -> list[bytes]:
    """A few distinctive lines of a local file (lines, since its path alone is in the uploads)."""
    lines = path.read_bytes().splitlines() if path.exists() else []
    return [line for line in lines[:3] if len(line) > 12]
