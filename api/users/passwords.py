"""Password hashing (argon2 via pwdlib) and the password policy (zxcvbn's strength estimate)."""

from collections.abc import Iterable
from functools import lru_cache

from pwdlib import PasswordHash
from zxcvbn import zxcvbn

from api.core.errors import Invalid

MIN_LENGTH = 12
# zxcvbn's scores: 3 means fewer than 10^10 guesses, 4 at least that. Score 3 still admits the
# first guesses of a password spray ("Summer2026!!", "Winter2025!!", "Police2026!!" all score 3:
# zxcvbn rates every word + digits + symbols password at 10^8 guesses or more), so we want 4.
MIN_SCORE = 4
# zxcvbn refuses longer input (its matching grows fast with the length): the strength of a longer
# password is judged by its start, which only underrates it.
ZXCVBN_MAX_LENGTH = 72
DEFAULT_ADVICE = "Add another word or two. Uncommon words are better."


class WeakPassword(Invalid):
    """The password policy refused a password (answered 422 with the reason and advice)."""


@lru_cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _hasher().verify(password, password_hash)


def check_password_policy(password: str, username: str = "", others: Iterable[str | None] = ()) -> None:
    """Raise WeakPassword with the reason and zxcvbn's advice, or return quietly.

    `others` are further words an attacker would try for this account (display name, badge number)."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"the password must be at least {MIN_LENGTH} characters long")
    if username and username.lower() in password.lower():
        raise WeakPassword("the password must not contain the username")
    inputs = _user_inputs(username, others)
    estimate = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=inputs)
    if estimate["score"] < MIN_SCORE:
        raise WeakPassword(_too_weak(estimate))


def _user_inputs(username: str, others: Iterable[str | None]) -> list[str]:
    """The account's own words, whole and split (a display name "Dana Reyes" gives "dana", "reyes")."""
    words = [w for w in (username, *others) if w]
    return sorted({part.lower() for w in words for part in (w, *w.replace("-", " ").replace(".", " ").split())})


def _too_weak(estimate: dict) -> str:
    feedback = estimate["feedback"]
    advice = " ".join(filter(None, [feedback.get("warning"), *feedback.get("suggestions", [])])) or DEFAULT_ADVICE
    return f"the password is too easy to guess (strength {estimate['score']} of 4; {MIN_SCORE} is needed). {advice}"


# Spent on unknown usernames too, so that timing does not tell which usernames exist.
DUMMY_HASH = None


def dummy_verify(password: str) -> None:
    global DUMMY_HASH
    if DUMMY_HASH is None:
        DUMMY_HASH = hash_password("not-a-real-password-for-timing")
    verify_password(password, DUMMY_HASH)
