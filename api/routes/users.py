"""Users (administrators only): list, add with a new token, new token, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from api.auth import MANAGE, allow
from api.deps import ActorDep, ServicesDep, unit_ref_id
from api.errors import ERRORS
from api.schemas import UserCreate, UserPublic, UserToken

router = APIRouter(
    prefix="/users",
    tags=["users"],
    responses=ERRORS,
    dependencies=[allow(MANAGE, "manage users")],
)

UserName = Annotated[str, Path(min_length=1, max_length=64, description="user name")]


@router.get("")
async def list_users(services: ServicesDep) -> list[UserPublic]:
    """Every active user with role and unit (never tokens)."""
    return [
        UserPublic(name=u.name, role=u.role, unit_id=u.unit_id) for u in services.users.list_users()
    ]


@router.post("", status_code=status.HTTP_201_CREATED)
async def add_user(body: UserCreate, services: ServicesDep, actor: ActorDep) -> UserToken:
    """Add a user; the answer holds its token, shown this once (only a hash is stored)."""
    unit_id = None if body.unit is None else unit_ref_id(body.unit)
    token = await services.command(
        lambda: services.dispatch.add_user(body.name, body.role, actor, unit_id=unit_id)
    )
    return UserToken(name=body.name.strip().lower(), role=body.role, unit_id=unit_id, token=token)


@router.post("/{name}/token")
async def new_token(name: UserName, services: ServicesDep, actor: ActorDep) -> UserToken:
    """Give the user a new token; the old one stops working."""
    token = await services.command(lambda: services.dispatch.issue_token(name, actor))
    user = await services.query(lambda: services.dispatch.get_user(name))
    return UserToken(name=user.name, role=user.role, unit_id=user.unit_id, token=token)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_user(name: UserName, services: ServicesDep, actor: ActorDep) -> None:
    """Revoke the user for good: its token stops working in every process."""
    await services.command(lambda: services.dispatch.revoke_user(name, actor))
