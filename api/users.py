"""Users at start-up: the bootstrap administrator, and the demo's users with fresh tokens."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from starlette.concurrency import run_in_threadpool

from domain.application import Dispatch
from domain.errors import AlreadyExists
from domain.unit import unit_id_for
from domain.user import Role

if TYPE_CHECKING:
    from api.services import Services

log = logging.getLogger(__name__)
SYSTEM = "najda"
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

    def line(self) -> str:
        """'token for NAME (ROLE[, unit U]): TOKEN'."""
        unit = f", unit {self.unit}" if self.unit else ""
        return f"token for {self.name} ({self.role.value}{unit}): {self.token}"


async def ensure_users(services: Services) -> list[IssuedToken]:
    """Make sure someone can log in: in the embedded demo, give every demo user a fresh
    token; otherwise, with no users at all, create `admin` (with NAJDA_ADMIN_TOKEN if set)."""
    settings = services.settings
    dispatch = services.dispatch
    issued: list[IssuedToken] = []
    if settings.seed_demo and not settings.uses_postgres:
        issued = await run_in_threadpool(demo_tokens, dispatch)
    if len(services.users) == 0 and not issued:
        token = await run_in_threadpool(_bootstrap_admin, dispatch, settings.admin_token)
        if token is not None and settings.admin_token is None:
            issued.append(IssuedToken("admin", Role.ADMIN, None, token))
    elif settings.admin_token is not None and not any(
        u.name == "admin" for u in services.users.list_users()
    ):
        await run_in_threadpool(_bootstrap_admin, dispatch, settings.admin_token)
    if issued or settings.admin_token is not None:
        await services.caught_up(await run_in_threadpool(services.source.head))
    return issued


def _bootstrap_admin(dispatch: Dispatch, token: str | None) -> str | None:
    try:
        return dispatch.add_user("admin", Role.ADMIN, SYSTEM, token=token)
    except AlreadyExists:  # another process made it first, or it was revoked
        if dispatch.get_user("admin").revoked:
            log.warning("user admin is revoked; NAJDA_ADMIN_TOKEN is not used")
        return None


def demo_tokens(dispatch: Dispatch) -> list[IssuedToken]:
    """Fresh tokens for the demo users (registering those missing)."""
    issued: list[IssuedToken] = []
    for name, role, call_sign in DEMO_USERS:
        unit_id: UUID | None = None if call_sign is None else unit_id_for(call_sign)
        try:
            token = dispatch.add_user(
                name, role, SYSTEM, unit_id=unit_id, specialties=DEMO_SPECIALTIES.get(name, ())
            )
        except AlreadyExists:
            token = dispatch.issue_token(name, SYSTEM)
        issued.append(IssuedToken(name, role, call_sign, token))
    return issued
