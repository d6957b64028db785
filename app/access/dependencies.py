"""Routers state the action; this asks `authorize` before the handler runs."""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request

from app.access import service
from app.access.actions import RULES, Action, Target
from app.access.policy import Actor
from app.auth.dependencies import CurrentPrincipal
from app.auth.service import Principal
from app.dependencies import SessionDep

# Which path parameter names the target of an action.
TARGET_PARAMETERS = {Target.PATIENT: "patient_id", Target.ORGANISATION: "organisation_id"}


def get_actor(principal: CurrentPrincipal) -> Actor:
    return service.actor_of(principal.user)


ActorDep = Annotated[Actor, Depends(get_actor)]


def target_of(request: Request, action: Action) -> str | None:
    """The target of `action` as the request's path names it (None for untargeted actions)."""
    kind = RULES[action].target
    return request.path_params.get(TARGET_PARAMETERS[kind]) if kind in TARGET_PARAMETERS else None


def authorized(action: Action) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that lets the request through only if the caller may do `action`
    to the target named in the path."""

    async def dependency(
        request: Request, principal: CurrentPrincipal, actor: ActorDep, session: SessionDep
    ) -> Principal:
        await service.authorize(session, actor, action, target_of(request, action))
        return principal

    return dependency
