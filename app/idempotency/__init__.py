"""Idempotency-Key: any create that goes to FHIR first may be retried safely with one."""
