"""Turn Whisper's words into the plain tokens that cue patterns are written in.

Whisper attaches punctuation and casing to its words ("Narcan,", "C.P.R.", "Don't") and writes
numbers either way ("911", "nine-one-one"). Patterns and transcripts both go through
`normalise_word`, so an admin can write a pattern the way people speak and it still matches.
"""

import re
from functools import lru_cache

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_EDGES = re.compile(r"^[^\w.']+|[^\w.']+$")
_DOTTED_ACRONYM = re.compile(r"^(?:[a-z0-9]\.){2,}[a-z0-9]?$")  # c.p.r.  a.e.d  e.m.s.
_SPLIT = re.compile(r"[-\u2010-\u2015/.]+")  # 9-1-1, de-escalate, and/or, end of a sentence
_NOT_TOKEN = re.compile(r"[^a-z0-9']")

# Whole-word contractions and spoken forms whose expansion isn't a plain suffix rule.
_SPECIAL = {
    "won't": ("will", "not"),
    "can't": ("can", "not"),
    "cannot": ("can", "not"),
    "shan't": ("shall", "not"),
    "ain't": ("is", "not"),
    "let's": ("let", "us"),
    "y'all": ("you", "all"),
    "gonna": ("going", "to"),
    "wanna": ("want", "to"),
    "gotta": ("got", "to"),
    "'cause": ("because",),
    "cuz": ("because",),
    "ok": ("okay",),
    "o.k": ("okay",),
    "alright": ("all", "right"),
    "im": ("i", "am"),
    "dont": ("do", "not"),
}
_WH = frozenset("how what where why who when".split())
_SUFFIXES = (("n't", "not"), ("'re", "are"), ("'m", "am"), ("'ll", "will"), ("'ve", "have"), ("'d", "would"))
_NUMBERS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen".split()
    )
} | {w: str(10 * i) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
_CLAUSE_END = re.compile(r"[.,;:!?\u2026]['\")\]]*$")
_SENTENCE_END = re.compile(r"[.!?\u2026]['\")\]]*$")


@lru_cache(maxsize=65536)  # a transcript repeats a small vocabulary; this makes long clips cheap
def normalise_word(raw: str) -> tuple[str, ...]:
    """One Whisper word -> zero or more lower-case tokens, contractions expanded, numbers as digits."""
    word = _EDGES.sub("", raw.translate(_APOSTROPHES).lower().strip())
    if _DOTTED_ACRONYM.match(word):
        word = word.replace(".", "")
    tokens: list[str] = []
    for piece in _SPLIT.split(word):
        piece = _NOT_TOKEN.sub("", piece)
        piece = piece.strip("'") if not piece.startswith("'cause") else piece
        if piece:
            tokens.extend(_expand(piece))
    return tuple(tokens)


def _expand(piece: str) -> tuple[str, ...]:
    if piece in _SPECIAL:
        return _SPECIAL[piece]
    if piece in _NUMBERS:
        return (_NUMBERS[piece],)
    if piece.endswith("'d") and piece[:-2] in _WH:  # "how'd your test go": did, not would
        return (piece[:-2], "did")
    for suffix, full in _SUFFIXES:
        if piece.endswith(suffix) and len(piece) > len(suffix):
            return (piece[: -len(suffix)], full)
    if piece.endswith("'s"):
        # "help's coming", "bleeding's stopped": in speech 's is mostly "is" (or "has"). A possessive
        # ("the officer's car") becomes "officer is car", which no sensible pattern trips over.
        return (piece[:-2], "is")
    return (piece.replace("'", ""),)


def ends_clause(raw: str) -> bool:
    """A comma or full stop after the word: negation ("not ...") doesn't reach past it."""
    return bool(_CLAUSE_END.search(raw.strip()))


def ends_sentence(raw: str) -> bool:
    return bool(_SENTENCE_END.search(raw.strip()))
