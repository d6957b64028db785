"""The caller as access sees them, for routers to hand to services (which decide)."""

from typing import Annotated

from fastapi import Depends

from app.access import service
from app.access.policy import Actor
from app.auth.dependencies import CurrentPrincipal


async def get_actor(principal: CurrentPrincipal) -> Actor:
    return service.actor_of(principal.user)


ActorDep = Annotated[Actor, Depends(get_actor)]
