"""People and systems allowed to use Najda: a role, an optional unit or specialties, and a
token hash."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict, InvalidValue

USER_NAMESPACE = UUID("6f1c3c1e-55a3-4c43-9d1e-7b0c7f6a1a05")
_NAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")


class Role(StrEnum):
    """What a user may do; see api/auth.py for the role × endpoint matrix."""

    DISPATCHER = "dispatcher"
    CREW = "crew"
    AUDITOR = "auditor"
    ADMIN = "admin"
    AVL = "avl"
    SPECIALIST = "specialist"  # joins incidents by teleconsult, in its specialties
    NURSE = "nurse"
    DEVICE = "device"


def require_user_name(value: str) -> str:
    """A user name: 1-64 of a-z 0-9 . _ @ -, starting with a letter or digit (lower-cased)."""
    cleaned = value.strip().lower()
    if not _NAME.fullmatch(cleaned):
        raise InvalidValue("name", "use 1-64 characters a-z 0-9 . _ @ - (start with a-z or 0-9)")
    return cleaned


def user_id_for(name: str) -> UUID:
    """Deterministic user id from the user name."""
    return uuid5(USER_NAMESPACE, name.strip().lower())


def token_hash(token: str) -> str:
    """The stored form of a bearer token (tokens are 256-bit random, so SHA-256 suffices)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class UserRevoked(Conflict):
    """Raised when issuing a token to, or revoking, a user that is already revoked."""

    def __init__(self, name: str) -> None:
        super().__init__(f"user {name} is revoked")
        self.name = name


class User(Aggregate):
    """A user with one role; a crew user is bound to one unit, a specialist has specialties.
    Only token hashes are kept."""

    TOPIC = "najda:User"

    class Created(Aggregate.Created):
        """Base of the user's creation event (never stored itself)."""

        TOPIC = "najda:User.Created"

    @event("Registered", topic="najda:User.Registered")
    def __init__(
        self,
        *,
        id: UUID,
        name: str,
        role: Role,
        unit_id: UUID | None,
        token_sha256: str,
        actor: str,
        at: datetime,
    ) -> None:
        self.name = name
        self.role = Role(role)
        self.unit_id = unit_id
        self.token_sha256 = token_sha256
        self.revoked = False
        self.specialties: tuple[str, ...] = ()
        self.clinical = False  # an auditor granted clinical access sees patient data

    def issue_token(self, token_sha256: str, actor: str, at: datetime) -> None:
        """Replace the user's token (the old one stops working)."""
        if self.revoked:
            raise UserRevoked(self.name)
        self._token_issued(token_sha256=token_sha256, actor=actor, at=at)

    def revoke(self, actor: str, at: datetime) -> None:
        """Stop the user's token from working, for good."""
        if self.revoked:
            raise UserRevoked(self.name)
        self._revoked(actor=actor, at=at)

    def set_specialties(self, specialties: list[str], actor: str, at: datetime) -> None:
        """Set a specialist's specialties (checked, sorted names; at least one)."""
        if self.revoked:
            raise UserRevoked(self.name)
        if self.role is not Role.SPECIALIST:
            raise InvalidValue("specialties", "only a specialist has specialties")
        if not specialties:
            raise InvalidValue("specialties", "a specialist needs at least one specialty")
        self._specialties_set(specialties=list(specialties), actor=actor, at=at)

    def set_clinical_access(self, granted: bool, actor: str, at: datetime) -> None:
        """Grant (or withdraw) an auditor's clinical access: patient data unredacted."""
        if self.revoked:
            raise UserRevoked(self.name)
        if self.role is not Role.AUDITOR:
            raise InvalidValue(
                "clinical",
                f"only an auditor is granted clinical access ({self.role.value} sees patient"
                " data by its role, or none)",
            )
        self._clinical_access_set(granted=granted, actor=actor, at=at)

    @event("ClinicalAccessSet", topic="najda:User.ClinicalAccessSet")
    def _clinical_access_set(self, granted: bool, actor: str, at: datetime) -> None:
        self.clinical = granted

    @event("SpecialtiesSet", topic="najda:User.SpecialtiesSet")
    def _specialties_set(self, specialties: list[str], actor: str, at: datetime) -> None:
        self.specialties = tuple(specialties)

    @event("TokenIssued", topic="najda:User.TokenIssued")
    def _token_issued(self, token_sha256: str, actor: str, at: datetime) -> None:
        self.token_sha256 = token_sha256

    @event("Revoked", topic="najda:User.Revoked")
    def _revoked(self, actor: str, at: datetime) -> None:
        self.revoked = True
