"""A survey comment with its personal details replaced by "[redacted]": the same PII rules as
transcripts (api.redaction.pii), the comment read as one civilian's speech."""

from api.redaction.pii import find_pii

REDACTED = "[redacted]"


def redact_text(comment: str) -> str:
    words = comment.split()
    if not words:
        return ""
    # find_pii reads a transcript: each word gets a nominal time, all of them said by "person 1"
    # (a civilian: the rules that spare officer speech do not apply; "Officer Chen" stays a rank
    # and a name the department knows).
    timed = [
        {"start": i * 0.4, "end": i * 0.4 + 0.3, "word": f" {word}", "probability": 1.0, "speaker": "person 1"}
        for i, word in enumerate(words)
    ]
    transcript = {
        "segments": [{"start": 0.0, "end": len(words) * 0.4, "text": comment, "speaker": "person 1", "words": timed}]
    }
    hidden: set[int] = set()
    for span in find_pii(transcript):
        hidden.update(range(span.first[1], span.last[1] + 1))
    kept = []
    for index, word in enumerate(words):
        if index not in hidden:
            kept.append(word)
        elif index + 1 not in hidden:  # the last word of a run of hidden words stands for the run
            kept.append(REDACTED + _trailing_punctuation(word))
    return " ".join(kept)


def _trailing_punctuation(word: str) -> str:
    stripped = word.rstrip(".,;:!?")
    return word[len(stripped) :]
