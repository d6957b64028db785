"""Who a caller is: passwords, TOTP, tokens, login sessions, and the caller as access
sees them. The account tables are in `app.accounts`."""
