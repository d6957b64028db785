"""Publishing Parley's directory (staff, organisations, memberships, team groups) as the
FHIR resources that messages name as their senders and recipients."""
