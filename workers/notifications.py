"""Notification e-mail as a Huey task (the web process enqueues it by name after commit)."""

from api.notifications.mail import mail_notifications
from api.notifications.service import MAIL_JOB
from workers.queue import get_huey

huey = get_huey()


@huey.task(name=MAIL_JOB, retries=3, retry_delay=60)
def mail_task(notification_ids: list[int]) -> None:
    mail_notifications(notification_ids)


JOBS = {MAIL_JOB: mail_task}
