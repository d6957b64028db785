"""The only code that speaks FHIR.

One protocol (`FhirGateway`) with two implementations: `HttpFhirGateway` for any
FHIR R4 server (HAPI in production) and `EmbeddedFhirGateway`, which keeps
versioned resources in Parley's own SQL database. Resources are built and
parsed with `fhir.resources` models in `resources.py`.
"""
