"""Throttling of failed logins and TOTP codes.

Three counters, each with its own limit per window: an account from one address
(10: whoever guesses at a clinician's password locks out only their own
address, not the clinician), an address across accounts (100: one address
spraying many accounts), and an account from every address together (at least
100, NIST SP 800-63B's ceiling: a distributed guess at one account).

Counters live in `limits` storage: memory for one process, Redis when
PARLEY_REDIS_URL is set so that every copy of the app shares them. Windows are
fixed and start at the first failure, so a lock-out ends at most one window
after it began, however hard someone keeps trying; a success clears the
counters of its account.
"""

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string

from app.config import Settings


def create_storage(redis_url: str | None) -> Storage:
    uri = "async+" + redis_url.removeprefix("async+") if redis_url else "async+memory://"
    storage = storage_from_string(uri)
    assert isinstance(storage, Storage)
    return storage


@dataclass(frozen=True)
class Throttled:
    retry_after_seconds: int


class LoginThrottle:
    def __init__(self, storage: Storage, settings: Settings) -> None:
        self._limiter = FixedWindowRateLimiter(storage)
        window = settings.login_throttle_window_seconds
        self._per_pair = RateLimitItemPerSecond(
            settings.login_failures_per_account_and_address, window
        )
        self._per_address = RateLimitItemPerSecond(settings.login_failures_per_address, window)
        self._per_account = RateLimitItemPerSecond(settings.login_failures_per_account, window)

    def _counters(self, account: str, address: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        return [
            (self._per_pair, ("pair", account, address)),
            (self._per_address, ("address", address)),
            (self._per_account, ("account", account)),
        ]

    async def check(self, *, account: str, address: str) -> Throttled | None:
        for item, keys in self._counters(account, address):
            if not await self._limiter.test(item, "login", *keys):
                stats = await self._limiter.get_window_stats(item, "login", *keys)
                return Throttled(max(1, math.ceil(stats.reset_time - time.time())))
        return None

    async def record_failure(self, *, account: str, address: str) -> None:
        for item, keys in self._counters(account, address):
            await self._limiter.hit(item, "login", *keys)

    async def record_success(self, *, account: str, address: str) -> None:
        await self._limiter.clear(self._per_pair, "login", "pair", account, address)
        await self._limiter.clear(self._per_account, "login", "account", account)
