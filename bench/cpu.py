"""CPU time of processes, read from /proc (Linux): a server's own process tree, and the
database's backends, so a benchmark can say whose CPU a request spends."""

import os
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(command, parent pid, CPU seconds) of a live process."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    command = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return command, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def _all() -> dict[int, tuple[str, int, float]]:
    found = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            found[int(entry.name)] = stat
    return found


def tree_seconds(root: int) -> float:
    """CPU seconds of a process and all its descendants (workers of `--workers N`)."""
    processes = _all()
    children: dict[int, list[int]] = {}
    for pid, (_, parent, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    total, pending = 0.0, [root]
    while pending:
        pid = pending.pop()
        if pid in processes:
            total += processes[pid][2]
        pending += children.get(pid, [])
    return total


def command_seconds(command: str) -> float | None:
    """CPU seconds of every process running `command` (PostgreSQL's backends), or None
    when there is none on this machine (a remote database)."""
    seconds = [cpu for name, _, cpu in _all().values() if name == command]
    return sum(seconds) if seconds else None
