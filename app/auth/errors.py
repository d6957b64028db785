from app.errors import UnauthorizedError


class InvalidCredentialsError(UnauthorizedError):
    slug = "invalid-credentials"
    title = "Invalid credentials"
    keeps_changes = True  # the audit row of the failed attempt

    def __init__(self) -> None:
        # The same words whether the user, the password or the account state was wrong.
        super().__init__("The username or password is not correct.")


class TotpRequiredError(UnauthorizedError):
    slug = "totp-required"
    title = "A TOTP code is required"
    keeps_changes = True

    def __init__(self, detail: str, *, user_id: int) -> None:
        super().__init__(detail)
        # For a two-step sign-in: the user whose password was right (never sent to clients).
        self.user_id = user_id


class TotpInvalidError(UnauthorizedError):
    slug = "totp-invalid"
    title = "The TOTP code is not valid"
    keeps_changes = True


class InvalidTokenError(UnauthorizedError):
    slug = "invalid-token"
    title = "The token is not valid"
    keeps_changes = True


class RefreshTokenReusedError(UnauthorizedError):
    slug = "refresh-token-reused"
    title = "The refresh token was already used"
    keeps_changes = True  # the revocation of the whole family

    def __init__(self) -> None:
        super().__init__(
            "This refresh token was already used; every token of its session is revoked."
        )
