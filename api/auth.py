"""Bearer-token authentication and the role × endpoint rules.

| what                             | disp | crew  | aud. | admin | avl | spec  | nurse | dev. |
|----------------------------------|------|-------|------|-------|-----|-------|-------|------|
| incidents, board, recommend.     | yes  | no    | yes* | yes   | no  | no    | no    | no   |
| report / change / assign / close | yes  | no    | no   | yes   | no  | no    | no    | no   |
| read units                       | yes  | own   | yes  | yes   | no  | no    | no    | no   |
| unit status, acknowledge         | yes  | own   | no   | yes   | no  | no    | no    | no   |
| unit position (one)              | yes  | own   | no   | yes   | yes | no    | no    | no   |
| positions in bulk (gateway)      | no   | no    | no   | yes   | yes | no    | no    | no   |
| register units, stations, hosp.  | no   | no    | no   | yes   | no  | no    | no    | no   |
| hospital status (ED, beds)       | yes  | no    | no   | yes   | no  | no    | no    | no   |
| destinations for a patient       | yes  | own   | no   | yes   | no  | no    | no    | no   |
| coverage view, accept a move-up  | yes  | no    | no   | yes   | no  | no    | no    | no   |
| users                            | no   | no    | no   | yes   | no  | no    | no    | no   |
| read stations, hospitals, map    | yes  | yes   | yes  | yes   | no  | no    | no    | no   |
| timelines, EIDO export, reports  | yes  | no    | yes  | yes   | no  | no    | no    | no   |
| import an EIDO                   | yes  | no    | no   | yes   | no  | no    | no    | no   |
| verify the hash chain            | no   | no    | yes  | yes   | no  | no    | no    | no   |
| request / cancel a teleconsult   | yes  | inc.† | no   | yes   | no  | no    | no    | no   |
| read teleconsults, FHIR          | yes  | inc.† | yes  | yes   | no  | spec‡ | no    | no   |
| accept / decline a teleconsult   | no   | no    | no   | no    | no  | spec‡ | no    | no   |
| end a teleconsult                | yes  | no    | no   | yes   | no  | own‡  | no    | no   |
| open teleconsults (queue)        | yes  | no    | yes  | yes   | no  | spec‡ | no    | no   |
| patients, readings, alerts       | read | no    | no   | yes   | no  | no    | yes   | no   |
| enrol, bounds, discharge, ack    | no   | no    | no   | yes   | no  | no    | yes   | no   |
| who read a patient's data        | no   | no    | no   | yes   | no  | no    | no    | no   |
| FHIR observations (/fhir)        | no   | no    | no   | yes   | no  | no    | yes   | yes  |
| /ws/console                      | yes  | no    | no   | yes   | no  | no    | no    | no   |
| /ws/crew                         | no   | own   | no   | no    | no  | no    | no    | no   |
| /ws/specialist                   | no   | no    | no   | no    | no  | spec‡ | no    | no   |
| /ws/monitoring                   | yes  | no    | no   | yes   | no  | no    | yes   | no   |

(disp: dispatcher; aud.: auditor; spec: specialist; dev.: device. * auditors read everything
but recommendations, which are an operational tool. 'own': a crew, its own unit only; 'read':
reading only. † a crew: on the incident its unit is assigned to now. ‡ a specialist: consults
in its specialties, the incident it consults on included; ends only those it accepted.)
Nurses are remote-monitoring staff; a device is a gateway that posts vital signs only.
Auditors see no patient records, and a monitoring incident's patient data is withheld from
them (api/redaction.py) unless an administrator granted them clinical access.
History searches and the floor's targets are read like the board; a unit's option for an
incident (by call sign) is a recommendation; duplicates are listed, linked and dismissed by
those who change incidents.
/health, the API documentation and the browser pages (`/`, `/crew`, `/audit`, `/ui/...`) need no
token: the pages ask for one and send it with every request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request, params
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from najda.domain.access.user import Role, token_hash
from najda.domain.errors import DispatchError
from najda.projections.access.user_directory import Principal, UserDirectory

DISPATCHER, CREW, AUDITOR, ADMIN, AVL, SPECIALIST, NURSE, DEVICE = (
    Role.DISPATCHER,
    Role.CREW,
    Role.AUDITOR,
    Role.ADMIN,
    Role.AVL,
    Role.SPECIALIST,
    Role.NURSE,
    Role.DEVICE,
)
OPERATE = frozenset({DISPATCHER, ADMIN})
READ = frozenset({DISPATCHER, ADMIN, AUDITOR})
REFERENCE_READ = frozenset({DISPATCHER, ADMIN, AUDITOR, CREW})
MANAGE = frozenset({ADMIN})
BULK_POSITIONS = frozenset({ADMIN, AVL})
CONSOLE = frozenset({DISPATCHER, ADMIN})
AUDIT = frozenset({AUDITOR, ADMIN})
CONSULT_QUEUE = frozenset({DISPATCHER, ADMIN, AUDITOR, SPECIALIST})
MONITOR_READ = frozenset({NURSE, DISPATCHER, ADMIN})
MONITOR_WRITE = frozenset({NURSE, ADMIN})
OBSERVATIONS = frozenset({NURSE, DEVICE, ADMIN})
MONITORING_SOCKET = frozenset({NURSE, DISPATCHER, ADMIN})


class Unauthenticated(DispatchError):
    """Raised when a request carries no token, or one nobody holds (HTTP 401)."""


class Forbidden(DispatchError):
    """Raised when the caller's role may not do this (HTTP 403)."""


_bearer = HTTPBearer(auto_error=False, description="a token printed by `najda users add`")


def principal_for(directory: UserDirectory, token: str | None, now: datetime) -> Principal:
    """The user holding `token`; Unauthenticated when missing, unknown, revoked or expired."""
    if not token:
        raise Unauthenticated("give a bearer token: Authorization: Bearer <token>")
    digest = token_hash(token.strip())
    user = directory.by_token_hash(digest, now)
    if user is None:
        if directory.by_token_hash(digest) is not None:
            raise Unauthenticated("the token has expired: ask an administrator for a new one")
        raise Unauthenticated("the token is unknown or revoked")
    return user


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The calling user, from the Authorization header."""
    services = request.app.state.services
    token = credentials.credentials if credentials else None
    client = request.client.host if request.client else "-"
    services.throttle.check(client)  # 429 for a client that keeps guessing
    try:
        user = principal_for(services.users, token, services.now())
    except Unauthenticated:
        if token:
            services.throttle.failed(client)
        raise
    request.state.user = user.name  # for the access log
    return user


PrincipalDep = Annotated[Principal, Depends(authenticate)]


def check_role(user: Principal, roles: frozenset[Role], what: str) -> None:
    """Forbidden unless the user's role is one of `roles`."""
    if user.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise Forbidden(f"role {user.role.value} may not {what} (allowed: {allowed})")


def check_unit(user: Principal, unit_id: UUID, roles: frozenset[Role], what: str) -> None:
    """Allow `roles`, and a crew for its own unit only."""
    if user.role is CREW:
        if user.unit_id != unit_id:
            raise Forbidden(f"a crew may {what} its own unit only")
        return
    check_role(user, roles, what)


def allow(roles: frozenset[Role], what: str) -> params.Depends:
    """A route dependency that lets only `roles` through."""

    def dependency(user: PrincipalDep) -> Principal:
        check_role(user, roles, what)
        return user

    return params.Depends(dependency)


def actor_name(user: PrincipalDep) -> str:
    """The name recorded as the actor of every event the request causes."""
    return user.name


ActorDep = Annotated[str, Depends(actor_name)]
