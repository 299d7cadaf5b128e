"""A long-lived, thread-safe, read-only view of a store that steps aside for writers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from flowpressure._errors import StoreError
from flowpressure.data._locking import POLL, is_lock_conflict, writer_waiting
from flowpressure.data._store import Store

__all__ = ["StoreReader"]


class StoreReader:
    """Share one read-only connection to a store among threads, and let ingests through.

    DuckDB allows one writing process or many reading ones. A service that kept the file open
    would lock every ``flowpressure ingest`` out; this reader instead lets go of the file when
    a writer is waiting (after the reads in flight finish) and reopens it when the writer is
    done, so every read sees the last committed ingest and no restart is needed.

    Parameters
    ----------
    path
        The store file (it must exist).
    wait
        Seconds a read may wait for a writer to finish before :class:`StoreError` is raised
        (a service answers that with 503 and ``Retry-After``).

    Examples
    --------
    >>> import polars as pl, tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     f = pathlib.Path(tmp) / "funds.csv"
    ...     pl.DataFrame({"fund_id": ["A", "A"], "date": ["2024-01-31", "2024-02-29"],
    ...                   "tna": [100.0, 102.0], "ret": [0.01, 0.01]}).write_csv(f)
    ...     db = pathlib.Path(tmp) / "fp.duckdb"
    ...     with Store(db) as store:
    ...         _ = store.ingest("fund", f)
    ...     reader = StoreReader(db)
    ...     with reader.read() as store:
    ...         rows = store.table("fund").count("*").fetchall()[0][0]
    ...     reader.close()
    >>> rows
    2
    """

    def __init__(self, path: str | Path, *, wait: float = 10.0) -> None:
        self.path = Path(path)
        self.wait = wait
        self._con: duckdb.DuckDBPyConnection | None = None
        self._active = 0
        self._closed = False
        self._cond = threading.Condition()
        self._watcher: threading.Thread | None = None
        self._opens = 0

    @property
    def generation(self) -> int:
        """How many times the file has been opened: it grows after every writer got in.

        Two reads that see the same generation saw the same committed data, so a caller may
        keep results derived from the store until the generation changes.
        """
        return self._opens

    # the connection -------------------------------------------------------------------
    def _open(self) -> duckdb.DuckDBPyConnection | None:
        """Open the file read-only, or return None while a writer holds it."""
        if not self.path.exists():
            raise StoreError(field="db", expected="an existing store file", got=str(self.path))
        try:
            con = duckdb.connect(str(self.path), read_only=True)
        except duckdb.Error as exc:
            if is_lock_conflict(exc):
                return None
            raise StoreError(
                f"cannot open store {str(self.path)!r}: {str(exc).splitlines()[0]}",
                field="db",
                expected="a DuckDB file this process can open",
            ) from None
        con.execute("SET enable_progress_bar = false")
        self._opens += 1
        return con

    def _release_if_idle(self) -> None:
        # caller holds self._cond
        if self._con is not None and self._active == 0:
            self._con.close()
            self._con = None
            self._cond.notify_all()

    def _watch(self) -> None:
        """Let go of the file while idle if a writer is waiting (readers may be idle for long)."""
        while True:
            with self._cond:
                if self._closed or self._con is None:
                    self._watcher = None
                    return
                if writer_waiting(self.path):
                    self._release_if_idle()
                self._cond.wait(POLL * 5)

    @contextmanager
    def read(self) -> Iterator[Store]:
        """Yield a read-only :class:`Store` for the duration of the block (thread-safe).

        Raises
        ------
        StoreError
            The file is missing or not a store, or a writer kept it for longer than ``wait``.
        """
        deadline = time.monotonic() + self.wait
        with self._cond:
            while True:
                if self._closed:
                    raise StoreError("the store reader is closed", field="db")
                if writer_waiting(self.path):
                    self._release_if_idle()
                else:
                    if self._con is None:
                        self._con = self._open()
                    if self._con is not None:
                        break
                if time.monotonic() >= deadline:
                    raise StoreError(
                        "the store is being written; retry in a few seconds "
                        f"(waited {self.wait:g} s)",
                        field="db",
                        expected="the store free of writers",
                    )
                self._cond.wait(POLL)
            self._active += 1
            cursor = self._con.cursor()
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._watch, daemon=True)
                self._watcher.start()
        try:
            yield Store._over(cursor, self.path)
        finally:
            cursor.close()
            with self._cond:
                self._active -= 1
                if self._active == 0 and writer_waiting(self.path):
                    self._release_if_idle()
                self._cond.notify_all()

    def close(self) -> None:
        """Close the connection once no read is in flight; later reads raise StoreError."""
        with self._cond:
            self._closed = True
            while self._active:
                self._cond.wait(POLL)
            if self._con is not None:
                self._con.close()
                self._con = None
            self._cond.notify_all()

    def __enter__(self) -> StoreReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
