"""The redaction settings (environment, prefix BESTPART_, or `.env`), kept beside the redaction
code until api/config.py's Settings carries them:

| variable | default | |
|---|---|---|
| `REDACTION_SELF_APPROVAL` | false | the trainer who prepared a redaction may approve it herself |
| `REDACTION_WATERMARK` | `Training use only — internal` | the first line burned into every training copy |
| `REDACTION_REMOVE_OFFICER_NAME` | false | bleep the wearer's own name too |
| `REDACTION_PREVIEW_SECONDS` | 10 | the longest preview render |
| `RELEASE_NOTICE_DAYS` | 7 | how long a featured officer has to object before a lesson is published |
| `RELEASE_EXPIRY_WARNING_DAYS` | 30 | warn the trainers this long before a source's retention ends |
| `RELEASE_RETENTION_CHECK_MINUTES` | 60 | how often the worker withdraws the segments of expired sources |
"""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_WATERMARK = "Training use only \u2014 internal"


class RedactionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BESTPART_", env_file=".env", extra="ignore")

    redaction_self_approval: bool = False
    redaction_watermark: str = DEFAULT_WATERMARK
    redaction_remove_officer_name: bool = False
    redaction_preview_seconds: float = 10.0
    release_notice_days: float = Field(default=7.0, ge=0)
    release_expiry_warning_days: int = Field(default=30, ge=0)
    release_retention_check_minutes: float = Field(default=60.0, gt=0)


def get_redaction_settings() -> RedactionSettings:
    """Read each time (cheap): a test or an operator changing the environment is seen at once."""
    return RedactionSettings()
