"""How long a source address, or an account, must wait before its next password sign-in.

Growing delays, counted from the LoginAttempt rows: after `free` failures (since the last success,
within `window`), each further attempt must come at least base * 2**(failures - free) seconds (at
most `cap`) after the last failure. Nothing sleeps: a caller who comes too early is told how long
to wait (429 with Retry-After). Attempts refused this way are not counted, so someone hammering an
account does not lengthen its real user's wait.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.users.models import LoginAttempt


@dataclass(frozen=True)
class Rule:
    free: int  # failures before any wait
    base_seconds: float
    cap_seconds: float
    window: timedelta  # older failures are forgotten

    def delay(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.cap_seconds, self.base_seconds * 2 ** (failures - self.free))


# One address may be a whole office behind one router: it gets more room than one account.
PER_ADDRESS = Rule(free=20, base_seconds=1, cap_seconds=15 * 60, window=timedelta(minutes=15))
# The account's own lock (5 failures) comes soon after; this spaces out the guesses before it, and
# its cap stays short, since anyone may run up an account's count.
PER_ACCOUNT = Rule(free=3, base_seconds=2, cap_seconds=5 * 60, window=timedelta(minutes=15))


@dataclass(frozen=True)
class Failures:
    count: int
    last_at: datetime | None


def failures(session: Session, column, value: str, since: datetime) -> Failures:
    """Failed attempts where `column` is `value`, after `since` and after the last success."""
    last_success = session.exec(
        select(func.max(LoginAttempt.at)).where(column == value, LoginAttempt.succeeded, LoginAttempt.at >= since)
    ).one()
    if last_success is not None:
        since = max(since, last_success)
    count, last_at = session.exec(
        select(func.count(), func.max(LoginAttempt.at)).where(
            column == value, ~col(LoginAttempt.succeeded), LoginAttempt.at >= since
        )
    ).one()
    return Failures(count, last_at)


def wait_seconds(session: Session, rule: Rule, column, value: str | None, moment: datetime) -> int:
    """Whole seconds until the next attempt may be tried; 0: now."""
    if not value:
        return 0
    seen = failures(session, column, value, moment - rule.window)
    if seen.last_at is None:
        return 0
    ready_at = seen.last_at + timedelta(seconds=rule.delay(seen.count))
    return max(0, math.ceil((ready_at - moment).total_seconds()))


def sign_in_wait(session: Session, account_key: str, source: str | None, moment: datetime) -> tuple[int, str]:
    """The longer of the two waits, and which rule asked for it ("address" or "account")."""
    by_address = wait_seconds(session, PER_ADDRESS, LoginAttempt.source, source, moment)
    by_account = wait_seconds(session, PER_ACCOUNT, LoginAttempt.username, account_key, moment)
    return (by_address, "address") if by_address >= by_account else (by_account, "account")
