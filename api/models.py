"""Every table, imported in one place so that Alembic and create_all see them all."""

from api.audit.models import AuditEvent, AuditHead  # noqa: F401
from api.awards.models import Award, CommitteeVote, Nomination, NominationClip, NominationOfficer  # noqa: F401
from api.clips.models import (  # noqa: F401
    Asset,
    Clip,
    ClipCategory,
    ClipTag,
    RejectedUpload,
    SpeakerCorrection,
    Stage,
    Voiceprint,
)
from api.curriculum.models import (  # noqa: F401
    Course,
    Lesson,
    LessonExport,
    LessonExportItem,
    LessonItem,
    LessonView,
    Redaction,
    RedactionTrack,
    RedactionWord,
    ReleaseNotice,
    ReleaseRender,
)
from api.imports.models import ManifestImport, ManifestImportRow  # noqa: F401
from api.notifications.models import Notification  # noqa: F401
from api.review.models import Decision, OfficerReply, ReviewItem, RubricItem  # noqa: F401
from api.search.models import SearchDoc  # noqa: F401
from api.stats.models import StatsSnapshot  # noqa: F401
from api.surveys.models import SurveyImport, SurveyResponse  # noqa: F401
from api.users.models import (  # noqa: F401
    ApiToken,
    AuthSession,
    LoginAttempt,
    Officer,
    PasswordReset,
    ServerKey,
    User,
)
