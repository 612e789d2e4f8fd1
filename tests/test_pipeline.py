"""Upload → ready through the real `bestpart serve` and its worker, on SQLite and on PostgreSQL+Redis."""

import hashlib
import json
import random

import cv2
import numpy as np
import pytest

from media.ffmpeg import ffmpeg_exe
from tests.fuzz.containers import find_elements
from tests.fuzz.corpus import OVERSIZE, size_change
from tests.media.test_outputs import word_error_rate
from tests.services import backend_env, running_service, upload, wait_settled

GOOD = ["speech.mp4", "hevc_rotated.mov", "silent.mkv", "mjpeg_pcm.avi"]
ASSETS = {"poster.jpg", "sprite.jpg", "thumbnails.vtt", "proxy.mp4", "captions.vtt", "transcript.json"}
SECRET = "CONFIDENTIAL-7d1e0b"


@pytest.fixture(scope="module", params=["sqlite", "postgres+redis"])
def service(request, tmp_path_factory):
    data = tmp_path_factory.mktemp(request.param.replace("+", "-"))
    env = backend_env(request.param, data)
    with running_service(env, data / "serve.log") as client:
        yield client, data


@pytest.fixture(scope="module")
def damaged(fixtures, tmp_path_factory) -> dict:
    """Files that pass the upload sniff but must be rejected by the pipeline."""
    folder = tmp_path_factory.mktemp("damaged")
    speech = (fixtures / "speech.mp4").read_bytes()
    corrupt = bytearray(speech)
    middle = len(corrupt) // 2
    corrupt[middle - 20000 : middle + 20000] = random.Random(5).randbytes(40000)
    silent = (fixtures / "silent.mkv").read_bytes()
    scale = find_elements(silent, b"\x2a\xd7\xb1")[0]  # TimestampScale of 1 ns: its 3 s last 3 µs
    files = {
        "truncated.mp4": speech[: len(speech) // 2],
        "corrupt_middle.mp4": bytes(corrupt),
        "oversize_8k.mp4": (fixtures / "oversize_8k.mp4").read_bytes(),
        # 64x64 in the header the probe reads, 4128x4128 from a keyframe at 1 s on.
        "grows_mid_stream.mp4": size_change(ffmpeg_exe(), folder, (OVERSIZE,)),
        "zero_duration.mkv": silent[: scale.body] + b"\x00\x00\x01" + silent[scale.end :],
    }
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return {name: folder / name for name in files}


@pytest.fixture(scope="module")
def processed(service, fixtures, damaged) -> dict:
    """Every fixture uploaded at once (the worker runs them concurrently), then settled."""
    client, _ = service
    ids = {}
    for name in GOOD:
        response = upload(client, fixtures / name, evidence_id=f"EV-{name}")
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    for name, path in damaged.items():
        ids[name] = upload(client, path).json()["id"]
    return {name: wait_settled(client, clip_id, timeout=180) for name, clip_id in ids.items()}


@pytest.mark.parametrize("name", GOOD)
def test_supported_sources_become_ready_with_every_asset(service, processed, name):
    client, _ = service
    clip = processed[name]
    assert clip["status"] == "ready", clip
    assert {s["name"]: s["state"] for s in clip["stages"]} == dict.fromkeys(
        ["probe", "thumbnails", "proxy", "transcript", "recognize"], "done"
    )
    assert set(clip["assets"]) == ASSETS
    assert clip["media"]["duration"] > 1 and clip["progress"] == 1.0 and clip["ready_at"]
    assert all(client.get(url).status_code == 200 for url in clip["assets"].values())


def test_transcript_has_words_close_to_the_spoken_text(service, processed, speech_text):
    client, _ = service
    transcript = client.get(f"/api/v1/clips/{processed['speech.mp4']['id']}/transcript").json()
    assert transcript["language"] == "en" and "whisper base" in transcript["model"]
    words = [w for s in transcript["segments"] for w in s["words"]]
    assert set(words[0]) == {"start", "end", "word", "probability", "speaker"}
    assert {w["speaker"] for w in words} == {"officer"}, "one voice: the wearer's"
    assert transcript["coverage"]["speech_regions"] >= 1 and transcript["coverage"]["unheard"] == []
    assert word_error_rate(speech_text, " ".join(w["word"] for w in words)) < 0.25


def test_clip_without_audio_has_an_empty_transcript(service, processed):
    client, _ = service
    clip_id = processed["silent.mkv"]["id"]
    assert client.get(f"/api/v1/clips/{clip_id}/transcript").json()["segments"] == []
    assert client.get(f"/api/v1/clips/{clip_id}/media/captions.vtt").text.strip() == "WEBVTT"


def test_poster_is_not_the_black_opening(service, processed):
    client, _ = service
    response = client.get(processed["speech.mp4"]["assets"]["poster.jpg"])
    assert response.headers["content-type"] == "image/jpeg"
    poster = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR)
    assert poster.mean() > 60


def test_media_have_the_right_content_types(service, processed):
    client, _ = service
    types = {
        "proxy.mp4": "video/mp4",
        "sprite.jpg": "image/jpeg",
        "thumbnails.vtt": "text/vtt",
        "captions.vtt": "text/vtt",
    }
    for name, expected in types.items():
        response = client.get(processed["speech.mp4"]["assets"][name])
        assert response.status_code == 200 and response.headers["content-type"].startswith(expected)
    assert client.get(processed["speech.mp4"]["assets"]["thumbnails.vtt"]).text.count("sprite.jpg#xywh=") > 3


def test_proxy_supports_range_requests(service, processed):
    client, _ = service
    url = processed["speech.mp4"]["assets"]["proxy.mp4"]
    whole = client.get(url)
    assert whole.headers["accept-ranges"] == "bytes"
    size = len(whole.content)
    part = client.get(url, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == whole.content[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{size}"
    tail = client.get(url, headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == whole.content[-500:]
    assert client.get(url, headers={"Range": f"bytes={size + 10}-"}).status_code == 416


def test_provenance_names_parent_tool_and_arguments(service, processed):
    client, _ = service
    clip = processed["hevc_rotated.mov"]
    records = {r["kind"]: r for r in client.get(f"/api/v1/clips/{clip['id']}/provenance").json()}
    assert set(records) == ASSETS
    proxy = records["proxy.mp4"]
    assert proxy["parent_sha256"] == clip["sha256"] and proxy["tool"] == "ffmpeg"
    assert proxy["tool_version"].startswith("ffmpeg version")
    assert proxy["arguments"][0] == "ffmpeg" and "libx264" in proxy["arguments"]
    assert "<original>" in proxy["arguments"] and proxy["arguments"][-1] == "<output>"
    assert not [arg for arg in proxy["arguments"] if arg.startswith(("/", "file:"))]
    served = client.get(clip["assets"]["proxy.mp4"]).content
    assert proxy["sha256"] == hashlib.sha256(served).hexdigest() and proxy["size_bytes"] == len(served)
    assert "beam_size=1" in records["transcript.json"]["arguments"]
    assert "speakers resemblyzer" in records["transcript.json"]["tool_version"]


@pytest.mark.parametrize(
    "name, reason",
    [
        ("truncated.mp4", "truncated"),
        ("corrupt_middle.mp4", "damaged"),
        ("oversize_8k.mp4", "8192x4320"),
        ("grows_mid_stream.mp4", "4128x4128"),
        ("zero_duration.mkv", "no duration"),
    ],
)
def test_damaged_media_is_rejected_with_a_reason(processed, name, reason):
    clip = processed[name]
    assert clip["status"] == "rejected" and reason in clip["reason"], clip


def test_playlists_never_read_local_files(service, tmp_path):
    client, data = service
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    outputs = []
    for body in (f"#EXTM3U\n#EXTINF:1,\nfile:{secret}\n#EXT-X-ENDLIST\n", f"ffconcat version 1.0\nfile '{secret}'\n"):
        playlist = tmp_path / "evil.mp4"
        playlist.write_text(body)
        response = upload(client, playlist)
        assert response.status_code == 415 and "playlist" in response.json()["detail"]
        outputs.append(response.text)
    outputs += [client.get("/api/v1/clips?limit=500").text, client.get("/").text]
    assert not any(SECRET in text for text in outputs)
    for path in data.rglob("*"):
        if path.is_file() and path.suffix not in (".db", ".db-wal", ".db-shm"):
            assert SECRET.encode() not in path.read_bytes(), path


def test_duplicate_upload_returns_the_existing_clip(service, processed, fixtures):
    client, data = service
    first = processed["speech.mp4"]
    again = upload(
        client,
        fixtures / "speech.mp4",
        categories="life-saving",
        markers=json.dumps([{"at": 4, "note": "checks on the passenger"}]),
    )
    assert again.status_code == 200
    body = again.json()
    assert body["duplicate"] is True and body["id"] == first["id"] and body["status"] == "ready"
    assert "life-saving" in body["categories"] and "de-escalation" in body["categories"]
    assert len(list(data.glob(f"store/originals/*/{first['sha256']}"))) == 1


def test_server_keeps_serving_after_all_that(service):
    client, _ = service
    assert client.get("/api/v1/health").json() == {"status": "ok"}
