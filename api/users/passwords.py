"""Password hashing (argon2 via pwdlib) and the password policy."""

from functools import lru_cache

from pwdlib import PasswordHash

MIN_LENGTH = 12

# Long enough to pass the length rule, and still among the first guesses of any attacker.
COMMON = {
    "password1234", "password12345", "password123456", "passwordpassword", "123456789012",
    "1234567890123", "12345678901234", "qwertyuiop12", "qwertyuiopasdf", "qwerty123456",
    "iloveyou1234", "letmein12345", "welcome12345", "welcome123456", "administrator",
    "admin1234567", "changeme1234", "changeme12345", "abcdefghijkl", "abc123456789",
    "aaaaaaaaaaaa", "111111111111", "000000000000", "1q2w3e4r5t6y", "1qaz2wsx3edc",
    "trustno11234", "football1234", "baseball1234", "sunshine1234", "princess1234",
    "dragon123456", "monkey123456", "master123456", "superman1234", "batman123456",
    "policepolice", "police123456", "officer12345", "sheriff12345", "bestpart1234",
    "passw0rd1234", "p@ssw0rd1234", "p@ssword1234", "correcthorsebatterystaple",
}


class WeakPassword(ValueError):
    pass


@lru_cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _hasher().verify(password, password_hash)


def check_password_policy(password: str, username: str = "") -> None:
    """Raise WeakPassword with the reason, or return quietly."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"the password must be at least {MIN_LENGTH} characters long")
    lowered = password.lower()
    if lowered in COMMON or len(set(lowered)) <= 2:
        raise WeakPassword("the password is too common; choose another")
    if username and username.lower() in lowered:
        raise WeakPassword("the password must not contain the username")


# Spent on unknown usernames too, so that timing does not tell which usernames exist.
DUMMY_HASH = None


def dummy_verify(password: str) -> None:
    global DUMMY_HASH
    if DUMMY_HASH is None:
        DUMMY_HASH = hash_password("not-a-real-password-for-timing")
    verify_password(password, DUMMY_HASH)
