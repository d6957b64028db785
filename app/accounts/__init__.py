"""User accounts as stored: users, their login sessions and refresh tokens.

The lowest domain package: everything else refers to a user, and nothing here
decides anything."""
