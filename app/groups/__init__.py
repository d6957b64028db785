"""Team groups: a team inbox within one organisation, taking part in conversations as one.
The tables are in `app.directory`."""
