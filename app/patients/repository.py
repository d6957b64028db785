from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.patients.models import PatientMetadata


async def patient_exists(session: AsyncSession, patient_id: str) -> bool:
    found = await session.scalar(
        select(PatientMetadata.patient_id).where(PatientMetadata.patient_id == patient_id)
    )
    return found is not None
