"""In-memory directory of users by token hash, fed from the notification log."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from najda.domain.access.user import Role
from najda.projections.base import Tracked


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user name, a role and, for a crew, its unit; for a specialist, its
    specialties."""

    name: str
    role: Role
    unit_id: UUID | None = None
    specialties: frozenset[str] = field(default_factory=frozenset)
    clinical: bool = False  # an auditor granted clinical access: patient data unredacted


#: Called with the hash of a token that stopped working (replaced, or its user revoked), or
#: whose user's access changed (a specialist's specialties).
Invalidated = Callable[[str], None]


class UserDirectory:
    """Users by token hash; every process follows the log, so a revocation reaches all (and
    the open sockets of the token, through `on_invalidated`)."""

    name = "user_directory"
    #: What a saved state holds (the listeners are this process's own).
    SAVED_FIELDS = ("_by_hash", "_hash_of", "_expiry", "_users", "_position")

    def __init__(self) -> None:
        self._by_hash: dict[str, Principal] = {}
        self._hash_of: dict[UUID, str] = {}
        self._expiry: dict[str, datetime] = {}  # token hash -> when it stops working
        self._users: dict[UUID, Principal] = {}
        self._position = 0
        self._listeners: list[Invalidated] = []

    def on_invalidated(self, listener: Invalidated) -> None:
        """Call `listener(token_hash)` whenever a token stops working by an event."""
        self._listeners.append(listener)

    async def position(self) -> int:
        return self._position

    async def reset(self) -> None:
        self._by_hash.clear()
        self._hash_of.clear()
        self._expiry.clear()
        self._users.clear()
        self._position = 0

    async def apply(self, batch: Sequence[Tracked]) -> None:
        for item in batch:
            if item.position <= self._position:
                continue
            topic = item.topic
            if topic == "najda:User.Registered":
                event = item.event
                user = Principal(event.name, Role(event.role), event.unit_id)
                self._users[item.originator_id] = user
                expires = getattr(event, "expires_at", None)
                self._set_hash(item.originator_id, event.token_sha256, expires)
            elif topic == "najda:User.TokenIssued":
                expires = getattr(item.event, "expires_at", None)
                self._set_hash(item.originator_id, item.event.token_sha256, expires)
            elif topic == "najda:User.SpecialtiesSet":
                self._update(item.originator_id, specialties=frozenset(item.event.specialties))
            elif topic == "najda:User.ClinicalAccessSet":
                self._update(item.originator_id, clinical=bool(item.event.granted))
            elif topic == "najda:User.Revoked":
                self._set_hash(item.originator_id, None)
                self._users.pop(item.originator_id, None)
            self._position = item.position

    def _set_hash(
        self, user_id: UUID, digest: str | None, expires_at: datetime | None = None
    ) -> None:
        old = self._hash_of.pop(user_id, None)
        if old is not None:
            self._by_hash.pop(old, None)
            self._expiry.pop(old, None)
        user = self._users.get(user_id)
        if digest is not None and user is not None:
            self._hash_of[user_id] = digest
            self._by_hash[digest] = user
            if expires_at is not None:
                self._expiry[digest] = expires_at
        if old is not None and old != digest:
            self._invalidated(old)

    def _invalidated(self, digest: str) -> None:
        for listener in list(self._listeners):
            listener(digest)

    def _update(self, user_id: UUID, **changes: Any) -> None:
        user = self._users.get(user_id)
        if user is None:
            return
        self._users[user_id] = updated = replace(user, **changes)
        digest = self._hash_of.get(user_id)
        if digest is not None:
            self._by_hash[digest] = updated
            self._invalidated(digest)  # what its open sockets may receive changed

    def by_token_hash(self, digest: str, now: datetime | None = None) -> Principal | None:
        """The active user holding the token with this hash (None once it expired at `now`)."""
        user = self._by_hash.get(digest)
        if user is None or now is None:
            return user
        expires = self._expiry.get(digest)
        return None if expires is not None and now >= expires else user

    def expires_at(self, digest: str) -> datetime | None:
        """When the token with this hash stops working (None: not by time)."""
        return self._expiry.get(digest)

    def list_users(self) -> list[Principal]:
        """Every active user, by name."""
        return sorted(self._users.values(), key=lambda u: u.name)

    def __len__(self) -> int:
        return len(self._users)
