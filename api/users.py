"""Users at start-up: the demo's users when the demo is seeded, the bootstrap administrator
when there is nobody, and NAJDA_ADMIN_TOKEN kept as administrator `admin`'s token."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from starlette.concurrency import run_in_threadpool

from najda.domain.access.user import Role, token_hash
from najda.domain.application import Dispatch
from najda.domain.dispatch.unit import unit_id_for
from najda.domain.errors import AlreadyExists, DispatchError

if TYPE_CHECKING:
    from najda.api.services import Services

log = logging.getLogger(__name__)
SYSTEM = "najda"
ADMIN = "admin"
#: The demo's users: name, role, call sign of the crew's unit.
DEMO_USERS: tuple[tuple[str, Role, str | None], ...] = (
    ("demo-dispatcher", Role.DISPATCHER, None),
    ("demo-crew-a10", Role.CREW, "A10"),
    ("demo-auditor", Role.AUDITOR, None),
    ("demo-admin", Role.ADMIN, None),
    ("demo-avl", Role.AVL, None),
    ("demo-specialist", Role.SPECIALIST, None),
    ("demo-nurse", Role.NURSE, None),
    ("demo-device", Role.DEVICE, None),
)
#: The specialties of the demo's specialists.
DEMO_SPECIALTIES: dict[str, tuple[str, ...]] = {
    "demo-specialist": ("cardiology", "paediatrics", "psychiatry", "stroke"),
}


@dataclass(frozen=True)
class IssuedToken:
    """A token made at start-up, to print once (it is not stored)."""

    name: str
    role: Role
    unit: str | None
    token: str
    expires_at: datetime | None = None

    def line(self) -> str:
        """'token for NAME (ROLE[, unit U]): TOKEN[ (expires ...)]'."""
        unit = f", unit {self.unit}" if self.unit else ""
        expiry = "" if self.expires_at is None else f" (expires {self.expires_at:%Y-%m-%d})"
        return f"token for {self.name} ({self.role.value}{unit}): {self.token}{expiry}"


async def ensure_users(services: Services, demo_seeded: bool) -> list[IssuedToken]:
    """Make sure someone can sign in, without ever depending on a demo user.

    Only a start that seeded the demo into an empty store registers the demo's users (their
    tokens are printed then, once). With no users at all, `admin` is created (its token
    printed, unless NAJDA_ADMIN_TOKEN gives it). When NAJDA_ADMIN_TOKEN is set and `admin`
    holds another token, the new one replaces it (rotation by changing the variable).
    """
    settings = services.settings
    dispatch = services.dispatch
    expiry = settings.token_expiry(services.now())
    issued: list[IssuedToken] = []
    if demo_seeded:
        issued = await run_in_threadpool(demo_users, dispatch, expiry)
    if len(services.users) == 0 and not issued:
        token = await run_in_threadpool(_bootstrap_admin, dispatch, settings.admin_token, expiry)
        if token is not None and settings.admin_token is None:
            issued.append(IssuedToken(ADMIN, Role.ADMIN, None, token, expiry))
    elif settings.admin_token is not None:
        await run_in_threadpool(_keep_admin_token, services, settings.admin_token)
    if issued or settings.admin_token is not None:
        await services.caught_up(await run_in_threadpool(services.source.head))
    return issued


def _bootstrap_admin(dispatch: Dispatch, token: str | None, expiry: datetime | None) -> str | None:
    try:  # a token from the environment is the operator's to rotate: it has no expiry
        return dispatch.add_user(
            ADMIN, Role.ADMIN, SYSTEM, token=token, expires_at=None if token else expiry
        )
    except AlreadyExists:  # another process made it first, or it was revoked
        if dispatch.get_user(ADMIN).revoked:
            log.warning("user admin is revoked; NAJDA_ADMIN_TOKEN is not used")
        return None


def _keep_admin_token(services: Services, token: str) -> None:
    """Create `admin` with the token, or give it the token when it holds another one."""
    if services.users.by_token_hash(token_hash(token)) is not None:
        return
    if not any(u.name == ADMIN for u in services.users.list_users()):
        _bootstrap_admin(services.dispatch, token, None)
        return
    try:
        services.dispatch.issue_token(ADMIN, SYSTEM, token=token)
        log.warning("NAJDA_ADMIN_TOKEN changed: administrator admin's token is replaced")
    except DispatchError as exc:  # revoked meanwhile: starting never depends on it
        log.warning("NAJDA_ADMIN_TOKEN is not used: %s", exc)


def demo_users(dispatch: Dispatch, expiry: datetime | None) -> list[IssuedToken]:
    """Register the demo's users (into the store the demo was just seeded into)."""
    issued: list[IssuedToken] = []
    for name, role, call_sign in DEMO_USERS:
        unit_id: UUID | None = None if call_sign is None else unit_id_for(call_sign)
        try:
            token = dispatch.add_user(
                name,
                role,
                SYSTEM,
                unit_id=unit_id,
                specialties=DEMO_SPECIALTIES.get(name, ()),
                expires_at=expiry,
            )
        except AlreadyExists:  # another process, seeding at the same time, made it
            continue
        issued.append(IssuedToken(name, role, call_sign, token, expiry))
    return issued
