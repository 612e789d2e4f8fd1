from datetime import datetime

from pydantic import BaseModel, Field, computed_field

from api.users.models import PersonKind, Role


class PersonPublic(BaseModel):
    """Who carries a badge, as a page or an answer shows them: from the directory (name, sworn or
    civilian, division or unit), else from an account (its display name; nothing else is known)."""

    badge_number: str
    name: str | None = Field(description="the directory's name; else the display name of an account with the badge")
    kind: PersonKind | None = Field(description="sworn or civilian; null when the badge is not in the directory")
    division: str | None
    unit: str | None = Field(description="a civilian employee's unit (in place of a division)")
    in_directory: bool

    # mypy refuses decorators on a property; pydantic documents this ignore for computed fields
    @computed_field(description="the division of a sworn officer, the unit of a civilian employee")  # type: ignore[prop-decorator]
    @property
    def affiliation(self) -> str | None:
        if self.kind == PersonKind.CIVILIAN:
            return self.unit or self.division
        return self.division or self.unit

    @property
    def label(self) -> str:
        """ "Dana Reyes (4711)", "Dana Reyes (4711), Metro"; "badge 4711" for nobody known."""
        text = f"{self.name} ({self.badge_number})" if self.name else f"badge {self.badge_number}"
        return f"{text}, {self.affiliation}" if self.affiliation else text


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class UserPublic(BaseModel):
    id: int
    username: str
    display_name: str | None
    roles: list[Role]
    badge_number: str | None
    active: bool
    locked: bool = Field(description="new password sign-ins are refused until locked_until (open sessions go on)")
    locked_until: datetime | None = None
    must_change_password: bool
    created_at: datetime
    officer: PersonPublic | None = Field(
        default=None,
        description="the directory entry the account's badge links it to; null without a badge, or "
        "when the badge is not in the directory (the account is then linked to nobody)",
    )

    @classmethod
    def of(cls, user, officer: PersonPublic | None = None) -> "UserPublic":
        return cls(
            **user.model_dump(exclude={"password_hash", "locked_at", "locked_until", "roles"}),
            roles=user.roles,
            locked=user.locked,
            locked_until=user.locked_until if user.locked else None,
            officer=officer if officer is not None and officer.in_directory else None,
        )


class LoginOut(BaseModel):
    token: str = Field(description="send as `Authorization: Bearer TOKEN`; browsers get a cookie instead")
    csrf_token: str
    user: UserPublic


class MeOut(BaseModel):
    user: UserPublic | None
    name: str
    roles: list[Role]
    scope: str | None
    csrf_token: str | None


class PasswordChangeIn(BaseModel):
    current_password: str = Field(max_length=1000)
    new_password: str = Field(max_length=1000)


class UserCreateIn(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(max_length=1000)
    roles: list[Role] = Field(min_length=1)
    badge_number: str | None = Field(default=None, max_length=50)
    display_name: str | None = Field(default=None, max_length=200)


class UserUpdateIn(BaseModel):
    roles: list[Role] | None = Field(default=None, min_length=1)
    active: bool | None = None
    badge_number: str | None = Field(default=None, max_length=50)
    display_name: str | None = Field(default=None, max_length=200)


class TokenCreateIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    username: str | None = Field(default=None, description="a personal token acting as this user")
    scope: str | None = Field(default=None, description="a service token with this scope, e.g. ingest")
    expires_in_days: int | None = Field(
        default=None, ge=1, le=3650, description="refused after this; none: until revoked"
    )


class TokenPublic(BaseModel):
    id: int
    name: str
    user_id: int | None
    scope: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="shown once; store it now")


class PasswordResetOut(BaseModel):
    user_id: int
    code: str = Field(description="shown once; give it to the user through a safe channel")
    path: str = Field(description="the page where the user chooses a new password with the code")
    expires_at: datetime


class OfficerLinkIn(BaseModel):
    badge_number: str | None = Field(
        max_length=50, description="the directory entry the account is (it must be there); null: nobody"
    )


class OfficerPublic(BaseModel):
    badge_number: str
    name: str
    kind: PersonKind = PersonKind.SWORN
    division: str | None
    unit: str | None = None
    active: bool


class ImportResult(BaseModel):
    imported: int
    problems: list[str]
    linked: list[str] = Field(
        default_factory=list, description="the accounts whose badge this import put in the directory (usernames)"
    )
