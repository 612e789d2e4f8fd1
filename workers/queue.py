"""The job queue, for the worker side: SqliteHuey in the data dir by default, RedisHuey for
BESTPART_QUEUE_URL=redis://. One queue, one map of job names to modules: both live in
api.core.jobs, which the web process uses to send jobs without importing any task module."""

from api.core.jobs import JOB_MODULES, enqueue, get_huey, task_key

__all__ = ["JOB_MODULES", "enqueue", "get_huey", "task_key"]
