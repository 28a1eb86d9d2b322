"""People and systems allowed to use Najda: a role, an optional unit or specialties, and a
token hash."""

from __future__ import annotations

import hashlib
import math
import re
import zlib
from collections import Counter
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from najda.domain.errors import Conflict, InvalidValue

USER_NAMESPACE = UUID("6f1c3c1e-55a3-4c43-9d1e-7b0c7f6a1a05")
#: The longest user name.
MAX_USER_NAME = 64
_NAME = re.compile(rf"[a-z0-9][a-z0-9._@-]{{0,{MAX_USER_NAME - 1}}}")


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


def token_weakness(token: str) -> str | None:
    """Why a chosen secret token is too weak to guard an account ('is a repeated pattern'), or
    None when it will do.

    Made tokens are 256-bit random; a token chosen by an operator (NAJDA_ADMIN_TOKEN) must be
    at least 32 printable characters, use at least 10 different ones, carry at least 90 bits
    by its own character frequencies, and not be a repeated pattern (it must not compress).
    """
    if len(token) < 32 or not token.isprintable() or any(c.isspace() for c in token):
        return "needs at least 32 printable characters without spaces"
    if len(set(token)) < 10:
        return f"uses only {len(set(token))} different characters (10 or more needed)"
    counts = Counter(token)
    bits = -sum(n * math.log2(n / len(token)) for n in counts.values())
    if bits < 90:
        return f"is too predictable (about {bits:.0f} bits; 90 or more needed)"
    raw = token.encode("utf-8")
    if len(zlib.compress(raw, 9)) < len(raw) * 0.9:
        return "is a repeated pattern"
    return None


def token_hash(token: str) -> str:
    """The stored form of a bearer token (tokens are 256-bit random, so SHA-256 suffices)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class UserRevoked(Conflict):
    """Raised when issuing a token to, or revoking, a user that is already revoked."""

    def __init__(self, name: str) -> None:
        super().__init__(f"user {name} is revoked")
        self.name = name


class LastAdministrator(Conflict):
    """Raised when revoking the only administrator left (nobody could manage users after)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is the last administrator; add another one first")
        self.name = name


class User(Aggregate):
    """A user with one role; a crew user is bound to one unit, a specialist has specialties.
    Only token hashes are kept."""

    TOPIC = "najda:User"

    class Created(Aggregate.Created):
        """Base of the user's creation event (never stored itself)."""

        TOPIC = "najda:User.Created"

    @event("Registered", topic="najda:User.Registered")
    def __init__(  # keyword arguments only; `expires_at` has a default for older events
        self,
        id: UUID,
        name: str,
        role: Role,
        unit_id: UUID | None,
        token_sha256: str,
        actor: str,
        at: datetime,
        expires_at: datetime | None = None,
    ) -> None:
        self.name = name
        self.role = Role(role)
        self.unit_id = unit_id
        self.token_sha256 = token_sha256
        self.token_expires_at = expires_at
        self.revoked = False
        self.specialties: tuple[str, ...] = ()
        self.clinical = False  # an auditor granted clinical access sees patient data

    def issue_token(
        self, token_sha256: str, actor: str, at: datetime, expires_at: datetime | None = None
    ) -> None:
        """Replace the user's token (the old one stops working); it works until `expires_at`
        (None: until replaced or revoked)."""
        if self.revoked:
            raise UserRevoked(self.name)
        if expires_at is not None and expires_at <= at:
            raise InvalidValue("expires_at", "a token must expire after it is issued")
        self._token_issued(token_sha256=token_sha256, actor=actor, at=at, expires_at=expires_at)

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
    def _token_issued(
        self, token_sha256: str, actor: str, at: datetime, expires_at: datetime | None = None
    ) -> None:
        self.token_sha256 = token_sha256
        self.token_expires_at = expires_at

    @event("Revoked", topic="najda:User.Revoked")
    def _revoked(self, actor: str, at: datetime) -> None:
        self.revoked = True
