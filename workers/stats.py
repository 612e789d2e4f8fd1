"""The dashboard's figures, kept fresh by the worker: every snapshot the pages read (api/stats) is
computed again once it is half BESTPART_STATS_CACHE_SECONDS old, so a page never shows figures
older than that and never computes them on a request's time. The reconciler loop calls
`check()` on each pass (workers/worker.py), at least every `every` seconds."""

import logging

from api.config import get_settings
from api.db import session_scope

log = logging.getLogger("bestpart.worker")


class StatsWatch:
    def __init__(self) -> None:
        self.took: dict[str, float] = {}  # the seconds each kind took at its last refresh

    @property
    def every(self) -> float:
        """How often check() must be called: a quarter of BESTPART_STATS_CACHE_SECONDS, so that a
        snapshot found half that old is refreshed, computed and stored before it is that old (at
        100,000 clips computing every kind takes a few seconds). 0: the figures are computed for
        each request (BESTPART_STATS_CACHE_SECONDS=0) and nothing is kept."""
        return get_settings().stats_cache_seconds / 4

    def check(self) -> dict[str, float]:
        """Refresh the snapshots that are due; returns the seconds each one refreshed took."""
        from api.stats.service import refresh_due

        every = get_settings().stats_cache_seconds
        if every <= 0:
            return {}
        took: dict[str, float] = {}
        try:
            with session_scope() as session:
                took = refresh_due(session, older_than=every / 2)
            self.took.update(took)
            if took:
                log.debug("stats: %s", ", ".join(f"{name} in {seconds:.2f} s" for name, seconds in took.items()))
        except Exception:  # a database hiccup must not end the reconciler; the pages keep the last figures
            log.exception("refreshing the dashboard's figures failed")
        return took
