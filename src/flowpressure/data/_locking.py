"""How processes share one DuckDB file: many readers or one writer, and writers go first.

DuckDB lets one process write a database file or several processes read it, never both at
once. A long-lived reader (the HTTP service) would therefore lock out every ingest. The
protocol here lets them share the file:

- A writer that finds the file locked leaves a marker ``<db>.writer.<pid>`` beside it and
  retries until it gets the lock (or its wait runs out), then removes the marker.
- A reader that sees a live writer's marker lets go of the file once its in-flight reads are
  done, and waits for the writer before it reopens, so each read sees the last commit.

A marker whose process has died is ignored (and removed), so a crash cannot wedge readers.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import duckdb

#: Seconds between attempts while waiting for a lock.
POLL = 0.02


def is_lock_conflict(exc: BaseException) -> bool:
    """Whether a DuckDB error means another process holds a conflicting lock on the file."""
    text = str(exc).lower()
    conflict = "conflict" in text or "set lock" in text
    return isinstance(exc, duckdb.Error) and "lock" in text and conflict


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def writer_waiting(path: Path) -> bool:
    """Whether a live process (other than this one) is waiting to write ``path``."""
    waiting = False
    for marker in path.parent.glob(f"{path.name}.writer.*"):
        try:
            pid = int(marker.name.rsplit(".", 1)[1])
        except ValueError:
            continue
        if pid == os.getpid():
            continue
        if _pid_alive(pid):
            waiting = True
        else:
            with contextlib.suppress(OSError):
                marker.unlink()
    return waiting


Config = dict[str, str | bool | int | float | list[str]]


def connect(
    path: Path, *, read_only: bool, config: Config, wait: float
) -> duckdb.DuckDBPyConnection:
    """Open ``path``, waiting up to ``wait`` seconds while another process holds a conflicting lock.

    A writer announces itself with a marker file while it waits, so cooperating readers
    (:class:`~flowpressure.data.StoreReader`) let go of the file. The last error is re-raised
    when the wait runs out.
    """
    deadline = time.monotonic() + wait
    marker: Path | None = None
    try:
        while True:
            try:
                return duckdb.connect(str(path), read_only=read_only, config=config)
            except duckdb.Error as exc:
                if not is_lock_conflict(exc) or time.monotonic() >= deadline:
                    raise
            if not read_only and marker is None:
                marker = path.parent / f"{path.name}.writer.{os.getpid()}"
                with contextlib.suppress(OSError):
                    marker.touch()
            time.sleep(POLL)
    finally:
        if marker is not None:
            with contextlib.suppress(OSError):
                marker.unlink()
