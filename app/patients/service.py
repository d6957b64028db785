from sqlalchemy.ext.asyncio import AsyncSession

from app.patients import repository


async def patient_exists(session: AsyncSession, patient_id: str) -> bool:
    return await repository.patient_exists(session, patient_id)
