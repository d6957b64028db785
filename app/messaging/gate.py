"""The gate every conversation action passes: may this caller do this here, and the
conversation as they see it, decided by `app.access` in a single query."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.access import service as access
from app.access.actions import Action, Relation
from app.access.policy import Actor, Facts
from app.accounts.models import User
from app.conversations.models import Conversation, ConversationStatus
from app.directory.organisations import FeatureKey
from app.errors import ConflictError

CLOSED = "The conversation is closed; staff can reopen it."


@dataclass(frozen=True)
class ConversationView:
    """A conversation as one caller sees it, once `app.access` allowed them an action."""

    conversation: Conversation
    user: User
    actor: Actor
    facts: Facts

    @property
    def is_participant(self) -> bool:
        return Relation.PARTICIPANT in self.facts.relations

    @property
    def attachments_on(self) -> bool:
        return frozenset({FeatureKey.MESSAGING, FeatureKey.ATTACHMENTS}) in self.facts.feature_sets

    def may(self, action: Action) -> bool:
        """Whether the caller may do `action` here, from the facts already loaded."""
        return access.refusal(self.actor, action, self.facts) is None

    def write_refusal(self) -> str | None:
        """Why the caller may not write here now, or None when they may."""
        if self.conversation.status is ConversationStatus.CLOSED:
            return CLOSED
        refused = access.refusal(self.actor, Action.CONVERSATION_WRITE, self.facts)
        return refused.reason if refused else None


async def load_view(
    session: AsyncSession,
    user: User,
    conversation_id: int,
    action: Action = Action.CONVERSATION_READ,
) -> ConversationView:
    """The conversation if the user may do `action` in it: 404 when they may not see it
    (whether it exists or not), 403 when they see it but may not do this."""
    actor = access.actor_of(user)
    facts, conversation = await access.authorize_conversation(
        session, actor, action, conversation_id
    )
    return ConversationView(conversation, user, actor, facts)


def refuse_if_closed(view: ConversationView) -> None:
    if view.conversation.status is ConversationStatus.CLOSED:
        raise ConflictError(CLOSED)
