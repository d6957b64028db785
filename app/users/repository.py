from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User


async def list_users(session: AsyncSession, *, after_id: int | None, limit: int) -> list[User]:
    statement = select(User).order_by(User.id).limit(limit)
    if after_id is not None:
        statement = statement.where(User.id > after_id)
    return list(await session.scalars(statement))


async def email_taken(session: AsyncSession, email: str, *, except_user_id: int) -> bool:
    found = await session.scalar(
        select(User.id).where(User.email == email, User.id != except_user_id)
    )
    return found is not None
