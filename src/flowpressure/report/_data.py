"""The report's inputs: the panels of a store (or of frames given in memory) up to the as-of date.

Each kind is read once as a polars frame, sorted by its key columns (so a store and the same
frames in memory give the same report), with the optional columns the source did not have
dropped (a store keeps them as all-null columns). With an ``as_of`` cut-off, rows dated after
it are left out before anything is computed: no look-ahead by construction.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from flowpressure._errors import ConfigError, DataError
from flowpressure.data import KINDS, Store, get_schema
from flowpressure.data._dates import as_date
from flowpressure.data._frames import to_polars

__all__ = ["USED_KINDS", "ReportData", "group_total", "load_data", "total"]

#: The panel kinds the report reads (holdings are not used yet).
USED_KINDS: tuple[str, ...] = ("prices", "fund", "etf", "index_events", "buybacks", "options")

#: Column that dates a row of each kind, for the as-of cut-off (events: when they were known).
DATE_COLUMN = {"index_events": "announce_date"}


@dataclass(frozen=True)
class ReportData:
    """Panels by kind (only those present), where they came from, and the as-of date."""

    frames: Mapping[str, pl.DataFrame]
    source: str
    where: str
    as_of: dt.date
    cutoff: dt.date | None

    def get(self, kind: str) -> pl.DataFrame | None:
        """Return the panel of ``kind``, or None when it is missing."""
        return self.frames.get(kind)

    def missing(self, *kinds: str) -> list[str]:
        """Return the kinds among ``kinds`` that are missing."""
        return [k for k in kinds if k not in self.frames]

    def no_data(self, kinds: list[str]) -> str:
        """Say plainly which kinds are missing and how to add them."""
        names = " and ".join(kinds)
        cut = f" on or before {self.cutoff.isoformat()}" if self.cutoff is not None else ""
        how = "; ".join(f"`flowpressure ingest {k} FILE`" for k in kinds)
        return f"no {names}{cut} in {self.where}; ingest them with {how}"

    def describe(self, kind: str) -> dict[str, Any]:
        """Rows, entities and date range of one kind (empty when missing)."""
        frame = self.frames.get(kind)
        if frame is None:
            return {}
        entity = get_schema(kind).keys[0]
        col = DATE_COLUMN.get(kind, "date")
        return {
            "rows": frame.height,
            "entities": frame[entity].n_unique(),
            "first": frame[col].min(),
            "last": frame[col].max(),
        }

    def summary(self, kind: str) -> str:
        """One phrase: ``prices: 261,612 rows of 52 entities, 1999-01-04..2018-12-31``."""
        d = self.describe(kind)
        if not d:
            return f"{kind}: none"
        return (
            f"{kind}: {d['rows']:,} rows of {d['entities']:,} "
            f"{'entity' if d['entities'] == 1 else 'entities'}, "
            f"{_iso(d['first'])}..{_iso(d['last'])}"
        )


def total(values: Iterable[Any]) -> float:
    """Exact sum of the non-missing values (``math.fsum``: the same whatever their order).

    Polars sums floats in parallel, so the last bits of a sum can change from run to run;
    the report sums with this instead, so the same data always give the same page.

    Examples
    --------
    >>> total([0.1, None, 0.2, float("nan")]) == 0.1 + 0.2
    True
    """
    return math.fsum(v for v in values if v is not None and not math.isnan(v))


def group_total(
    frame: pl.DataFrame, keys: list[str], value: str, *, mean: bool = False
) -> pl.DataFrame:
    """Sum (or average) ``value`` per ``keys`` exactly, sorted by the keys.

    Missing values are skipped; a group with none sums to 0 (its mean is null).

    Examples
    --------
    >>> df = pl.DataFrame({"k": ["b", "a", "b"], "x": [1.0, 2.0, None]})
    >>> group_total(df, ["k"], "x").rows()
    [('a', 2.0), ('b', 1.0)]
    """
    groups: dict[tuple[Any, ...], list[float]] = {}
    for row in frame.select(*keys, value).iter_rows():
        v = row[-1]
        bucket = groups.setdefault(row[:-1], [])
        if v is not None and not math.isnan(v):
            bucket.append(v)
    rows = []
    for key, vals in sorted(groups.items()):
        if mean:
            rows.append((*key, math.fsum(vals) / len(vals) if vals else None))
        else:
            rows.append((*key, math.fsum(vals)))
    schema = [(k, frame.schema[k]) for k in keys] + [(value, pl.Float64)]
    return pl.DataFrame(rows, schema=schema, orient="row")


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _prepare(frame: pl.DataFrame, kind: str, cutoff: dt.date | None) -> pl.DataFrame | None:
    schema = get_schema(kind)
    empty = [c for c in frame.columns if frame.height and frame[c].null_count() == frame.height]
    frame = frame.drop(empty)
    col = DATE_COLUMN.get(kind, "date")
    if cutoff is not None and col in frame.columns:
        frame = frame.filter(pl.col(col) <= cutoff)
    if frame.height == 0:
        return None
    keys = [k for k in (*schema.keys, *schema.optional_keys) if k in frame.columns]
    return frame.sort(keys) if keys else frame


def _from_store(store: Store) -> dict[str, pl.DataFrame]:
    out: dict[str, pl.DataFrame] = {}
    for kind in USED_KINDS:
        if store.has_kind(kind):
            frame = pl.from_arrow(store.table(kind).to_arrow_table())
            assert isinstance(frame, pl.DataFrame)
            out[kind] = frame
    return out


def _from_mapping(data: Mapping[str, Any]) -> dict[str, pl.DataFrame]:
    out: dict[str, pl.DataFrame] = {}
    for kind, frame in data.items():
        if kind not in KINDS:
            raise ConfigError(
                field="data", key={"kind": kind}, expected=f"panel kinds {list(KINDS)}"
            )
        if kind in USED_KINDS and frame is not None:
            out[kind] = to_polars(frame)
    return out


def load_data(
    data: Store | Mapping[str, Any],
    *,
    as_of: dt.date | str | None = None,
    source: str | None = None,
) -> ReportData:
    """Read the panels the report uses and fix the as-of date.

    Parameters
    ----------
    data
        A :class:`~flowpressure.data.Store`, or a mapping of panel kind to frame (any frame
        narwhals accepts; ``None`` values count as missing).
    as_of
        Leave out rows dated after it. The report's as-of date is then the data's last date
        on or before it.
    source
        How to name the data in the report (default: the store's path, or "frames in memory").

    Returns
    -------
    ReportData
        The as-of date is the last date of ``prices``, else of ``fund``, else the latest date
        of any kind present.

    Raises
    ------
    ConfigError
        ``data`` is neither a Store nor a mapping, or names an unknown kind.
    DataError
        None of the kinds the report reads has a row (on or before ``as_of``).
    """
    cutoff = as_date(as_of, "as_of") if as_of is not None else None
    if isinstance(data, Store):
        raw = _from_store(data)
        label = source or f"store {data.path}"
        where = "the store"
    elif isinstance(data, Mapping):
        raw = _from_mapping(data)
        label = source or "frames in memory"
        where = "the data given"
    else:
        raise ConfigError(
            field="data",
            expected="a flowpressure.data.Store or a mapping of kind to frame",
            got=type(data).__name__,
        )
    frames: dict[str, pl.DataFrame] = {}
    for kind in USED_KINDS:
        if kind in raw:
            prepared = _prepare(raw[kind], kind, cutoff)
            if prepared is not None:
                frames[kind] = prepared
    last: dt.date | None = None
    for kind in ("prices", "fund"):
        if kind in frames:
            last = frames[kind]["date"].max()  # type: ignore[assignment]
            break
    if last is None:
        dates = [f[DATE_COLUMN.get(k, "date")].max() for k, f in frames.items()]
        last = max((d for d in dates if isinstance(d, dt.date)), default=None)
    if last is None:
        cut = f" on or before {cutoff.isoformat()}" if cutoff is not None else ""
        raise DataError(
            field="kind",
            expected=f"rows{cut} of at least one of {', '.join(USED_KINDS)}; "
            "ingest them with `flowpressure ingest KIND FILE`",
            got=label,
        )
    return ReportData(frames=frames, source=label, where=where, as_of=last, cutoff=cutoff)
