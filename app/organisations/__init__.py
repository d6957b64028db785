"""Running organisations: their details, staff and patients, and the features they
switch on. The tables are in `app.directory`."""
