"""Who belongs where, as stored: organisations and their features, staff and patient
memberships, patients, team groups and external access grants.

These are the facts access decides on, so they sit below `app.access`; the rules for
changing them live above it, in `app.organisations`, `app.patients` and `app.groups`."""
