"""The first line of defence: container sniffing and the flags every ffmpeg input carries."""

from pathlib import Path

import pytest

from media import audio, ffmpeg, proxy, thumbnails
from media.errors import MediaRejected
from media.probe import VideoInfo
from media.sniff import sniff_container

INFO = VideoInfo(
    container="mov,mp4,m4a,3gp,3g2,mj2",
    duration=10.0,
    width=1920,
    height=1080,
    rotation=0,
    video_codec="h264",
    pixel_format="yuv420p",
    frame_rate=30.0,
    audio_codec="aac",
    audio_channels=1,
    audio_sample_rate=48000,
    stream_count=2,
    bit_rate=None,
)


@pytest.mark.parametrize(
    "head, kind",
    [
        (b"\x00\x00\x00\x20ftypisom" + bytes(20), "mp4"),
        (b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat", "mp4"),
        (b"\x1a\x45\xdf\xa3\x93\x42\x82\x88matroska", "matroska"),
        (b"RIFF\x00\x10\x00\x00AVI LIST", "avi"),
    ],
)
def test_sniff_recognises_supported_containers(head, kind):
    assert sniff_container(head) == kind


@pytest.mark.parametrize(
    "head, words",
    [
        (b"", "empty"),
        (b"#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n", "HLS playlist"),
        (b"\xef\xbb\xbf#EXTM3U\n", "HLS playlist"),
        (b"ffconcat version 1.0\nfile '/etc/passwd'\n", "ffconcat playlist"),
        (b"<!DOCTYPE html><html><body>hi</body></html>", "HTML"),
        (b"just some notes about a stop\n", "text"),
        (bytes(range(256)) * 4, "not a recognised video container"),
    ],
)
def test_sniff_refuses_everything_else_with_a_specific_reason(head, words):
    with pytest.raises(MediaRejected, match=words):
        sniff_container(head)


def _assert_hardened_input(argv: list[str], src: Path):
    i = argv.index("-i")
    assert argv[i + 1] == f"file:{src.resolve()}"
    before = argv[:i]
    assert before[before.index("-protocol_whitelist") + 1] == "file"
    allowed = before[before.index("-format_whitelist") + 1].split(",")
    assert {"mov", "matroska", "avi"} <= set(allowed)
    assert not {"hls", "concat", "image2", "applehttp"} & set(allowed)
    assert "-probesize" in before and "-nostdin" in argv
    assert int(before[before.index("-max_pixels") + 1]) > 0  # a cap on every decoded picture


def test_every_argv_builder_hardens_its_input(tmp_path):
    src = tmp_path / "clip.mp4"
    for argv in (
        thumbnails.keyframe_scan_argv(src, (640, 360)),
        proxy.proxy_argv(src, tmp_path / "out.mp4", INFO, proxy.plan_proxy(INFO)),
        audio.audio_argv(src),
    ):
        _assert_hardened_input(argv, src)
        assert all(isinstance(a, str) for a in argv)  # an argv list, never a shell string


def test_keyframe_scan_decodes_only_keyframes(tmp_path):
    argv = thumbnails.keyframe_scan_argv(tmp_path / "a.mp4", (640, 360))
    assert argv[argv.index("-skip_frame") + 1] == "nokey"
    assert argv.index("-skip_frame") < argv.index("-i")


def test_proxy_copies_browser_ready_streams_and_encodes_the_rest(tmp_path):
    copy = proxy.proxy_argv(tmp_path / "a", tmp_path / "b", INFO, proxy.plan_proxy(INFO))
    assert copy[copy.index("-c:v") + 1] == "copy" and copy[copy.index("-c:a") + 1] == "copy"
    assert "+faststart" in copy

    hevc = VideoInfo(**{**INFO.to_dict(), "video_codec": "hevc", "audio_codec": "pcm_s16le"})
    plan = proxy.plan_proxy(hevc)
    assert plan.size == (1280, 720)  # at most 720 lines
    encode = proxy.proxy_argv(tmp_path / "a", tmp_path / "b", hevc, plan)
    assert encode[encode.index("-c:v") + 1] == "libx264" and encode[encode.index("-c:a") + 1] == "aac"
    assert "scale=1280:720" in encode


def test_rotated_h264_is_encoded_so_every_player_shows_it_upright():
    rotated = VideoInfo(**{**INFO.to_dict(), "rotation": 90, "width": 1080, "height": 1920})
    plan = proxy.plan_proxy(rotated)
    assert not plan.copy_video and plan.size == (720, 1280)


def test_small_sources_are_not_upscaled():
    small = VideoInfo(**{**INFO.to_dict(), "video_codec": "mjpeg", "width": 160, "height": 120})
    assert proxy.plan_proxy(small).size == (160, 120)


def test_runner_stops_a_hung_process(tmp_path):
    from media.errors import MediaToolError

    # ffmpeg reading a never-ending generated source: only the timeout ends it.
    argv = [*ffmpeg.base_args(), "-f", "lavfi", "-i", "testsrc2=r=5", "-f", "null", "-"]
    with pytest.raises(MediaToolError, match="limit"):
        ffmpeg.run(argv, timeout=1.0)


def test_error_summary_never_echoes_paths():
    lines = ["[mov,mp4 @ 0x55d0c0] moov atom not found", "file:/srv/data/secret/abc.mp4: Invalid data found"]
    summary = ffmpeg.error_summary(lines)
    assert "/srv" not in summary and "moov atom not found" in summary
