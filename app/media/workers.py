"""Decoding untrusted files in worker processes: few at once, each with a memory ceiling and a
time limit, so that a burst of hostile uploads costs a bounded part of the machine and
never the app's own process.

Files wait their turn outside the pool, so the time limit counts a file's own work, not
its wait. A worker that runs out of time is killed with its pool, and the pool started
afresh; a file that was running beside it in the killed pool is tried once more. One
that runs out of memory fails its file alone. Workers are started with `spawn`, so they
share nothing with the app's event loop; they start with the first file and end with
the app.
"""

import asyncio
import multiprocessing
import resource
import weakref
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

T = TypeVar("T")


class MediaTimeoutError(Exception):
    """The file took longer than the time limit to process."""


class MediaMemoryError(Exception):
    """The file needed more memory than a worker may have."""


class _KilledBesideAnother(Exception):
    """This file's pool was killed for another file's time: not this file's fault."""


def _limit_memory(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


class MediaWorkers:
    def __init__(self, *, workers: int, memory_bytes: int, seconds: float) -> None:
        self._workers = workers
        self._memory_bytes = memory_bytes
        self._seconds = seconds
        self._pool: ProcessPoolExecutor | None = None
        self._turns = asyncio.Semaphore(workers)
        # Pools this object killed, or found broken before a file was given to them: a file
        # that fails there is not at fault, and is tried once more.
        self._killed: weakref.WeakSet[ProcessPoolExecutor] = weakref.WeakSet()

    async def run(self, function: Callable[..., T], *args: object) -> T:
        async with self._turns:
            try:
                return await self._run_once(function, *args)
            except _KilledBesideAnother:
                return await self._run_once(function, *args)

    async def _run_once(self, function: Callable[..., T], *args: object) -> T:
        pool = self._started()
        try:
            future = asyncio.get_running_loop().run_in_executor(pool, function, *args)
        except BrokenProcessPool:  # a worker died while idle
            self._kill(pool)
            raise _KilledBesideAnother() from None
        try:
            return await asyncio.wait_for(future, self._seconds)
        except TimeoutError:
            self._kill(pool)
            raise MediaTimeoutError() from None
        except MemoryError:
            raise MediaMemoryError() from None
        except BrokenProcessPool:
            if pool in self._killed:
                raise _KilledBesideAnother() from None
            self._kill(pool)  # a worker died (killed by the system for its memory)
            raise MediaMemoryError() from None

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_limit_memory,
                initargs=(self._memory_bytes,),
            )
        return self._pool

    def _kill(self, pool: ProcessPoolExecutor) -> None:
        """Stop the pool's processes now, whatever they are doing (shutdown alone waits for
        a running task to finish, however long it takes)."""
        if self._pool is pool:
            self._pool = None
        self._killed.add(pool)
        # Python 3.14 adds terminate_workers(); until then, the pool's own process table.
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        if self._pool is not None:
            self._kill(self._pool)
