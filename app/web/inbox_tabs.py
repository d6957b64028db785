"""The tabs above a staff member's inbox: one per view, each with its open and unread
numbers (counted only so far: past the limit a tab says "99+")."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.conversations.models import InboxView
from app.messaging import inbox_view
from app.messaging.schemas import COUNT_LIMIT

VIEW_TABS = [
    (InboxView.MINE, "Mine"),
    (InboxView.TEAMS, "My teams"),
    (InboxView.UNASSIGNED, "Unassigned"),
    (InboxView.OVERDUE, "Overdue"),
    (InboxView.ORGANISATION, "Everything"),
]


@dataclass(frozen=True)
class ViewTab:
    view: str
    label: str
    open: str  # "12", or "99+" past the count's limit
    unread: str


def _shown(count: int) -> str:
    return f"{COUNT_LIMIT - 1}+" if count >= COUNT_LIMIT else str(count)


async def view_tabs(session: AsyncSession, user: User) -> list[ViewTab]:
    counts = await inbox_view.count_views(session, user)
    tabs = []
    for view, label in VIEW_TABS:
        count = getattr(counts, view.value)
        tabs.append(ViewTab(view.value, label, _shown(count.open), _shown(count.unread)))
    return tabs
