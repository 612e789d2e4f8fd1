"""Who may do what, written once: the roles, the named sets of roles that policies allow, and the
row filters that say which clips a caller may see.

The API's dependencies (api.auth: `Admin`, `Reviewer`, ...), the pages' (review_ui.pages) and the
navigation are all made from these sets; the services ask the predicates below. api.core imports
no slice, so the clip filter names the few columns it reads from other slices' tables itself
(`_DECISIONS`, `_REVIEW_ITEMS`, `_NOMINATION_CLIPS`; tests/test_import_cycles.py checks the
last two against the models) and takes the Clip table from its caller."""

from enum import StrEnum
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement


class Role(StrEnum):
    OFFICER = "officer"
    REVIEWER = "reviewer"
    TRAINER = "trainer"
    COMMITTEE = "committee"
    ADMIN = "admin"


INGEST_SCOPE = "ingest"  # a service token's scope: the evidence system's push

EVERYONE = frozenset(Role)
ADMINS = frozenset({Role.ADMIN})
OFFICERS = frozenset({Role.OFFICER})  # the recording officers (My footage)
UPLOADERS = OFFICERS | ADMINS  # upload footage (and an ingest token); the officer's own pages
REVIEWERS = frozenset({Role.REVIEWER}) | ADMINS  # the queue; they see every clip
TRAINERS = frozenset({Role.TRAINER}) | ADMINS  # the curriculum
COMMITTEE = frozenset({Role.COMMITTEE}) | ADMINS  # decide awards
PROGRAM = REVIEWERS | COMMITTEE  # read nominations, the dashboard and the program's statistics
CURRICULUM_READERS = TRAINERS | REVIEWERS
STAFF = EVERYONE - OFFICERS  # the officer directory; every award, with its evidence


class Caller(Protocol):
    """What the policies read of a caller (api.auth.Principal)."""

    roles: frozenset[Role]
    scope: str | None

    @property
    def badge_number(self) -> str | None: ...


def in_order(roles: frozenset[Role]) -> list[Role]:
    """A set's roles in the order Role declares them (admin last), for messages."""
    return [role for role in Role if role in roles]


def holds(caller: Caller, roles: frozenset[Role]) -> bool:
    return bool(caller.roles & roles)


def sees_every_clip(caller: Caller) -> bool:
    return holds(caller, REVIEWERS)


def files_for_any_badge(uploader: Caller) -> bool:
    """Officers upload their own footage; admins and the evidence system (an ingest token) anyone's."""
    return holds(uploader, ADMINS) or uploader.scope == INGEST_SCOPE


def recorded_it(caller: Caller, badge_number: str | None) -> bool:
    """The caller is the officer who recorded footage under this badge."""
    return Role.OFFICER in caller.roles and bool(badge_number) and badge_number == caller.badge_number


def may_tag(caller: Caller, badge_number: str | None) -> bool:
    """The recording officer tags their clip; an admin tags any."""
    return holds(caller, ADMINS) or recorded_it(caller, badge_number)


# The columns of other slices' tables the clip filter reads (see the module's docstring).
_REVIEW_ITEMS = sa.table("review_items", sa.column("clip_id"), sa.column("state"))
_NOMINATION_CLIPS = sa.table("nomination_clips", sa.column("clip_id"))
_DECISIONS = sa.table("decisions", sa.column("id"), sa.column("clip_id"), sa.column("kind"))
SELECTED_FOR_TRAINING = "selected_for_training"  # api.review.models.ReviewState and DecisionKind
DISMISSED = "dismissed"  # api.review.models.DecisionKind


def _selected_for_training():
    """The clips with a select-for-training decision that no later dismissal withdrew: from the
    decisions themselves, so that nominating (or an award) as well takes nothing from trainers."""
    selection, later = _DECISIONS.alias("selection"), _DECISIONS.alias("later")
    withdrawn = (
        sa.select(later.c.id)
        .where(later.c.clip_id == selection.c.clip_id, later.c.kind == DISMISSED, later.c.id > selection.c.id)
        .exists()
    )
    return sa.select(selection.c.clip_id).where(selection.c.kind == SELECTED_FOR_TRAINING, ~withdrawn)


def clip_filter(caller: Caller, clip) -> ColumnElement | None:
    """A WHERE condition on `clip` (the Clip model) for what the caller may see; None means every clip.

    Reviewers and admins see every clip. Others see what their work needs: an officer the clips they
    recorded, a trainer every clip selected for training (nominated or awarded too), the committee
    the clips in nominations."""
    if sees_every_clip(caller):
        return None
    allowed = []
    if Role.OFFICER in caller.roles and caller.badge_number:
        allowed.append(clip.badge_number == caller.badge_number)
    if Role.TRAINER in caller.roles:
        # The decisions say it; the review item's state (derived from them) too, for rows made
        # before the decisions were the record.
        listed = sa.select(_REVIEW_ITEMS.c.clip_id).where(_REVIEW_ITEMS.c.state == SELECTED_FOR_TRAINING)
        allowed.append(clip.id.in_(_selected_for_training()) | clip.id.in_(listed))
    if Role.COMMITTEE in caller.roles:
        allowed.append(clip.id.in_(sa.select(_NOMINATION_CLIPS.c.clip_id)))
    return sa.or_(*allowed) if allowed else clip.id.is_(None)


def search_badge(caller: Caller) -> str | None:
    """The badge a search must be restricted to, or None for those who see every clip.

    Trainers and the committee are restricted like officers here (to their own footage, or to
    nothing); search over their working sets goes through clip_filter."""
    if sees_every_clip(caller):
        return None
    return caller.badge_number or "\x00no-badge"
