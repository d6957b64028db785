"""Images and voice notes: checked by their bytes, cleaned, stored as FHIR Binaries."""
