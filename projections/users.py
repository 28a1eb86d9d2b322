"""In-memory directory of users by token hash, fed from the notification log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from domain.user import Role
from projections.base import Tracked


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user name, a role and, for a crew, its unit; for a specialist, its
    specialties."""

    name: str
    role: Role
    unit_id: UUID | None = None
    specialties: frozenset[str] = field(default_factory=frozenset)
    clinical: bool = False  # an auditor granted clinical access: patient data unredacted


class UserDirectory:
    """Users by token hash; every process follows the log, so a revocation reaches all."""

    name = "user_directory"

    def __init__(self) -> None:
        self._by_hash: dict[str, Principal] = {}
        self._hash_of: dict[UUID, str] = {}
        self._users: dict[UUID, Principal] = {}
        self._position = 0

    async def position(self) -> int:
        return self._position

    async def reset(self) -> None:
        self._by_hash.clear()
        self._hash_of.clear()
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
                self._set_hash(item.originator_id, event.token_sha256)
            elif topic == "najda:User.TokenIssued":
                self._set_hash(item.originator_id, item.event.token_sha256)
            elif topic == "najda:User.SpecialtiesSet":
                self._update(item.originator_id, specialties=frozenset(item.event.specialties))
            elif topic == "najda:User.ClinicalAccessSet":
                self._update(item.originator_id, clinical=bool(item.event.granted))
            elif topic == "najda:User.Revoked":
                self._set_hash(item.originator_id, None)
                self._users.pop(item.originator_id, None)
            self._position = item.position

    def _set_hash(self, user_id: UUID, digest: str | None) -> None:
        old = self._hash_of.pop(user_id, None)
        if old is not None:
            self._by_hash.pop(old, None)
        user = self._users.get(user_id)
        if digest is not None and user is not None:
            self._hash_of[user_id] = digest
            self._by_hash[digest] = user

    def _update(self, user_id: UUID, **changes: Any) -> None:
        user = self._users.get(user_id)
        if user is None:
            return
        self._users[user_id] = updated = replace(user, **changes)
        digest = self._hash_of.get(user_id)
        if digest is not None:
            self._by_hash[digest] = updated

    def by_token_hash(self, digest: str) -> Principal | None:
        """The active user holding the token with this hash."""
        return self._by_hash.get(digest)

    def list_users(self) -> list[Principal]:
        """Every active user, by name."""
        return sorted(self._users.values(), key=lambda u: u.name)

    def __len__(self) -> int:
        return len(self._users)
