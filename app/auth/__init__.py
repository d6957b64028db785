"""Who a caller is: users, passwords, TOTP, tokens, login."""
