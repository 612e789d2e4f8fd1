"""The password policy: zxcvbn's estimate, with the account's own words as what it guesses first."""

import pytest

from api.users.passwords import MIN_SCORE, WeakPassword, check_password_policy
from tests.accounts import PASSWORD


@pytest.mark.parametrize(
    "password, advice",
    [
        ("Summer2026!!", "Add another word or two"),  # zxcvbn gives no advice of its own here: ours
        ("qwertyuiop123", "This is a very common password."),
        ("Passw0rd2026!", "too easy to guess"),
    ],
)
def test_guessable_passwords_are_refused_with_advice(password, advice):
    with pytest.raises(WeakPassword) as refused:
        check_password_policy(password, "someone")
    assert "too easy to guess" in str(refused.value) and advice in str(refused.value)
    assert f"{MIN_SCORE} is needed" in str(refused.value)


def test_the_accounts_own_words_count_against_a_password():
    strong_for_a_stranger = "brantwickxylo!"
    check_password_policy(strong_for_a_stranger, "dana")
    with pytest.raises(WeakPassword):
        check_password_policy(strong_for_a_stranger, "dana", ("Xylo Brantwick", None))
    with pytest.raises(WeakPassword):
        check_password_policy("Brantwick4711!", "dana", ("Xylo Brantwick", "4711"))


@pytest.mark.parametrize(
    "password",
    [PASSWORD, "lantern orchard velvet 82", "b047b7-765938-79a62a-6ad7e0", "x" * 40 + "lantern orchard velvet 82" * 4],
)
def test_strong_passwords_pass(password):
    check_password_policy(password, "dana", ("Dana Reyes", "4711"))
