"""The figures the dashboard pages read: the latest snapshot of each kind, one row a kind.

Computing them reads every clip, tag, decision and survey response (seconds at 100,000 clips), so
no request computes them: the worker refreshes each snapshot well within BESTPART_STATS_CACHE_SECONDS
(workers/stats.py), and the pages and the API read the row (api/stats/service.py)."""

from datetime import datetime
from typing import Any

from sqlmodel import JSON, Column, Field, SQLModel

from api.core.types import UTCDateTime


class StatsSnapshot(SQLModel, table=True):
    __tablename__ = "stats_snapshots"

    name: str = Field(primary_key=True, max_length=40)  # dashboard, queue_ages, equity, csat
    computed_at: datetime = Field(sa_type=UTCDateTime)  # when the computation began: the figures are as of then
    seconds: float = 0.0  # how long computing them took
    figures: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # as the service dumps them
