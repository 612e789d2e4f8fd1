"""Matching and snippets for the documents a results page shows (pure functions)."""

from api.search.highlight import find, snippet
from api.search.repository import Term
from api.search.service import parse_terms


def marked(body: str, q: str) -> str | None:
    found = find(body, parse_terms(q))
    return snippet(body, found.spans) if found else None


def test_every_term_must_occur_and_each_occurrence_is_marked():
    body = "Narcan is in the bag. Give him the Narcan, now."
    assert (
        marked(body, "narcan bag")
        == "<mark>Narcan</mark> is in the <mark>bag</mark>. Give him the <mark>Narcan</mark>, now."
    )
    assert marked(body, "narcan ambulance") is None


def test_a_word_is_a_prefix_but_a_quoted_word_is_whole():
    assert marked("Keep doing compressions.", "compress") == "Keep doing <mark>compressions</mark>."
    assert marked("Keep doing compressions.", '"compress"') is None
    assert find("AED", [Term(("ae",), prefix=False)]) is None


def test_a_phrase_is_marked_whole_and_only_in_order():
    assert marked("Take a deep breath, sir.", '"deep breath"') == "Take a <mark>deep breath</mark>, sir."
    assert marked("A breath, deep and slow.", '"deep breath"') is None
    assert marked("Evidence EV-2026-0042 logged", "EV-2026-0042") == "Evidence <mark>EV-2026-0042</mark> logged"


def test_case_and_accents_are_folded_like_the_index():
    assert marked("José called 911", "jose") == "<mark>José</mark> called 911"


def test_a_long_passage_is_cut_around_the_first_match():
    body = " ".join(f"w{i}" for i in range(40)) + " tourniquet " + " ".join(f"v{i}" for i in range(40))
    text = marked(body, "tourniquet")
    assert text == "…w36 w37 w38 w39 <mark>tourniquet</mark> v0 v1 v2 v3 v4 v5 v6 v7 v8 v9 v10…"
    assert marked("tourniquet " + body, "tourniquet").startswith("<mark>tourniquet</mark> w0 w1")


def test_the_text_is_escaped_and_only_the_marks_are_html():
    assert (
        marked('5 < 6 & "ok" <b>CPR</b>', "cpr") == "5 &lt; 6 &amp; &quot;ok&quot; &lt;b&gt;<mark>CPR</mark>&lt;/b&gt;"
    )
