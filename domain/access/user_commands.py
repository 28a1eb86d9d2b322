"""Use cases of access: users with a role and a token (only its hash is stored), their
specialties and clinical access, tokens issued and revoked; the last administrator stays."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from najda.domain.access.user import (
    LastAdministrator,
    Role,
    User,
    require_user_name,
    token_hash,
    token_weakness,
    user_id_for,
)
from najda.domain.care.consult import require_specialties
from najda.domain.errors import (
    InvalidValue,
    UnitNotFound,
    UserNotFound,
)
from najda.domain.persistence.atomic_store import DispatchStore, retried
from najda.domain.values import (
    require_aware,
)

_REGISTERED = "najda:User.Registered"
_REVOKED = "najda:User.Revoked"


class UserCommands(DispatchStore):
    """People and systems allowed to use Najda, as events."""

    def add_user(
        self,
        name: str,
        role: Role | str,
        actor: str,
        *,
        unit_id: UUID | None = None,
        token: str | None = None,
        specialties: Iterable[str] = (),
        expires_at: datetime | None = None,
    ) -> str:
        """Register a user and return its bearer token (only its hash is stored).

        A token is made unless one is given (e.g. a deployment's bootstrap secret, which must
        be strong). It works until `expires_at` (None: until replaced or revoked). A
        specialist is given its specialties in the same save.
        """
        name = require_user_name(name)
        weakness = None if token is None else token_weakness(token)
        if weakness is not None:
            raise InvalidValue("token", f"the token {weakness}")
        try:
            role = Role(str(role).strip().lower())
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            raise InvalidValue("role", f"must be one of {allowed}") from None
        if role is Role.CREW and unit_id is None:
            raise InvalidValue("unit", "a crew user is bound to one unit")
        if role is not Role.CREW and unit_id is not None:
            raise InvalidValue("unit", "only a crew user is bound to a unit")
        if unit_id is not None:
            try:
                self.get_unit(unit_id)
            except UnitNotFound:
                raise InvalidValue("unit", f"no unit {unit_id}") from None
        chosen = require_specialties(specialties)
        if role is Role.SPECIALIST and not chosen:
            raise InvalidValue("specialties", "a specialist needs at least one specialty")
        if role is not Role.SPECIALIST and chosen:
            raise InvalidValue("specialties", "only a specialist has specialties")
        token = token or new_token()
        at = self._now()
        if expires_at is not None and require_aware("expires_at", expires_at) <= at:
            raise InvalidValue("expires_at", "a token must expire after it is issued")
        user = User(
            id=user_id_for(name),
            name=name,
            role=role,
            unit_id=unit_id,
            token_sha256=token_hash(token),
            actor=actor,
            at=at,
            expires_at=expires_at,
        )
        if chosen:
            user.set_specialties(chosen, actor, at)
        self._store(user, creating=f"user {name}")
        return token

    @retried
    def set_specialties(self, name: str, specialties: Iterable[str], actor: str) -> None:
        """Replace a specialist's specialties."""
        chosen = require_specialties(specialties)
        user = self._user(name)
        user.set_specialties(chosen, actor, self._now())
        self._store(user)

    @retried
    def set_clinical_access(self, name: str, granted: bool, actor: str) -> None:
        """Grant an auditor clinical access (patient data unredacted), or withdraw it."""
        user = self._user(name)
        user.set_clinical_access(granted, actor, self._now())
        self._store(user)

    @retried
    def issue_token(
        self,
        name: str,
        actor: str,
        *,
        expires_at: datetime | None = None,
        token: str | None = None,
    ) -> str:
        """Give a user a new token (the previous one stops working at once) and return it.

        A token is made unless one is given (a deployment's bootstrap secret, which must be
        strong); it works until `expires_at` (None: until replaced or revoked).
        """
        weakness = None if token is None else token_weakness(token)
        if weakness is not None:
            raise InvalidValue("token", f"the token {weakness}")
        token = token or new_token()
        if expires_at is not None:
            require_aware("expires_at", expires_at)
        user = self._user(name)
        user.issue_token(token_hash(token), actor, self._now(), expires_at)
        self._store(user)
        return token

    @retried
    def revoke_user(self, name: str, actor: str) -> None:
        """Stop a user's token from working, for good. The last administrator cannot be
        revoked (LastAdministrator): nobody could manage users afterwards."""
        user = self._user(name)
        last = user.role is Role.ADMIN and self.administrators() == {user.id}
        if last and not user.revoked:
            raise LastAdministrator(user.name)
        user.revoke(actor, self._now())
        self._store(user)

    def administrators(self) -> set[UUID]:
        """The ids of the administrators not revoked, read from the log (users' creation and
        revocation events only)."""
        admins: set[UUID] = set()
        position = 0
        while batch := self.recorder.select_notifications(
            position + 1, 1000, topics=(_REGISTERED, _REVOKED)
        ):
            for notification in batch:
                user_id = UUID(str(notification.originator_id))
                if notification.topic == _REVOKED:
                    admins.discard(user_id)
                    continue
                role = getattr(self.mapper.to_domain_event(notification), "role", None)
                if role == Role.ADMIN.value:
                    admins.add(user_id)
            position = batch[-1].id
        return admins

    def get_user(self, name: str) -> User:
        """A user by name."""
        try:
            return self._get(User, user_id_for(require_user_name(name)), UserNotFound)
        except UserNotFound:
            raise UserNotFound(name) from None

    def _user(self, name: str) -> User:
        try:
            return self._load(User, user_id_for(require_user_name(name)), UserNotFound)
        except UserNotFound:
            raise UserNotFound(name) from None


def new_token() -> str:
    """A fresh 256-bit bearer token, recognisable by its prefix."""
    return "najda_" + secrets.token_urlsafe(32)
