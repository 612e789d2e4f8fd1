"""The cue detector: normalisation, matching on word timestamps, uncertainty, negation, the rules
file's validation, speed, and the labelled transcripts as a regression test."""

import json
import time

import pytest

from api.recognition import RulesError, detect, load_rules, parse_rules
from api.recognition.evaluate import evaluate, load_labelled, main
from api.recognition.normalise import normalise_word
from api.recognition.rules import DEFAULT_RULES_PATH
from tests.recognition import build_corpus


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def transcript(*lines: str, low: dict[str, float] | None = None, start: float = 0.0) -> dict:
    """A Whisper-shaped transcript, one segment per line, 0.4 s a word; `low` sets a word's probability."""
    low = low or {}
    segments, t = [], start
    for line in lines:
        words = []
        for raw in line.split():
            words.append(
                {"start": round(t, 3), "end": round(t + 0.3, 3), "word": raw, "probability": low.get(raw, 0.95)}
            )
            t += 0.4
        segments.append({"start": words[0]["start"], "end": words[-1]["end"], "text": line, "words": words})
        t += 1.0
    return {"language": "en", "model": "test", "segments": segments}


def cues(result) -> list[str]:
    return [h.cue for h in result.highlights]


# --- normalisation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, tokens",
    [
        ("Narcan,", ("narcan",)),
        ("C.P.R.", ("cpr",)),
        ("A.E.D.", ("aed",)),
        ("don't", ("do", "not")),
        ("You\u2019re", ("you", "are")),
        ("won't", ("will", "not")),
        ("nobody's", ("nobody", "is")),
        ("how'd", ("how", "did")),
        ("9-1-1", ("9", "1", "1")),
        ("nine-one-one", ("9", "1", "1")),
        ("thirty", ("30",)),
        ("1,000", ("1000",)),
        ('"Okay."', ("okay",)),
        ("--", ()),
    ],
)
def test_normalise_word(raw, tokens):
    assert normalise_word(raw) == tokens


# --- matching ------------------------------------------------------------------------------------


def test_whisper_punctuation_and_case_still_match(rules):
    result = detect(transcript("Give him the Narcan, now.", "Starting C.P.R. Get the A.E.D.!"), rules)
    assert {"life.naloxone", "life.cpr", "life.aed"} <= set(cues(result))
    narcan = next(h for h in result.highlights if h.cue == "life.naloxone")
    assert narcan.words == ["Narcan,"]


def test_highlight_times_are_the_matched_words_times(rules):
    result = detect(transcript("Okay sir, you're not in trouble, okay?"), rules)
    [h] = [h for h in result.highlights if h.cue == "deesc.reassurance"]
    # words: Okay(0.0) sir,(0.4) you're(0.8) not(1.2) in(1.6) trouble,(2.0-2.3)
    assert (h.start, h.end) == (0.8, 2.3)
    assert h.words == ["you're", "not", "in", "trouble,"]
    assert h.category == "de-escalation" and h.label


def test_contractions_and_numbers_match_either_spelling(rules):
    for line in ("Somebody call nine-one-one!", "Somebody call 911!", "somebody CALL 9-1-1"):
        assert "life.medics" in cues(detect(transcript(line), rules)), line
    for line in ("Nobody's going to hurt you.", "Nobody is gonna hurt you."):
        assert "deesc.reassurance" in cues(detect(transcript(line), rules)), line


def test_phrase_split_across_segments_still_matches(rules):
    result = detect(transcript("Come on buddy, stay with", "me, stay with me."), rules)
    assert cues(result).count("life.comfort") == 2


def test_segment_without_words_falls_back_to_its_text(rules):
    data = {"segments": [{"start": 10.0, "end": 14.0, "text": "Starting CPR, get the AED", "words": []}]}
    result = detect(data, rules)
    assert {"life.cpr", "life.aed"} <= set(cues(result))
    assert all(10.0 <= h.start < h.end <= 14.0 for h in result.highlights)


# --- uncertainty ---------------------------------------------------------------------------------


def test_low_probability_words_lower_confidence_and_are_marked_uncertain(rules):
    sure = detect(transcript("Give him the Narcan now, he's not breathing."), rules)
    unsure = detect(transcript("Give him the Narcan now, he's not breathing.", low={"Narcan": 0.2}), rules)
    [a] = [h for h in sure.highlights if h.cue == "life.naloxone"]
    [b] = [h for h in unsure.highlights if h.cue == "life.naloxone"]
    assert not a.uncertain and b.uncertain
    assert b.confidence < a.confidence and b.confidence == pytest.approx(0.2)
    assert unsure.category_scores["life-saving"] < sure.category_scores["life-saving"]
    assert b.to_dict()["uncertain"] is True


def test_one_unsure_word_in_a_phrase_marks_the_whole_highlight(rules):
    result = detect(transcript("You're not in trouble.", low={"trouble.": 0.3}), rules)
    [h] = result.highlights
    assert h.uncertain and 0.3 < h.confidence < 0.95  # geometric mean of the phrase's words


# --- negation and hostility ----------------------------------------------------------------------


def test_negated_offer_of_help_is_not_a_cue(rules):
    assert "deesc.offer_help" in cues(detect(transcript("I'm here to help you."), rules))
    assert "deesc.offer_help" not in cues(detect(transcript("I'm not here to help you."), rules))
    assert "deesc.offer_help" not in cues(detect(transcript("I can't help you."), rules))


def test_negation_stops_at_a_clause_break(rules):
    assert "deesc.offer_help" in cues(detect(transcript("No, no, I'm here to help."), rules))


def test_i_dont_care_is_not_empathy_and_counts_against(rules):
    result = detect(transcript("I don't care what you think. Shut up."), rules)
    assert not result.highlights
    assert {h.cue for h in result.counter_cues} == {"counter.dismissive"}
    assert result.category_scores["de-escalation"] == 0.0


def test_force_commands_pull_de_escalation_down(rules):
    calm = ("I hear you. I understand why you're upset. Take a deep breath, we'll figure this out.",)
    hostile = calm + ("Stop resisting! Get on the ground! Stop resisting!",)
    calm_score = detect(transcript(*calm), rules).category_scores["de-escalation"]
    hostile_result = detect(transcript(*hostile), rules)
    assert hostile_result.category_scores["de-escalation"] < calm_score
    assert "counter.force" in {h.cue for h in hostile_result.counter_cues}
    assert all(h.cue != "counter.force" for h in hostile_result.highlights)


def test_negated_life_saving_cues_still_count(rules):
    result = detect(transcript("He's not breathing, no pulse."), rules)
    assert cues(result).count("life.vitals") == 2


# --- scores --------------------------------------------------------------------------------------


def test_empty_transcripts(rules):
    for data in ({}, {"segments": []}, {"segments": [{"start": 0, "end": 1, "text": "", "words": []}]}):
        result = detect(data, rules)
        assert result.highlights == [] and result.suggested_categories == [] and result.score == 0.0
        assert result.category_scores == {c: 0.0 for c in rules.categories}
        assert result.rules_version == rules.version


def test_one_mention_never_suggests_a_category(rules):
    result = detect(transcript("Did you bring the AED?"), rules)
    assert "life.aed" in cues(result)
    assert 0 < result.category_scores["life-saving"] < rules.suggestion_threshold
    assert result.suggested_categories == []


def test_score_and_suggestions_agree(rules):
    both = transcript(
        "He's not breathing! Starting CPR. Get the AED, call 911.",
        "You're safe now. I hear you, take a deep breath, nobody's going to hurt you.",
    )
    result = detect(both, rules)
    assert set(result.suggested_categories) == {"life-saving", "de-escalation"}
    scores = [result.category_scores[c] for c in result.suggested_categories]
    assert scores == sorted(scores, reverse=True)
    assert result.score >= max(scores)  # two categories rank above either alone
    assert 0.0 <= result.score <= 1.0


def test_to_dict_is_json(rules):
    data = detect(transcript("Starting compressions, stay with me."), rules).to_dict()
    assert set(data) == {
        "rules_version",
        "score",
        "category_scores",
        "suggested_categories",
        "highlights",
        "counter_cues",
        "signals",
    }
    assert set(data["highlights"][0]) == {
        "start",
        "end",
        "cue",
        "category",
        "label",
        "words",
        "confidence",
        "uncertain",
        "speaker",
    }
    json.dumps(data)


def test_supporting_cues_alone_do_not_make_a_de_escalation(rules):
    routine = transcript(
        "Good evening, my name is Officer Diaz. The reason I stopped you is your speed.",
        "I'll explain the citation. Thank you for your patience, sorry for the wait.",
    )
    result = detect(routine, rules)
    assert {"deesc.introduction", "deesc.reason", "deesc.appreciation"} <= set(cues(result))
    assert result.category_scores["de-escalation"] == 0.0


def test_an_hour_of_speech_is_fast(rules):
    line = (
        "Okay sir, I hear you, let's figure this out, nobody is in trouble. "
        "License and registration please, thanks for waiting, have a good one."
    )
    segments = [line] * 450  # ~9,000 words: an hour of steady talk
    data = transcript(*segments)
    assert sum(len(s["words"]) for s in data["segments"]) >= 9000
    started = time.perf_counter()
    detect(data, rules)
    assert time.perf_counter() - started < 1.0  # ~20 ms on a laptop; generous for CI


# --- the rules file ------------------------------------------------------------------------------


def test_packaged_rules_load(rules):
    assert rules.version >= 1 and len(rules.digest) == 64
    assert set(rules.categories) == {"de-escalation", "community-engagement", "life-saving"}
    assert 0 < rules.suggestion_threshold < 1 and 0 < rules.low_confidence_probability < 1


def _rules_with(**changes) -> dict:
    data = json.loads(DEFAULT_RULES_PATH.read_text())
    data.update(changes)
    return data


def _cue(**fields) -> dict:
    return {
        "id": "x.test",
        "category": "life-saving",
        "label": "Test",
        "weight": 1.0,
        "patterns": ["stay with me"],
        **fields,
    }


@pytest.mark.parametrize(
    "change, message",
    [
        ({"version": "two"}, "'version' must be a positive integer"),
        ({"version": None}, "'version'"),
        ({"suggestion_threshold": 1.5}, "'suggestion_threshold' must be a number between 0 and 1"),
        ({"categories": []}, "'categories'"),
        ({"cues": []}, "'cues' must be a non-empty list"),
        ({"colour": "blue"}, "unknown key(s) ['colour']"),
        ({"cues": [_cue(category="heroism")]}, "cue 'x.test': 'category' must be one of"),
        ({"cues": [_cue(), _cue()]}, "cue id 'x.test' is used twice"),
        ({"cues": [_cue(weight=0)]}, "cue 'x.test': 'weight' must be a non-zero number"),
        ({"cues": [_cue(patterns="stay with me")]}, "cue 'x.test': 'patterns' must be a non-empty list"),
        ({"cues": [_cue(paterns=["a"])]}, "cue 'x.test': unknown key(s) ['paterns']"),
        ({"cues": [_cue(patterns=["... with me"])]}, "may not start or end with '*' or '...'"),
        ({"cues": [_cue(patterns=["stay (with me"])]}, "unbalanced parentheses"),
        ({"cues": [_cue(patterns=["!!!"])]}, "has no letters or digits"),
        ({"cues": [_cue(negatable="no")]}, "'negatable' must be true or false"),
    ],
)
def test_bad_rules_give_a_clear_error(tmp_path, change, message):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(_rules_with(**change)))
    with pytest.raises(ValueError) as error:
        load_rules(path)
    assert isinstance(error.value, RulesError)
    assert message in str(error.value) and str(path) in str(error.value)


def test_unreadable_or_invalid_json_rules(tmp_path):
    with pytest.raises(RulesError, match="cannot be read"):
        load_rules(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": 1,')
    with pytest.raises(RulesError, match="not valid JSON"):
        load_rules(broken)


def test_pattern_syntax(rules):
    data = _rules_with(
        version=99,
        cues=[
            _cue(id="a", patterns=["(no one's|nobody's) in trouble"]),
            _cue(id="b", patterns=["breath* ... slow*"]),
            _cue(id="c", patterns=["<num> compressions"]),
            _cue(id="d", patterns=["call * ambulance"]),
        ],
    )
    custom = parse_rules(data)
    text = transcript("No one's in trouble. Breathing nice and slowly. 30 compressions. Call an ambulance.")
    assert cues(detect(text, custom)) == ["a", "b", "c", "d"]
    assert detect(text, custom).rules_version == 99


# --- the labelled transcripts --------------------------------------------------------------------


def test_labelled_json_is_built_from_the_scripts():
    assert build_corpus.stale_files() == [], "run: python tests/recognition/build_corpus.py"


def test_labelled_set_is_big_and_varied_enough(rules):
    items = load_labelled()
    cue_ids = {c.id for c in rules.cues}
    negatives = [i for i in items if not i["expected_categories"]]
    assert len(items) >= 40 and len(negatives) >= 10
    assert len({i["split"] for i in items}) >= 5, "splits written in turns, each held out once"
    for item in items:
        assert set(item["expected_categories"]) <= set(rules.categories), item["id"]
        assert {c["cue"] for c in item["expected_cues"]} <= cue_ids, item["id"]
        assert item["transcript"]["segments"][0]["words"][0]["probability"] > 0
    low = [w for i in items for s in i["transcript"]["segments"] for w in s["words"] if w["probability"] < 0.5]
    assert low, "some words should exercise the uncertainty path"


def test_regression_on_the_labelled_set(rules):
    """Looser floors than `make eval`'s targets, so a rules edit that breaks things fails here."""
    report = evaluate(load_labelled(), rules)
    for category, stats in report.categories.items():
        assert stats.f1 >= 0.75, f"{category}: F1 {stats.f1:.2f}"
    assert report.max_negative < rules.suggestion_threshold, report.max_negative_id
    assert report.top_accuracy >= 0.8
    assert report.cue_recall >= 0.6


def test_evaluate_command_exit_code(capsys, tmp_path):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "RESULT: PASS" in out and "no split is held out now" in out

    for item in load_labelled()[:12]:  # a split written after these rules is reported on its own
        (tmp_path / f"{item['id']}.json").write_text(json.dumps({**item, "split": "heldout"}))
    main(["--data", str(tmp_path)])
    out = capsys.readouterr().out
    assert "== held-out: 12 transcripts" in out and "heldout never used to tune them" in out


def spoken(*turns: tuple[str, str]) -> dict:
    """A transcript of (speaker, line) turns, every word labelled as media.diarize labels them."""
    result = transcript(*(line for _, line in turns))
    for segment, (speaker, _) in zip(result["segments"], turns):
        segment["speaker"] = speaker
        for word in segment["words"]:
            word["speaker"] = speaker
    return result


def test_officer_cues_count_only_on_officer_speech(rules):
    lines = (
        "You're safe now. I hear you, take a deep breath, nobody's going to hurt you.",
        "I understand, that must be so frustrating. We'll get this sorted out.",
    )
    by_officer = detect(spoken(*(("officer", line) for line in lines)), rules)
    by_driver = detect(spoken(*(("person 1", line) for line in lines)), rules)
    assert "de-escalation" in by_officer.suggested_categories
    assert {h.speaker for h in by_officer.highlights} == {"officer"}
    assert by_driver.suggested_categories == [] and by_driver.highlights == []


def test_civilian_context_supports_but_never_carries_a_category(rules):
    context = ("person 1", "He's not breathing! He has no pulse, somebody call an ambulance!")
    alone = detect(spoken(context), rules)
    assert alone.suggested_categories == []
    assert alone.category_scores["life-saving"] == 0.0
    with_officer = detect(spoken(context, ("officer", "Starting compressions now, stay with me.")), rules)
    officer_only = detect(spoken(("officer", "Starting compressions now, stay with me.")), rules)
    assert with_officer.category_scores["life-saving"] > officer_only.category_scores["life-saving"]
    assert {h.speaker for h in with_officer.highlights} == {"officer", "person 1"}


def test_praise_from_civilians_is_a_signal_not_a_score(rules):
    praised = detect(
        spoken(("officer", "Have a good night."), ("person 1", "Thank you officer, you were so kind.")), rules
    )
    assert {(s.cue, s.speaker) for s in praised.signals} == {("civ.praise", "person 1")}
    assert praised.highlights == [] and praised.score == 0.0
    said_by_officer = detect(spoken(("officer", "Thank you officer, you were so kind.")), rules)
    assert said_by_officer.signals == []


def test_a_transcript_without_speakers_counts_every_word(rules):
    lines = ("You're safe now. I hear you, take a deep breath, nobody's going to hurt you.",)
    assert (
        detect(transcript(*lines), rules).suggested_categories
        == detect(spoken(("officer", lines[0])), rules).suggested_categories
    )
