"""Survey comments checked for personal details, as a Huey task (the import enqueues it)."""

from api.db import session_scope
from api.surveys.service import REDACT_JOB, redact_comments
from workers.queue import get_huey

huey = get_huey()


@huey.task(name=REDACT_JOB, retries=2, retry_delay=30)
def redact_task(import_id: int) -> None:
    with session_scope() as session:
        redact_comments(session, import_id)


JOBS = {REDACT_JOB: redact_task}
