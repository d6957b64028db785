"""Throttling of failed logins and TOTP codes, per account and per client address.

Counters live in `limits` storage: memory for one process, Redis when
PARLEY_REDIS_URL is set so that every copy of the app shares them. Windows are
fixed and start at the first failure, so a lock-out ends at most one window
after it began, however hard someone keeps trying; a success clears the
account's counter.
"""

import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerSecond
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
        self._per_account = RateLimitItemPerSecond(settings.login_failures_per_account, window)
        self._per_address = RateLimitItemPerSecond(settings.login_failures_per_address, window)

    async def check(self, *, account: str, address: str) -> Throttled | None:
        for item, key in ((self._per_account, account), (self._per_address, address)):
            if not await self._limiter.test(item, "login", key):
                stats = await self._limiter.get_window_stats(item, "login", key)
                return Throttled(max(1, math.ceil(stats.reset_time - time.time())))
        return None

    async def record_failure(self, *, account: str, address: str) -> None:
        await self._limiter.hit(self._per_account, "login", account)
        await self._limiter.hit(self._per_address, "login", address)

    async def record_success(self, *, account: str) -> None:
        await self._limiter.clear(self._per_account, "login", account)
