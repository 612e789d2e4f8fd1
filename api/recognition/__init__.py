"""Recognition of positive-interaction cues in BWC transcripts (pure: no database, no settings).

from api.recognition import load_rules, detect
result = detect(transcript_dict, load_rules())
result.to_dict()  # highlights, category_scores, score, suggested_categories, rules_version
"""

from api.recognition.detector import Highlight, Recognition, default_rules, detect
from api.recognition.rules import DEFAULT_RULES_PATH, Rules, RulesError, load_rules, parse_rules

__all__ = [
    "DEFAULT_RULES_PATH",
    "Highlight",
    "Recognition",
    "Rules",
    "RulesError",
    "default_rules",
    "detect",
    "load_rules",
    "parse_rules",
]
