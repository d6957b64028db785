"""Registering patients (a FHIR Patient, then its row in `app.directory`) and granting
access to them from outside their organisations."""
