"""What every route shares: the store reader, parameterised reads, 404s, JSON-safe numbers."""

from __future__ import annotations

import contextlib
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

from fastapi import Depends, Request

from flowpressure import FlowPressureError
from flowpressure.service._models import ErrorOut

if TYPE_CHECKING:
    import polars as pl

    from flowpressure.data import Store, StoreReader

T = TypeVar("T")
D = TypeVar("D")

#: Seconds a client is told to wait when the store is busy (503).
RETRY_AFTER = 2

#: Error responses every data route may give (documented in the OpenAPI schema).
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "Unknown id, or a kind the store does not hold."},
    503: {
        "model": ErrorOut,
        "description": "The store is being written or cannot be opened; retry later.",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before retrying.",
                "schema": {"type": "integer"},
            }
        },
    },
}
#: Error responses of routes that compute from their parameters only.
#: (A value the library refuses is a 422, documented by FastAPI's validation-error schema.)
CALC_ERRORS: dict[int | str, dict[str, Any]] = {}


class NotFoundError(FlowPressureError):
    """An id or kind the store does not hold (answered with 404)."""


class ReaderHolder:
    """The app's :class:`StoreReader`, opened on first use, and a cache of derived results.

    Results computed from the store (a fund's flows) are kept under a key until the store
    changes: the reader reopens the file after every writer, so the number of times it has
    opened it is a generation that moves on with every ingest. An entry of an older
    generation is never returned.
    """

    def __init__(self, path: Path, wait: float, cache_size: int = 512) -> None:
        self.path = path
        self.wait = wait
        self.cache_size = cache_size
        self._reader: StoreReader | None = None
        self._epoch = 0
        self._lock = threading.Lock()
        self._cache: OrderedDict[Hashable, Any] = OrderedDict()
        self._generation: tuple[int, int] = (-1, -1)

    def get(self) -> StoreReader:
        """Return the reader, creating it once."""
        with self._lock:
            if self._reader is None:
                from flowpressure.data import StoreReader

                self._reader = StoreReader(self.path, wait=self.wait)
                self._epoch += 1
            return self._reader

    @contextmanager
    def snapshot(self) -> Iterator[tuple[Store, tuple[int, int]]]:
        """Yield the read-only store and its generation for one request's reads."""
        reader = self.get()
        with reader.read() as store:
            yield store, (self._epoch, reader.generation)

    def recall(self, generation: tuple[int, int], key: Hashable) -> Any:
        """Return what :meth:`keep` stored under ``key`` for this generation, else None."""
        with self._lock:
            if generation != self._generation or key not in self._cache:
                return None
            self._cache.move_to_end(key)
            return self._cache[key]

    def keep(self, generation: tuple[int, int], key: Hashable, value: Any) -> None:
        """Remember ``value`` for ``key``; a newer generation drops every older entry."""
        with self._lock:
            if generation < self._generation:
                return
            if generation > self._generation:
                self._cache.clear()
                self._generation = generation
            self._cache[key] = value
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def close(self) -> None:
        """Close the reader (reads in flight finish first) and forget the cache."""
        with self._lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
            self._cache.clear()


def _holder(request: Request) -> ReaderHolder:
    holder: ReaderHolder = request.app.state.reader
    return holder


Reader = Annotated[ReaderHolder, Depends(_holder)]


@contextmanager
def reading(holder: ReaderHolder) -> Iterator[Store]:
    """Yield the read-only store for one request's reads."""
    with holder.snapshot() as (store, _):
        yield store


def cached(holder: ReaderHolder, key: Hashable, compute: Callable[[Store], T]) -> T:
    """Return ``compute(store)`` for the store as it is now, computed once per generation."""
    return memo(holder, key, compute, lambda value: value)


def memo(
    holder: ReaderHolder,
    key: Hashable,
    read: Callable[[Store], D],
    compute: Callable[[D], T],
) -> T:
    """Return ``compute(read(store))``, kept until the store changes.

    ``read`` runs while the store is held (queries only); ``compute`` after it is let go,
    so a long computation never keeps an ingest waiting.
    """
    with holder.snapshot() as (store, generation):
        found = holder.recall(generation, key)
        if found is not None:
            return cast(T, found)
        data = read(store)
    value = compute(data)
    holder.keep(generation, key, value)
    return value


def require_kind(store: Store, kind: str) -> None:
    """Raise :class:`NotFoundError` unless the store holds ``kind``."""
    if not store.has_kind(kind):
        raise NotFoundError(
            f"the store holds no {kind} panel; ingest one with: flowpressure ingest {kind} FILE",
            field="kind",
            expected="a stored kind",
            got=kind,
        )


def query(store: Store, kind: str, sql: str, params: Sequence[Any] = ()) -> pl.DataFrame:
    """Run a fixed SQL text with bound parameters over ``kind`` and return a polars frame.

    ``sql`` is always a constant of the service; client values travel only in ``params``.
    A kind the store does not hold is a :class:`NotFoundError`.
    """
    import duckdb
    import polars as pl

    try:
        table = store.con.sql(sql, params=list(params)).to_arrow_table()
    except duckdb.CatalogException:
        require_kind(store, kind)
        raise
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def drop_empty(frame: pl.DataFrame, optional: Sequence[str]) -> pl.DataFrame:
    """Drop the optional columns that are null on every row (the store keeps all columns)."""
    empty = [c for c in optional if c in frame.columns and frame[c].null_count() == frame.height]
    return frame.drop(empty)


def finite(value: Any) -> float | None:
    """Return a float for JSON: NaN, infinities and None become None."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def clean(value: Any) -> Any:
    """Replace every non-finite float in nested dicts and lists with None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def check_range(start: Any, end: Any, field: str = "end") -> None:
    """Refuse an end date before the start date."""
    from flowpressure import ConfigError

    if start is not None and end is not None and end < start:
        raise ConfigError(field=field, expected=f"a date on or after start {start}", got=end)


# An absolute file path: two or more segments after a slash (or a drive letter), not a route
# of this service (/v1/...).
_ABS_PATH = re.compile(r"(?:\b[A-Za-z]:)?(?<![\w.])(?!/v1/)(?:[\\/][^\s'\"\\/:,;()?]+){2,}")


def scrub(message: str, db: Path, *, any_path: bool = True) -> str:
    """Remove the store's path (and, with ``any_path``, any absolute path) from a message.

    Examples
    --------
    >>> scrub("cannot open store '/srv/data/fp.duckdb': locked", Path("/srv/data/fp.duckdb"))
    'cannot open store <store>: locked'
    >>> scrub("file /tmp/x/y.csv is bad (see /v1/entities)", Path("fp.duckdb"))
    'file <path> is bad (see /v1/entities)'
    """
    names = {str(db), str(db.absolute())}
    with contextlib.suppress(OSError):
        names.add(str(db.resolve()))
    for name in sorted(names, key=len, reverse=True):
        for quoted in (repr(name), f'"{name}"', name):
            message = message.replace(quoted, "<store>")
    return _ABS_PATH.sub("<path>", message) if any_path else message
