"""Scoring for the ASR evaluation: word normalisation, WER, words kept, speaker attribution.

Pure functions: a reference dict (generate.py's ref.json) and a transcript dict
({"segments": [{"text", "words": [{"start", "end", "word", "speaker", ...}], ...}]}) in, numbers out.
"""

import re

ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
ORDINALS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
# Spoken one digit at a time, whatever their size (espeak and people alike)
SPOKEN_AS_DIGITS = {"911", "988"}
SPELLINGS = {
    "ok": "okay",
    "alright": "all right",
    "mr": "mister",
    "mrs": "missus",
    "ms": "miss",
    "dr": "doctor",
    "%": "percent",
}


def number_words(n: int) -> str:
    """1234 -> 'one thousand two hundred thirty four' (no 'and', as Whisper's digits carry none)."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    for size, name in ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred")):
        if n >= size:
            rest = n % size
            return f"{number_words(n // size)} {name}" + (f" {number_words(rest)}" if rest else "")
    raise AssertionError(n)


def ordinal_words(n: int) -> str:
    *head, last = number_words(n).split()
    last = ORDINALS.get(last) or (last[:-1] + "ieth" if last.endswith("y") else last + "th")
    return " ".join([*head, last])


def _token(token: str) -> str:
    """One whitespace-free token, digits spelled out: '30' -> 'thirty', '2nd' -> 'second', '$5' -> 'five dollars'."""
    dollars, percent = token.startswith("$"), token.endswith("%")
    spelled = _number(token.strip("$%"))
    if spelled is None:
        return token
    return spelled + " dollars" * dollars + " percent" * percent


def _number(token: str) -> str | None:
    if token in SPOKEN_AS_DIGITS or re.fullmatch(r"0[0-9]+", token):  # 911, 0815: digit by digit
        return " ".join(ONES[int(d)] for d in token)
    if re.fullmatch(r"[0-9]+", token):
        return number_words(int(token))
    if m := re.fullmatch(r"(\d+)(st|nd|rd|th)", token):
        return ordinal_words(int(m[1]))
    if m := re.fullmatch(r"(\d+)\.(\d+)", token):
        return f"{number_words(int(m[1]))} point " + " ".join(ONES[int(d)] for d in m[2])
    if m := re.fullmatch(r"(\d{1,2}):(\d\d)", token):  # 9:42 -> nine forty two, 9:05 -> nine oh five
        minutes = int(m[2])
        tail = "" if minutes == 0 else f" oh {ONES[minutes]}" if minutes < 10 else f" {number_words(minutes)}"
        return number_words(int(m[1])) + tail
    return None


def words(text: str) -> list[str]:
    """Lowercase words for WER: punctuation gone, hyphens split, apostrophes kept inside words, digits spelled."""
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # 1,000 -> 1000
    text = re.sub(r"[-\u2013\u2014/]", " ", text)
    out = []
    for token in text.split():
        token = re.sub(r"[^\w'$%.:]", "", token).strip("'.:")  # keep what _token reads: 2.5, 9:42, $5, 5%
        token = SPELLINGS.get(token, token)
        for word in _token(token).split():
            word = re.sub(r"[^\w']", "", word).strip("'")
            if word:
                out.append(SPELLINGS.get(word, word))
    return out


def wer(reference: list[str], hypothesis: list[str]) -> float:
    """Word error rate: (substitutions + deletions + insertions) / reference words."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, 1):
        row = [i]
        for j, hyp_word in enumerate(hypothesis, 1):
            row.append(min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word)))
        previous = row
    return previous[-1] / len(reference) if reference else float(bool(hypothesis))


def words_kept(reference: list[str], hypothesis: list[str]) -> float:
    """How much of the speech came out at all: hypothesis words / reference words (a skipped window shows here)."""
    return len(hypothesis) / len(reference) if reference else 1.0


def reference_words(ref: dict) -> list[str]:
    return [w for line in ref["lines"] for w in words(line["text"])]


def transcript_words(transcript: dict) -> list[str]:
    return [w for segment in transcript.get("segments", []) for w in words(segment.get("text", ""))]


def is_officer(speaker) -> bool:
    return speaker == "officer"


def _lines_at(lines: list[dict], t: float) -> list[dict]:
    """The reference lines spoken at time t; else the nearest one within 1 s; else none."""
    covering = [line for line in lines if line["start"] <= t <= line["end"]]
    if covering:
        return covering

    def distance(line: dict) -> float:
        return max(line["start"] - t, t - line["end"])

    nearest = min(lines, key=distance, default=None)
    return [nearest] if nearest and distance(nearest) <= 1.0 else []


def speaker_attribution(ref: dict, transcript: dict) -> float:
    """Fraction of words whose class (officer / not officer) matches the line they fall in.

    In an overlap either speaker is right. A word with no speaker is wrong. A word more than 1 s
    from any reference line (a hallucination in a silence) is not counted: WER already charges it,
    and no speaker would be right for it.
    """
    right = counted = 0
    for segment in transcript.get("segments", []):
        for word in segment.get("words") or []:
            lines = _lines_at(ref["lines"], (word["start"] + word["end"]) / 2)
            if not lines:
                continue
            counted += 1
            speaker = word.get("speaker")
            right += speaker is not None and any(is_officer(speaker) == is_officer(line["speaker"]) for line in lines)
    return right / counted if counted else 1.0
