"""Peak memory and time of cleaning one upload, for the largest images accepted and for bombs
that are refused, each in a fresh worker process as the app runs them.

    .venv/bin/python -m bench.media

Peak memory is the worker's maximum resident set over the whole job (the file's bytes
included), beside that of a worker that cleaned nothing. A worker's ceiling
(PARLEY_MEDIA_MEMORY_MIB, 2048 MiB of address space by default) must stay well above
the largest figure.
"""

import io
import json
import multiprocessing
import os
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import cast

from PIL import Image

from app.media import media
from bench.measure import RESULTS_DIR
from tests.support.media import animated_gif, png_claiming, wav


@dataclass(frozen=True)
class Case:
    name: str
    accepted: bool
    input_bytes: int
    seconds: float
    peak_mib: float


def noisy(width: int, height: int, format_name: str) -> bytes:
    """An image that compresses as badly as a photo: the worst case to decode."""
    tile = Image.frombytes("RGB", (256, 256), random.Random(7).randbytes(256 * 256 * 3))
    image = Image.new("RGB", (width, height))
    for x in range(0, width, 256):
        for y in range(0, height, 256):
            image.paste(tile, (x, y))
    out = io.BytesIO()
    image.save(out, format_name, **({"quality": 85} if format_name == "JPEG" else {}))
    return out.getvalue()


def flat(width: int, height: int) -> bytes:
    """A photo-sized JPEG of one colour: tiny to send, as large as allowed to decode."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (120, 80, 60)).save(out, "JPEG", quality=50)
    return out.getvalue()


def _measure(data: bytes, content_type: str, answer: "multiprocessing.Queue[object]") -> None:
    started = time.perf_counter()
    try:
        if data:
            media.clean(data, content_type)
        accepted = True
    except media.MediaRefused:
        accepted = False
    seconds = time.perf_counter() - started
    answer.put((accepted, seconds, _peak_kib() / 1024))


def _peak_kib() -> int:
    """This process's high-water mark of resident memory. (Not getrusage's ru_maxrss: on
    Linux it carries over the parent's size from before exec.)"""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1])


def measure(name: str, data: bytes, content_type: str) -> Case:
    context = multiprocessing.get_context("spawn")
    answer: multiprocessing.Queue[object] = context.Queue()
    worker = context.Process(target=_measure, args=(data, content_type, answer))
    worker.start()
    accepted, seconds, peak_mib = cast(tuple[bool, float, float], answer.get(timeout=300))
    worker.join()
    return Case(name, accepted, len(data), round(seconds, 3), round(peak_mib, 1))


CASES: list[tuple[str, Callable[[], bytes], str]] = [
    ("idle worker (nothing cleaned)", lambda: b"", "image/png"),
    ("png 24 MP (largest accepted PNG)", lambda: noisy(6000, 4000, "PNG"), "image/png"),
    ("jpeg 24 MP phone photo", lambda: noisy(6000, 4000, "JPEG"), "image/jpeg"),
    (
        "jpeg 100 MP noise (74 MiB: over the limit)",
        lambda: noisy(12500, 8000, "JPEG"),
        "image/jpeg",
    ),
    ("jpeg 100 MP one colour (largest accepted)", lambda: flat(12500, 8000), "image/jpeg"),
    ("png bomb 80 MP header (refused)", lambda: png_claiming(10_000, 8_000), "image/png"),
    ("png bomb 4 GP header (refused)", lambda: png_claiming(65_535, 65_535), "image/png"),
    ("gif 40 frames (first kept)", lambda: animated_gif(40, 1000), "image/gif"),
    ("wav 60 s voice note", lambda: wav(60.0, 16000), "audio/wav"),
]


def main() -> None:
    cases = []
    for name, make, content_type in CASES:
        case = measure(name, make(), content_type)
        cases.append(case)
        verdict = "accepted" if case.accepted else "refused"
        print(
            f"{case.name:44} {verdict:8} {case.input_bytes / 1024:9.0f} KiB in "
            f"{case.seconds:7.3f} s, peak {case.peak_mib:7.1f} MiB"
        )
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / "media.json"
    path.write_text(
        json.dumps(
            {"benchmark": "media", "cpus": os.cpu_count(), "cases": [asdict(c) for c in cases]},
            indent=2,
        )
        + "\n"
    )
    print(f"report: {path}")


if __name__ == "__main__":
    main()
