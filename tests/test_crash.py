"""A worker killed with SIGKILL in the middle of a transcription loses nothing and duplicates nothing."""

import json
import signal
import sqlite3
import subprocess

import pytest

from media import ffmpeg
from tests.services import backend_env, bestpart, wait_until

LEASE_SECONDS = "2"


def query(db, sql: str, *params):
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture
def long_speech(fixtures, tmp_path):
    """The speech fixture four times over (about a minute): long enough to kill mid-way."""
    out = tmp_path / "long_speech.mp4"
    subprocess.run(
        [
            *ffmpeg.base_args(),
            "-stream_loop",
            "3",
            "-i",
            str(fixtures / "speech.mp4"),
            "-c",
            "copy",
            "-movflags",
            "+faststart",
            str(out),
        ],
        check=True,
    )
    return out


def test_sigkill_mid_transcription_then_restart_gives_exactly_one_transcript(long_speech, tmp_path):
    # No vocabulary: this test is about the lease, not about what Whisper hears.
    env = {
        **backend_env("sqlite", tmp_path / "data"),
        "BESTPART_STAGE_LEASE_SECONDS": LEASE_SECONDS,
        "BESTPART_WHISPER_VOCABULARY": "",
    }
    db = tmp_path / "data" / "bestpart.db"
    ingest = bestpart(
        "ingest",
        str(long_speech),
        "--badge",
        "77",
        "--category",
        "life-saving",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert ingest.wait(timeout=60) == 0, ingest.stdout.read()
    (clip_id,) = query(db, "SELECT id FROM clips")[0]

    def transcript_stage():
        return query(
            db,
            "SELECT state, progress, attempts, lease_owner FROM stages WHERE clip_id = ? AND name = 'transcript'",
            clip_id,
        )[0]

    logs = [open(tmp_path / f"worker{i}.log", "wb") for i in (1, 2)]
    first = bestpart("worker", env=env, stdout=logs[0], stderr=subprocess.STDOUT)
    try:
        # Mid-transcription, known from the stage's own progress (not from a pause that a faster
        # machine would outrun): some of the minute is transcribed, not all of it.
        wait_until(
            lambda: transcript_stage()[0] == "running" and 0 < transcript_stage()[1] < 1,
            180,
            "the transcription never reported progress mid-way",
            interval=0.05,
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        first.kill()
    state, progress, attempts, owner = transcript_stage()
    assert state == "running" and progress < 1 and attempts == 1 and owner, "killed mid-way"
    assert not query(db, "SELECT 1 FROM assets WHERE clip_id = ? AND kind = 'transcript.json'", clip_id)

    second = bestpart("worker", env=env, stdout=logs[1], stderr=subprocess.STDOUT)
    try:
        wait_until(
            lambda: query(db, "SELECT status FROM clips WHERE id = ?", clip_id)[0][0] != "processing",
            180,
            "the clip never became ready after the restart",
        )
    finally:
        second.terminate()
        second.wait(timeout=30)
    assert query(db, "SELECT status, reason FROM clips WHERE id = ?", clip_id)[0] == ("ready", None)
    state, progress, attempts, owner = transcript_stage()
    assert (state, progress, attempts, owner) == ("done", 1.0, 2, None)

    rows = query(db, "SELECT path FROM assets WHERE clip_id = ? AND kind = 'transcript.json'", clip_id)
    assert len(rows) == 1, "exactly one transcript"
    store = tmp_path / "data" / "store"
    assert len(list(store.glob("derived/*/*/transcript*"))) == 1
    transcript = json.loads((store / rows[0][0]).read_text())
    # What Whisper hears is tested elsewhere (tests/test_pipeline.py); here, that the rerun wrote one
    # whole transcript of its own.
    assert transcript["segments"] and all(s["words"] for s in transcript["segments"])
    assert transcript["segments"] == sorted(transcript["segments"], key=lambda s: s["start"])
    assert "requeued" in (tmp_path / "worker2.log").read_text()
