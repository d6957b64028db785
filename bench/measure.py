"""Timing helpers shared by the benchmarks."""

import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Figures:
    name: str
    operations: int
    concurrency: int
    seconds: float
    per_second: float
    p50_ms: float
    p99_ms: float
    errors: int

    def line(self) -> str:
        return (
            f"{self.name:<40} {self.per_second:>9.1f}/s  p50 {self.p50_ms:>8.2f} ms  "
            f"p99 {self.p99_ms:>8.2f} ms  (n={self.operations}, c={self.concurrency}, "
            f"errors={self.errors})"
        )


def percentile(samples: list[float], fraction: float) -> float:
    if not samples:
        return float("nan")
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=1000, method="inclusive")[round(fraction * 1000) - 1]


@dataclass
class Sample:
    latencies_ms: list[float]
    errors: int
    seconds: float


async def run_timed(
    operation: Callable[[int], Awaitable[object]], *, operations: int, concurrency: int
) -> Sample:
    """Run `operation(i)` for i in range(operations) on `concurrency` workers."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(operations))

    async def worker() -> None:
        nonlocal errors
        for index in counter:
            started = time.perf_counter()
            try:
                await operation(index)
            except Exception:
                errors += 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Sample(latencies, errors, time.perf_counter() - started)


def summarise(name: str, samples: list[Sample], *, concurrency: int) -> Figures:
    latencies = [latency for sample in samples for latency in sample.latencies_ms]
    seconds = sum(sample.seconds for sample in samples)
    return Figures(
        name=name,
        operations=len(latencies) + sum(sample.errors for sample in samples),
        concurrency=concurrency,
        seconds=round(seconds, 3),
        per_second=round(len(latencies) / seconds, 1) if seconds else 0.0,
        p50_ms=round(percentile(latencies, 0.50), 2),
        p99_ms=round(percentile(latencies, 0.99), 2),
        errors=sum(sample.errors for sample in samples),
    )


async def compare_alternating(
    contenders: dict[str, Callable[[int], Awaitable[object]]],
    *,
    operations: int,
    concurrency: int,
    rounds: int = 5,
) -> list[Figures]:
    """Measure each contender in alternating rounds, so warm-up and noise fall on all alike."""
    samples: dict[str, list[Sample]] = {name: [] for name in contenders}
    per_round = max(1, operations // rounds)
    for round_number in range(rounds):
        order = list(contenders.items())
        if round_number % 2:
            order.reverse()
        for name, operation in order:
            sample = await run_timed(operation, operations=per_round, concurrency=concurrency)
            samples[name].append(sample)
    return [summarise(name, samples[name], concurrency=concurrency) for name in contenders]


def write_report(benchmark: str, figures: list[Figures], **extra: Any) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{benchmark}.json"
    report = {"benchmark": benchmark, "figures": [asdict(f) for f in figures], **extra}
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path
