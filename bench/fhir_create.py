"""Communication creates through the gateway beside raw httpx POSTs to the same server.

    .venv/bin/python -m bench.fhir_create --fhir-url http://127.0.0.1:8080/fhir

Both sides make the same conditional create (If-None-Exist on the message
identifier), which is what every send does; the ratio is the gateway's overhead
(building and validating the resource with fhir.resources, parsing the answer).
"""

import argparse
import asyncio
import json
from datetime import UTC, datetime
from uuid import uuid4

import httpx

from app.fhir.http_gateway import HttpFhirGateway
from app.fhir.resources import (
    ConversationHeader,
    MessageRecord,
    Party,
    PatientDetails,
    build_conversation_header,
    build_message,
    build_patient,
    message_identifier,
)
from bench.measure import Figures, compare_alternating, run_timed, write_report

SENDER = Party(kind="user", id=1, display="Bench Clinician")


def message_for(header_id: str, patient_id: str) -> MessageRecord:
    return MessageRecord(
        uuid=uuid4(),
        header_fhir_id=header_id,
        patient_id=patient_id,
        sender=SENDER,
        sent=datetime.now(UTC),
        text="Benchmark message about the patient's latest results.",
    )


async def prepare_thread(gateway: HttpFhirGateway) -> tuple[str, str]:
    patient = await gateway.create(
        build_patient(PatientDetails(given_name="Bench", family_name="Patient"))
    )
    header = await gateway.create(
        build_conversation_header(
            ConversationHeader(
                uuid=uuid4(), patient_id=str(patient.id), subject="bench", closed=False,
                recipients=(SENDER,),
            )
        )
    )  # fmt: skip
    return str(patient.id), str(header.id)


async def benchmark(fhir_url: str, operations: int, concurrency: int) -> list[Figures]:
    gateway = HttpFhirGateway.connect(fhir_url, connect_timeout=5, read_timeout=60)
    raw = httpx.AsyncClient(base_url=fhir_url.rstrip("/") + "/", timeout=60)
    patient_id, header_id = await prepare_thread(gateway)

    async def through_gateway(_: int) -> None:
        record = message_for(header_id, patient_id)
        await gateway.create_if_none_exist(
            build_message(record), identifier=message_identifier(record.uuid)
        )

    async def raw_post(_: int) -> None:
        record = message_for(header_id, patient_id)
        body = json.dumps(build_message(record).model_dump(mode="json"))
        response = await raw.post(
            "Communication",
            content=body,
            headers={
                "Content-Type": "application/fhir+json",
                "If-None-Exist": f"identifier={message_identifier(record.uuid)}",
            },
        )
        response.raise_for_status()

    warmup = max(20, operations // 10)
    await run_timed(through_gateway, operations=warmup, concurrency=concurrency)
    await run_timed(raw_post, operations=warmup, concurrency=concurrency)
    figures = await compare_alternating(
        {"raw httpx POST": raw_post, "gateway create_if_none_exist": through_gateway},
        operations=operations,
        concurrency=concurrency,
    )
    await gateway.aclose()
    await raw.aclose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fhir-url", required=True, help="base URL of a FHIR R4 server")
    parser.add_argument("--operations", type=int, default=500)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    arguments = parser.parse_args()
    all_figures: list[Figures] = []
    for concurrency in arguments.concurrency:
        figures = asyncio.run(benchmark(arguments.fhir_url, arguments.operations, concurrency))
        raw, gateway = figures
        for line in figures:
            print(line.line())
        print(
            f"  gateway/raw at c={concurrency}: p50 x{gateway.p50_ms / raw.p50_ms:.2f}, "
            f"throughput x{gateway.per_second / raw.per_second:.2f}"
        )
        all_figures.extend(figures)
    path = write_report("fhir_create", all_figures, fhir_url=arguments.fhir_url)
    print(f"report: {path}")


if __name__ == "__main__":
    main()
