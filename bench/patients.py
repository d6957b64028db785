"""Patient search at scale: `GET /api/v1/patients?q=` over many patients, served by `parley
serve`, with the size of the indexes that serve it.

Patients are written straight into SQL (search never calls FHIR): realistic names drawn
from short lists, so that common ones repeat as in a real practice, each with a birth
date and most with an NHS number, all members of the benchmark organisation. Usage:

    python -m bench.patients --database-url postgresql://... [--patients 100000]
"""

import argparse
import asyncio
import random
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import create_engine
from app.directory.organisations import PatientMembership
from app.directory.patients import PatientMetadata, PatientNameWord
from app.patients.name_words import words_of
from bench.client import api, login, organisation, staff
from bench.measure import Figures, run_timed, summarise, write_report
from bench.messaging import create_admin
from bench.server import served

GIVEN = (
    "Alex",
    "Sam",
    "Jamie",
    "Morgan",
    "Priya",
    "Mohammed",
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Noah",
    "Oliver",
    "George",
    "Arthur",
    "Leo",
    "Harry",
    "Oscar",
    "Muhammad",
    "Archie",
    "Charlie",
    "Freddie",
    "Theo",
    "Jack",
    "Lily",
    "Ivy",
    "Florence",
    "Grace",
    "Willow",
    "Rosie",
    "Sophia",
    "Evie",
    "Ella",
    "Zoë",
    "Chloé",
    "Siân",
    "Niamh",
    "Aoife",
    "Seán",
    "Dafydd",
    "Rhys",
    "Bartosz",
    "Zofia",
    "Ana",
    "José",
    "María",
    "Fatima",
    "Aisha",
    "Yusuf",
    "Omar",
    "Wei",
    "Mei",
    "Hiroshi",
    "Yuki",
    "Kwame",
    "Ama",
    "Chidi",
    "Ngozi",
    "Ravi",
    "Anjali",
)
FAMILY = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Thomas",
    "Clarke",
    "Jackson",
    "Wood",
    "Harris",
    "Edwards",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Hughes",
    "Moore",
    "Clark",
    "King",
    "Harrison",
    "Lewis",
    "Baker",
    "Lee",
    "Allen",
    "Morris",
    "Khan",
    "Scott",
    "Watson",
    "Davis",
    "Parker",
    "James",
    "Bennett",
    "Young",
    "Phillips",
    "Richardson",
    "Mitchell",
    "Bailey",
    "Carter",
    "Cook",
    "Singh",
    "Shaw",
    "Bell",
    "Collins",
    "Morgan",
    "Kelly",
    "Begum",
    "Miller",
    "Cox",
    "Hussain",
    "Marshall",
    "Simpson",
    "Price",
    "Anderson",
    "Adams",
    "Wilkinson",
    "Ali",
    "Ahmed",
    "Foster",
    "Ellis",
    "Murphy",
    "Chapman",
    "Mason",
    "Gray",
    "Richards",
    "Webb",
    "Griffiths",
    "Hunt",
    "Palmer",
    "Campbell",
    "Holmes",
    "Mills",
    "Rogers",
    "Barnes",
    "Knight",
    "Matthews",
    "Barker",
    "Powell",
    "Stevens",
    "Kaur",
    "Fisher",
    "Butler",
    "Dixon",
    "Russell",
    "Harvey",
    "Pearson",
    "Graham",
    "O'Brien",
    "O'Connor",
    "McDonald",
    "Fitzgerald",
    "D'Souza",
    "Nowak",
    "Kowalski",
    "Rossi",
    "García",
    "Müller",
    "Nguyen",
    "Okafor",
    "Mensah",
)
CHUNK = 5_000


def nhs_number(index: int) -> str | None:
    """The index-th of a run of numbers that pass the Modulus 11 check (one in eleven of
    the nine-digit starts gives no valid number: those patients have none)."""
    first = f"{400_000_000 + index:09d}"
    total = sum(int(d) * w for d, w in zip(first, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    return None if check == 10 else first + str(0 if check == 11 else check)


async def seed(engine: AsyncEngine, organisation_id: int, count: int) -> list[dict[str, Any]]:
    """`count` patients in SQL, as registration leaves them; answers the first few."""
    rng = random.Random(17)
    patients, words, memberships = [], [], []
    for index in range(count):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        patient_id = f"bench-{index:07d}"
        patients.append(
            {
                "patient_id": patient_id,
                "given_name": given,
                "family_name": family,
                "birth_date": date(1925, 1, 1) + timedelta(days=rng.randrange(36_000)),
                "nhs_number": nhs_number(index),
                "sex": rng.choice(("female", "male")),
                "is_active": True,
            }
        )
        words += [{"patient_id": patient_id, "word": word} for word in words_of(given, family)]
        memberships.append(
            {"organisation_id": organisation_id, "patient_id": patient_id, "is_primary": True}
        )
    for model, rows in (
        (PatientMetadata, patients),
        (PatientNameWord, words),
        (PatientMembership, memberships),
    ):
        for start in range(0, len(rows), CHUNK):
            async with engine.begin() as connection:
                await connection.execute(insert(model), rows[start : start + CHUNK])
    return patients[:1000]


def queries(known: list[dict[str, Any]]) -> dict[str, list[str]]:
    """What clinicians type: name starts in either order, a full name, an NHS number with
    and without spaces, a birth date, and a short common prefix."""
    rng = random.Random(3)
    sample = rng.sample(known, 200)
    numbered = [patient for patient in sample if patient["nhs_number"]]
    return {
        "two name starts, any order (e.g. 'smi al')": [
            f"{p['family_name'][:3]} {p['given_name'][:2]}" for p in sample
        ],
        "full name": [f"{p['given_name']} {p['family_name']}" for p in sample],
        "NHS number with spaces": [
            f"{n['nhs_number'][:3]} {n['nhs_number'][3:6]} {n['nhs_number'][6:]}" for n in numbered
        ],
        "birth date": [p["birth_date"].isoformat() for p in sample],
        "one short common prefix ('sm', 'pa', ...)": [p["family_name"][:2] for p in sample],
    }


async def index_sizes(engine: AsyncEngine) -> list[str]:
    if engine.dialect.name != "postgresql":
        return []
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT relname, pg_size_pretty(pg_relation_size(oid)) FROM pg_class "
                "WHERE relname IN ('patient_name_words', 'ix_patient_name_words_word', "
                "'pk_patient_name_words', 'uq_patient_metadata_nhs_number', "
                "'ix_patient_metadata_name', 'patient_metadata') ORDER BY relname"
            )
        )
        return [f"{name}: {size}" for name, size in rows]


async def benchmark(database_url: str | None, count: int) -> tuple[list[Figures], list[str]]:
    async with served(database_url, PARLEY_LOGIN_FAILURES_PER_ADDRESS="100000") as server:
        await create_admin(server.env)
        engine = create_engine(server.env["PARLEY_DATABASE_URL"])
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
            root = await login(client, "bench_admin")
            organisation_id = await organisation(client, root, "messaging")
            await staff(client, root, organisation_id, "bench_gp", "gp")
            print(f"seeding {count} patients...", flush=True)
            known = await seed(engine, organisation_id, count)
            if engine.dialect.name == "postgresql":
                autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
                async with autocommit.connect() as connection:
                    await connection.execute(text("VACUUM (ANALYZE)"))
            token = await login(client, "bench_gp")
            figures = []

            async def floor(_: int) -> None:
                await api(client, "GET", "/api/v1/auth/me", token)

            # What any signed-in request costs here (authentication, the actor, the
            # transaction): the part of a search's time that is not searching.
            await run_timed(floor, operations=20, concurrency=1)
            sample = await run_timed(floor, operations=200, concurrency=1)
            figures.append(summarise("floor: GET /auth/me", [sample], concurrency=1))
            for label, typed in queries(known).items():

                async def search(index: int, typed: list[str] = typed) -> None:
                    await api(
                        client, "GET", "/api/v1/patients", token,
                        params={"q": typed[index % len(typed)], "limit": 20},
                    )  # fmt: skip

                await run_timed(search, operations=20, concurrency=1)  # warm
                sample = await run_timed(search, operations=len(typed), concurrency=1)
                figures.append(summarise(f"search: {label}", [sample], concurrency=1))
            sizes = await index_sizes(engine)
        await engine.dispose()
        return figures, sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--patients", type=int, default=100_000)
    args = parser.parse_args()
    figures, sizes = asyncio.run(benchmark(args.database_url, args.patients))
    print(f"\nPatient search over {args.patients} patients (one client, 20 a page):")
    for figure in figures:
        print(figure.line())
    print("\nSizes:")
    for line in sizes or ["(PostgreSQL only)"]:
        print(f"  {line}")
    floor, searches = figures[0], figures[1:]
    worst = max(figure.p99_ms for figure in searches)
    print(f"\nworst search p99: {worst:.1f} ms (goal: 20 ms on PostgreSQL)")
    print(f"signed-in floor p50 {floor.p50_ms:.1f} ms; each search's p50 over it:")
    for figure in searches:
        print(f"  {figure.name}: +{figure.p50_ms - floor.p50_ms:.1f} ms")
    write_report("patients", figures, patients=args.patients, sizes=sizes)


if __name__ == "__main__":
    main()
