"""The web process never loads the worker's heavy libraries: not at start, not on its first upload
(whose probe job it sends by name, without importing the task modules)."""

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("cv2", "faster_whisper", "numpy", "ctranslate2", "onnxruntime")
ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json, sys
from fastapi.testclient import TestClient

import api.app
from api.core import jobs
from api.migrate import upgrade
from tests.accounts import bearer, make_user

upgrade()
app = api.app.create_app()
_, token = make_user(roles=["admin"], badge="4711")
with TestClient(app, headers=bearer(token)) as client, open(sys.argv[1], "rb") as clip:
    response = client.post(
        "/api/v1/clips",
        data={"badge_number": "4711", "categories": "de-escalation"},
        files={"file": ("silent.mkv", clip, "video/x-matroska")},
    )
print(json.dumps({
    "status": response.status_code,
    "clip": response.json().get("id"),
    "queued": sorted(list(job) for job in jobs.queued_jobs()),
    "loaded": sorted(name for name in sys.modules if name.split(".")[0] in sys.argv[2].split(",")),
    "workers": sorted(name for name in sys.modules if name.split(".")[0] == "workers"),
}))
"""


def test_an_upload_loads_none_of_the_worker_libraries(fixtures, tmp_path):
    env = {**os.environ, "BESTPART_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"}
    env.pop("BESTPART_DATABASE_URL", None)
    env.pop("BESTPART_QUEUE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(fixtures / "silent.mkv"), ",".join(HEAVY)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["status"] == 201, seen
    assert seen["queued"] == [["clip.probe", [seen["clip"]]]], "the probe was sent (the worker is not running)"
    assert seen["loaded"] == [], f"the web process loaded {seen['loaded']}"
    assert seen["workers"] == [], f"the web process imported {seen['workers']}"
