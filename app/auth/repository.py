from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User


async def find_user_by_username_or_email(
    session: AsyncSession, *, username: str, email: str
) -> User | None:
    statement = select(User).where(or_(User.username == username, User.email == email))
    return (await session.scalars(statement)).first()


async def add_user(session: AsyncSession, user: User) -> User:
    session.add(user)
    await session.flush()
    return user
