"""Bearer-token authentication and the role × endpoint rules.

| what                                | dispatcher | crew | auditor | admin | avl | nurse | device |
|-------------------------------------|------------|------|---------|-------|-----|-------|--------|
| incidents, board, recommendations   | yes        | no   | yes*    | yes   | no  | no    | no     |
| report / change / assign / close    | yes        | no   | no      | yes   | no  | no    | no     |
| read units                          | yes        | own  | yes     | yes   | no  | no    | no     |
| unit status, acknowledge            | yes        | own  | no      | yes   | no  | no    | no     |
| unit position (one)                 | yes        | own  | no      | yes   | yes | no    | no     |
| positions in bulk (AVL gateway)     | no         | no   | no      | yes   | yes | no    | no     |
| register units, stations, hospitals | no         | no   | no      | yes   | no  | no    | no     |
| users                               | no         | no   | no      | yes   | no  | no    | no     |
| stations, hospitals (read)          | yes        | yes  | yes     | yes   | no  | no    | no     |
| timelines, EIDO export, reports     | yes        | no   | yes     | yes   | no  | no    | no     |
| import an EIDO (opens an incident)  | yes        | no   | no      | yes   | no  | no    | no     |
| verify the store's hash chain       | no         | no   | yes     | yes   | no  | no    | no     |
| patients, readings, alert board     | read       | no   | no      | yes   | no  | yes   | no     |
| enrol, bounds, discharge, ack alert | no         | no   | no      | yes   | no  | yes   | no     |
| FHIR observations (POST /fhir...)   | no         | no   | no      | yes   | no  | yes   | yes    |
| /ws/console                         | yes        | no   | no      | yes   | no  | no    | no     |
| /ws/monitoring                      | yes        | no   | no      | yes   | no  | yes   | no     |
| /ws/crew                            | no         | own  | no      | no    | no  | no    | no     |

(* auditors read everything but recommendations, which are an operational tool;
'own': a crew, its own unit only; 'read': reading only.)
Nurses are remote-monitoring staff; a device is a gateway that posts vital signs only.
Auditors see no patient records: a monitoring incident carries what dispatch needed.
/health and the API documentation need no token.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request, params
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from domain.errors import DispatchError
from domain.user import Role, token_hash
from projections.users import Principal, UserDirectory

DISPATCHER, CREW, AUDITOR, ADMIN, AVL, NURSE, DEVICE = (
    Role.DISPATCHER,
    Role.CREW,
    Role.AUDITOR,
    Role.ADMIN,
    Role.AVL,
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
MONITOR_READ = frozenset({NURSE, DISPATCHER, ADMIN})
MONITOR_WRITE = frozenset({NURSE, ADMIN})
OBSERVATIONS = frozenset({NURSE, DEVICE, ADMIN})
MONITORING_SOCKET = frozenset({NURSE, DISPATCHER, ADMIN})


class Unauthenticated(DispatchError):
    """Raised when a request carries no token, or one nobody holds (HTTP 401)."""


class Forbidden(DispatchError):
    """Raised when the caller's role may not do this (HTTP 403)."""


_bearer = HTTPBearer(auto_error=False, description="a token printed by `najda users add`")


def principal_for(directory: UserDirectory, token: str | None) -> Principal:
    """The user holding `token`; Unauthenticated when missing or unknown."""
    if not token:
        raise Unauthenticated("give a bearer token: Authorization: Bearer <token>")
    user = directory.by_token_hash(token_hash(token.strip()))
    if user is None:
        raise Unauthenticated("the token is unknown or revoked")
    return user


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The calling user, from the Authorization header."""
    directory: UserDirectory = request.app.state.services.users
    return principal_for(directory, credentials.credentials if credentials else None)


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
