"""Every router of the pages, in one list: the app mounts it and the tests walk it."""

from fastapi import APIRouter

from app.web.admin_groups_router import router as admin_groups_router
from app.web.admin_organisations_router import router as admin_organisations_router
from app.web.admin_router import router as admin_router
from app.web.admin_users_router import router as admin_users_router
from app.web.auth_router import router as auth_router
from app.web.clinical_router import router as clinical_router
from app.web.sending_router import router as sending_router
from app.web.triage_router import router as triage_router

PAGE_ROUTERS: tuple[APIRouter, ...] = (
    auth_router,
    clinical_router,
    sending_router,
    triage_router,
    admin_router,
    admin_organisations_router,
    admin_groups_router,
    admin_users_router,
)
