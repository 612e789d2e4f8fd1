"""The face tracker alone (media.tracking), on made-up detections: weak faces confirmed by a second
detection and blurred back to their first, one weak blip never blurred, established tracks held
through a long loss, and what a weak or oversized detection may not do."""

from media.faces import Box, Detection
from media.tracking import FaceTracker, TrackerSettings

EVERY = 3  # detections on every 3rd frame, as redaction runs them


def face(frame: int) -> Box:
    return Box(200 + 4 * frame, 150 + frame, 80, 100)


def covered(tracker: FaceTracker, frame: int, truth: Box) -> bool:
    return any(box.contains(truth) for _, box in tracker.boxes_at(frame))


def test_a_weak_face_is_blurred_once_a_second_detection_holds_it_and_back_to_its_first():
    tracker = FaceTracker(TrackerSettings(), frame_height=720)
    tracker.update(0, [Detection(face(0), 0.3)])
    assert tracker.boxes_at(0) == []  # one weak detection: not yet
    tracker.update(3, [Detection(face(3), 0.25)])
    assert [t.id for t in tracker.tracks] == [1]
    assert all(covered(tracker, f, face(f)) for f in range(0, 4))


def test_one_weak_blip_is_never_blurred_and_takes_no_id():
    tracker = FaceTracker(TrackerSettings(), frame_height=720)
    tracker.update(0, [Detection(Box(500, 300, 60, 70), 0.3)])
    for frame in range(3, 60, EVERY):
        tracker.update(frame, [Detection(face(frame), 0.9)])
    assert all(box.intersection(Box(500, 300, 60, 70)) == 0 for f in range(0, 30) for _, box in tracker.boxes_at(f))
    assert [t.id for t in tracker.all_tracks()] == [1]


def test_an_established_track_is_held_through_a_long_loss_and_a_young_one_is_not():
    settings = TrackerSettings(hold_frames=15, long_hold_frames=45, established_hits=4)
    tracker = FaceTracker(settings, frame_height=720)
    for frame in range(0, 30, EVERY):  # ten detections, then the face turns away
        tracker.update(frame, [Detection(face(frame), 0.9)])
    last = 27
    assert all(covered(tracker, f, face(f)) for f in range(last, last + 40))
    assert tracker.boxes_at(last + 45) and not tracker.boxes_at(last + 46)

    young = FaceTracker(settings, frame_height=720)
    young.update(0, [Detection(face(0), 0.9)])
    assert young.boxes_at(15) and not young.boxes_at(16)


def test_the_hold_reaches_a_face_that_keeps_moving_and_one_that_stopped():
    tracker = FaceTracker(TrackerSettings(), frame_height=720)
    for frame in range(0, 30, EVERY):
        tracker.update(frame, [Detection(face(frame), 0.9)])
    stopped = face(27)
    assert all(covered(tracker, f, stopped) for f in range(27, 45))
    assert all(covered(tracker, f, face(f)) for f in range(27, 45))


def test_a_huge_weak_box_starts_nothing_and_a_detection_of_another_size_is_another_face():
    tracker = FaceTracker(TrackerSettings(), frame_height=720)
    texture = Box(600, 100, 450, 560)  # weak, and most of the picture's height
    for frame in range(0, 30, EVERY):
        tracker.update(frame, [Detection(texture, 0.3)])
    assert tracker.tracks == [] and tracker.boxes_at(15) == []

    tracker = FaceTracker(TrackerSettings(), frame_height=720)
    for frame in range(0, 12, EVERY):
        tracker.update(frame, [Detection(face(frame), 0.9)])
    big = face(12).grown(1.0)  # three times the size, around the same face
    tracker.update(12, [Detection(big, 0.3)])
    (track,) = tracker.tracks
    assert track.observations[-1][1].h < 2 * face(12).h  # the track did not swell to the big box


def test_a_sure_detection_starts_a_track_at_once():
    tracker = FaceTracker(TrackerSettings(), frame_height=720)
    tracker.update(6, [Detection(face(6), 0.9)])
    assert [t.id for t in tracker.tracks] == [1]
    assert covered(tracker, 6, face(6)) and tracker.boxes_at(6 - TrackerSettings().preroll_frames)
