"""Users (administrators only): list, add with a new token, new token, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from fastapi.exceptions import RequestValidationError

from najda.api.auth import MANAGE, allow
from najda.api.deps import ActorDep, ServicesDep, unit_ref_id
from najda.api.errors import ERRORS
from najda.api.schemas_users import ClinicalAccess, UserCreate, UserPublic, UserToken
from najda.domain.access.user import MAX_USER_NAME, User, require_user_name
from najda.domain.errors import InvalidValue
from najda.projections.access.user_directory import Principal

router = APIRouter(
    prefix="/users",
    tags=["users"],
    responses=ERRORS,
    dependencies=[allow(MANAGE, "manage users")],
)


def user_name(
    name: Annotated[str, Path(min_length=1, max_length=MAX_USER_NAME, description="user name")],
) -> str:
    """The user name in the path, checked like a new one (422 names the path)."""
    try:
        return require_user_name(name)
    except InvalidValue as exc:
        raise RequestValidationError(
            [{"loc": ("path", "name"), "msg": exc.message, "type": "value_error"}]
        ) from None


UserName = Annotated[str, Depends(user_name)]


@router.get("")
async def list_users(services: ServicesDep) -> list[UserPublic]:
    """Every active user with role and unit (never tokens)."""
    return [_public(u) for u in services.users.list_users()]


def _public(user: Principal | User) -> UserPublic:
    return UserPublic(
        name=user.name,
        role=user.role,
        unit_id=user.unit_id,
        specialties=sorted(user.specialties),
        clinical=user.clinical,
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def add_user(body: UserCreate, services: ServicesDep, actor: ActorDep) -> UserToken:
    """Add a user; the answer holds its token, shown this once (only a hash is stored)."""
    unit_id = None if body.unit is None else unit_ref_id(body.unit)
    specialties = sorted({s.value for s in body.specialties})
    expires_at = services.settings.token_expiry(services.now())
    token = await services.command(
        lambda: services.dispatch.add_user(
            body.name,
            body.role,
            actor,
            unit_id=unit_id,
            specialties=specialties,
            expires_at=expires_at,
        )
    )
    return UserToken(
        name=body.name.strip().lower(),
        role=body.role,
        unit_id=unit_id,
        specialties=specialties,
        token=token,
        expires_at=expires_at,
    )


@router.post("/{name}/token")
async def new_token(name: UserName, services: ServicesDep, actor: ActorDep) -> UserToken:
    """Give the user a new token; the old one stops working."""
    expires_at = services.settings.token_expiry(services.now())
    token = await services.command(
        lambda: services.dispatch.issue_token(name, actor, expires_at=expires_at)
    )
    user = await services.query(lambda: services.dispatch.get_user(name))
    return UserToken(
        name=user.name,
        role=user.role,
        unit_id=user.unit_id,
        specialties=list(user.specialties),
        token=token,
        expires_at=expires_at,
    )


@router.put("/{name}/clinical")
async def set_clinical_access(
    name: UserName, body: ClinicalAccess, services: ServicesDep, actor: ActorDep
) -> UserPublic:
    """Grant an auditor clinical access (it then sees monitoring incidents' patient data
    unredacted), or withdraw it; other roles get 422."""
    await services.command(
        lambda: services.dispatch.set_clinical_access(name, body.granted, actor)
    )
    return _public(await services.query(lambda: services.dispatch.get_user(name)))


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_user(name: UserName, services: ServicesDep, actor: ActorDep) -> None:
    """Revoke the user for good: its token stops working in every process. The last
    administrator cannot be revoked (409): nobody could manage users afterwards."""
    await services.command(lambda: services.dispatch.revoke_user(name, actor))
