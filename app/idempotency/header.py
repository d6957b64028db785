"""The Idempotency-Key request header, as every keyed route declares it."""

from typing import Annotated

from fastapi import Header

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Makes the call safe to retry: the same key and body answer the same.",
    ),
]
