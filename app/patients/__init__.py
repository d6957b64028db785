"""Patients: a FHIR Patient plus the SQL metadata Parley keeps about it."""
