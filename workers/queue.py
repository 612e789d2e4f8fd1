"""The job queue: SqliteHuey in the data dir by default, RedisHuey for BESTPART_QUEUE_URL=redis://.

Callers enqueue by job name (`clip.probe`); only the worker imports the task functions.
"""

import importlib
from functools import lru_cache

from huey import RedisHuey, SqliteHuey

from api.config import get_settings

# Job name prefix → the module whose JOBS dict holds those tasks.
JOB_MODULES = {"clip.": "workers.tasks", "clips.": "workers.tasks", "lesson.": "workers.exports"}


@lru_cache
def get_huey():
    settings = get_settings()
    url = settings.resolved_queue_url
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("bestpart", url=url)
    if url.startswith("sqlite:///"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return SqliteHuey("bestpart", filename=url.removeprefix("sqlite:///"), timeout=30)
    raise ValueError(f"BESTPART_QUEUE_URL must be redis://… or sqlite:///…, not {url!r}")


def enqueue(job_name: str, *args) -> None:
    """Send a job by its name; only the worker side imports the task modules' heavy dependencies."""
    module = next(m for prefix, m in JOB_MODULES.items() if job_name.startswith(prefix))
    importlib.import_module(module).JOBS[job_name](*args)
