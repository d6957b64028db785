"""The definitions of Parley's extensions, profiles and code systems (`fhir/conformance/`),
put on a FHIR server under the deployment's canonical base, so that validators there
know them and other systems can read what Parley's names mean."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import cast

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource

from app.fhir.canonical import SHIPPED_BASE
from app.fhir.protocol import FhirGateway

# In the repository, beside the HAPI server the tests run.
SHIPPED = Path(__file__).resolve().parents[2] / "fhir" / "conformance"


def conformance_resources(base: str, directory: Path = SHIPPED) -> list[Resource]:
    """Every shipped definition, with its URLs moved under `base`."""
    files = sorted(directory.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"No conformance resources in {directory}.")
    resources = []
    for path in files:
        document = json.loads(path.read_text().replace(SHIPPED_BASE, base.rstrip("/")))
        model = cast(type[Resource], get_fhir_model_class(document["resourceType"]))
        resources.append(model.model_validate(document))
    return resources


async def load(
    fhir: FhirGateway, base: str, progress: Callable[[str], None] = lambda _: None
) -> int:
    """Create each definition, or replace the one with its canonical URL (whatever its id,
    so another deployment's definitions on the same server are left alone): safe to
    repeat."""
    resources = conformance_resources(base)
    for resource in resources:
        await fhir.put_where(resource, [("url", str(resource.url))])  # type: ignore[attr-defined]
        progress(f"{resource.get_resource_type()}/{resource.id}")
    return len(resources)
