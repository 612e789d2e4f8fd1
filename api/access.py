"""Which clips a principal may see: now api.core.policies (the rule) and api.clips.service (its
queries on the clips table). These names stay for the callers not yet moved (api/clips/routes.py,
api/curriculum/routes.py, api/awards/service.py); to be removed once they import from there."""

from api.clips.service import clip_filter, may_see_clip, visible_clip, visible_clips
from api.core.policies import search_badge as officer_only_badge
from api.core.policies import sees_every_clip

__all__ = ["clip_filter", "may_see_clip", "officer_only_badge", "sees_every_clip", "visible_clip", "visible_clips"]
