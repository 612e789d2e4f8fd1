"""Where the terms of a query occur in a document, and the highlighted snippet around them.

Used for the few documents of the clips a results page shows. Words are split as both indexes
split them (runs of letters and digits) and compared with case and accents folded, as FTS5 does.
"""

import html
import math
import re
import unicodedata
from dataclasses import dataclass

from api.search.repository import Term

_WORD = re.compile(r"[^\W_]+")
SNIPPET_WORDS = 16
LEAD_WORDS = 4  # words shown before the first match


@dataclass
class Found:
    spans: list[tuple[int, int]]  # character ranges of the matched words, in order
    score: float  # occurrences per square root of length: a short passage full of the words first


def fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def find(body: str, terms: list[Term]) -> Found | None:
    """The matches of every term in the body, or None if a term does not occur in it."""
    words = [(m.start(), m.end(), fold(m.group())) for m in _WORD.finditer(body)]
    spans: set[tuple[int, int]] = set()
    for term in terms:
        found = _occurrences(words, term)
        if not found:
            return None
        spans.update(found)
    return Found(sorted(spans), round(len(spans) / math.sqrt(max(1, len(words))), 4))


def _occurrences(words: list[tuple[int, int, str]], term: Term) -> list[tuple[int, int]]:
    wanted = [fold(token) for token in term.tokens]
    last = len(wanted) - 1
    found = []
    for i in range(len(words) - last):
        if all(_same(words[i + k][2], token, term.prefix and k == last) for k, token in enumerate(wanted)):
            found.append((words[i][0], words[i + last][1]))
    return found


def _same(word: str, token: str, prefix: bool) -> bool:
    return word.startswith(token) if prefix else word == token


def snippet(body: str, spans: list[tuple[int, int]], size: int = SNIPPET_WORDS) -> str:
    """About `size` words from a little before the first match: HTML-escaped (the text came from
    outside), matched words in <mark>, an ellipsis where text was cut."""
    words = list(_WORD.finditer(body))
    first = next(i for i, w in enumerate(words) if w.end() > spans[0][0])
    low = max(0, min(first - LEAD_WORDS, len(words) - size))
    high = min(len(words), low + size)
    start = words[low].start() if low else 0
    end = words[high - 1].end() if high < len(words) else len(body)
    pieces, at = [], start
    for left, right in spans:
        if right <= start or left >= end:
            continue
        left, right = max(left, start), min(right, end)
        pieces += [html.escape(body[at:left]), "<mark>", html.escape(body[left:right]), "</mark>"]
        at = right
    pieces.append(html.escape(body[at:end]))
    return ("…" if low else "") + "".join(pieces).strip() + ("…" if high < len(words) else "")
