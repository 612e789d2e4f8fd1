"""Shared test set-up. The in-process app gets its own data dir before anything imports settings."""

import os
import tempfile
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
_SESSION_DATA = Path(tempfile.mkdtemp(prefix="bestpart-test-"))
os.environ["BESTPART_DATA_DIR"] = str(_SESSION_DATA)
os.environ["BESTPART_STATS_CACHE_SECONDS"] = "0"  # tests read the figures right after changing them
# Whisper base is assembled (145 MB) once for every test and server the suite starts, not per data dir.
os.environ["BESTPART_MODEL_DIR"] = str(Path(__file__).parent.parent / "test-output" / "models")
for _name in ("BESTPART_DATABASE_URL", "BESTPART_QUEUE_URL"):
    os.environ.pop(_name, None)

import pytest  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def speech_text() -> str:
    return (FIXTURES / "speech.txt").read_text().strip()


@pytest.fixture(scope="session")
def app():
    from api.app import create_app
    from api.migrate import upgrade

    upgrade()
    return create_app()


@pytest.fixture(scope="session")
def app_client(app):
    """The app in-process on SQLite (no worker: jobs wait in the queue), as an admin and reviewer."""
    from fastapi.testclient import TestClient

    from tests.accounts import make_user

    _, token = make_user("tester", ["admin", "reviewer"], badge="4711")
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture(scope="session")
def anonymous(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        yield client
