"""Prices as arrays for the rebalancing kernels, the dates a rule checks, and dated flows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from flowpressure._errors import ConfigError, DataError, SchemaError
from flowpressure.data._dates import as_date

__all__ = ["PriceArrays", "check_rows", "flow_array", "unit_prices"]

F64 = NDArray[np.float64]
D64 = NDArray[np.datetime64]
B1 = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class PriceArrays:
    """A prices panel pivoted once to (dates × assets) arrays, for repeated simulations.

    Parameters
    ----------
    dates : (T,) datetime64[D]
        Ascending dates.
    assets
        Asset ids, the column order.
    close : (T, N) float64
        Close price; NaN where an asset has no row on a date.
    split_factor, dividend : (T, N) float64 or None
        Split ratio of the day (2.0 for 2-for-1) and cash dividend per share on the ex-date.
        Without them ``close`` is read as a total-return price.

    Treat the arrays as read-only: selections of assets and dates, and the unit prices the
    simulator derives from them, are memoised on the object.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> df = pl.DataFrame({"asset_id": ["B", "A", "A"], "close": [5.0, 1.0, 2.0],
    ...                    "date": [dt.date(2024, 1, 3), dt.date(2024, 1, 2), dt.date(2024, 1, 3)]})
    >>> pa = PriceArrays.from_frame(df)
    >>> pa.assets, pa.close.tolist()
    (('A', 'B'), [[1.0, nan], [2.0, 5.0]])
    """

    dates: D64
    assets: tuple[str, ...]
    close: F64
    split_factor: F64 | None = None
    dividend: F64 | None = None
    _memo: dict[Any, Any] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        shape = (len(self.dates), len(self.assets))
        for name in ("close", "split_factor", "dividend"):
            arr = getattr(self, name)
            if arr is not None and arr.shape != shape:
                raise ConfigError(field=name, expected=f"an array of shape {shape}", got=arr.shape)
        if len(self.dates) > 1 and not bool(np.all(self.dates[1:] > self.dates[:-1])):
            raise DataError(field="date", expected="dates in ascending order, each once")

    @classmethod
    def from_frame(cls, prices: Any, assets: Sequence[str] | None = None) -> PriceArrays:
        """Pivot a long prices panel (``asset_id, date, close`` [, ``split_factor``,
        ``dividend``]) in any frame narwhals accepts; only ``assets`` if given.

        Raises
        ------
        SchemaError
            A required column is missing.
        DataError
            Duplicate (asset_id, date), or a close that is not a finite number > 0, a split
            factor that is not > 0, or a negative dividend.
        """
        import narwhals as nw
        import polars as pl

        native = nw.from_native(prices)
        names = list(native.collect_schema().names())
        missing = [c for c in ("asset_id", "date", "close") if c not in names]
        if missing:
            raise SchemaError(
                f"prices panel: missing column {missing[0]!r}; frame has {names}",
                field=missing[0],
                expected="asset_id, date, close",
            )
        cols = [c for c in ("asset_id", "date", "close", "split_factor", "dividend") if c in names]
        selected = native.select(cols)
        if assets is not None:
            selected = selected.filter(nw.col("asset_id").is_in(list(assets)))
        eager = selected.collect() if isinstance(selected, nw.LazyFrame) else selected
        frame = pl.from_arrow(eager.to_arrow())
        assert isinstance(frame, pl.DataFrame)
        day = pl.col("date")
        if frame.schema["date"] == pl.String:
            parsed = frame["date"].str.to_date(strict=False)
            bad = frame.filter(parsed.is_null() & frame["date"].is_not_null())
            if bad.height:
                raise DataError(
                    field="date",
                    key={"asset_id": bad["asset_id"][0]},
                    expected="an ISO date YYYY-MM-DD",
                    got=bad["date"][0],
                    others=bad.height - 1,
                )
            day = day.str.to_date(strict=False)
        frame = frame.with_columns(
            pl.col("asset_id").cast(pl.String),
            day.cast(pl.Date),
            *[pl.col(c).cast(pl.Float64) for c in cols[2:]],
        )
        ids = list(assets) if assets is not None else sorted(frame["asset_id"].unique())
        have = set(frame["asset_id"].unique())
        absent = [a for a in ids if a not in have]
        if absent:
            raise DataError(
                field="asset_id",
                key={"asset_id": absent[0]},
                expected="an asset with rows in the prices panel",
                others=len(absent) - 1,
            )
        dup = frame.filter(pl.struct("asset_id", "date").is_duplicated())
        if dup.height:
            first = dup.sort("asset_id", "date").row(0, named=True)
            raise DataError(
                field="asset_id, date",
                key={"asset_id": first["asset_id"], "date": first["date"]},
                expected="one row per asset and date",
                others=dup.height - 1,
            )
        rules = {
            "close": (pl.col("close").is_finite() & (pl.col("close") > 0), "a price > 0"),
            "split_factor": (
                pl.col("split_factor").is_finite() & (pl.col("split_factor") > 0),
                "a split factor > 0 (2.0 for 2-for-1)",
            ),
            "dividend": (
                pl.col("dividend").is_finite() & (pl.col("dividend") >= 0),
                "a dividend per share >= 0",
            ),
        }
        for name in cols[2:]:
            ok, text = rules[name]
            bad = frame.filter(pl.col(name).is_not_null() & ~ok)
            if bad.height:
                first = bad.sort("asset_id", "date").row(0, named=True)
                raise DataError(
                    field=name,
                    key={"asset_id": first["asset_id"], "date": first["date"]},
                    expected=text,
                    got=first[name],
                    others=bad.height - 1,
                )
        dates_col = frame["date"].unique().sort()
        dates = dates_col.to_numpy().astype("datetime64[D]")
        row = np.searchsorted(dates, frame["date"].to_numpy().astype("datetime64[D]"))
        position = {a: i for i, a in enumerate(ids)}
        col = np.array([position[a] for a in frame["asset_id"].to_list()], dtype=np.int64)
        shape = (len(dates), len(ids))

        def scatter(name: str, fill: float) -> F64:
            out = np.full(shape, fill)
            out[row, col] = frame[name].fill_null(fill).to_numpy()
            return out

        close = scatter("close", np.nan)
        split = scatter("split_factor", 1.0) if "split_factor" in cols else None
        div = scatter("dividend", 0.0) if "dividend" in cols else None
        return cls(dates, tuple(ids), close, split, div)

    def select(
        self,
        assets: Sequence[str],
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
    ) -> PriceArrays:
        """Keep ``assets`` (in that order) and dates in ``[start, end]`` where any has a price.

        Examples
        --------
        >>> import datetime as dt
        >>> pa = PriceArrays(np.array(["2024-01-02", "2024-01-03"], dtype="datetime64[D]"),
        ...                  ("A", "B"), np.array([[1.0, np.nan], [2.0, 5.0]]))
        >>> pa.select(["B"]).close.tolist()
        [[5.0]]
        """
        key = ("select", tuple(assets), str(start), str(end))
        if key not in self._memo:
            if len(self._memo) >= 16:
                self._memo.pop(next(iter(self._memo)))
            self._memo[key] = self._select(assets, start, end)
        return self._memo[key]  # type: ignore[no-any-return]

    def _select(
        self,
        assets: Sequence[str],
        start: dt.date | str | None,
        end: dt.date | str | None,
    ) -> PriceArrays:
        position = {a: i for i, a in enumerate(self.assets)}
        unknown = [a for a in assets if a not in position]
        if unknown:
            raise ConfigError(
                field="targets",
                key={"asset_id": unknown[0]},
                expected="an asset_id of the prices panel",
            )
        cols = np.array([position[a] for a in assets], dtype=np.int64)
        same = cols.size == len(self.assets) and bool(np.all(cols == np.arange(cols.size)))
        close = self.close if same else self.close[:, cols]
        keep = ~np.all(np.isnan(close), axis=1) if np.isnan(close).any() else None
        if start is not None or end is not None:
            lo = np.datetime64(as_date(start), "D") if start is not None else self.dates[0]
            hi = np.datetime64(as_date(end), "D") if end is not None else self.dates[-1]
            inside = (self.dates >= lo) & (self.dates <= hi)
            keep = inside if keep is None else keep & inside
        if keep is not None and not keep.any():
            raise DataError(
                field="date",
                expected=f"prices of {', '.join(assets)} between start {start} and end {end}",
            )

        def pick(arr: F64 | None) -> F64 | None:
            if arr is None:
                return None
            part = arr if same else arr[:, cols]
            return np.ascontiguousarray(part if keep is None else part[keep])

        picked = pick(close if same else self.close)
        assert picked is not None
        return PriceArrays(
            self.dates if keep is None else self.dates[keep],
            tuple(assets),
            picked,
            pick(self.split_factor),
            pick(self.dividend),
        )


def _missing_error(pa: PriceArrays, rows: B1, expected: str) -> None:
    bad = np.isnan(pa.close) & rows[:, None]
    if bad.any():
        t, i = np.argwhere(bad)[0]
        raise DataError(
            field="close",
            key={"asset_id": pa.assets[i], "date": pa.dates[t].astype(object)},
            expected=expected,
            got="no price",
            others=int(bad.sum()) - 1,
        )


def unit_prices(pa: PriceArrays, trade_rows: B1) -> tuple[F64, F64 | None, F64 | None, int]:
    """Return unit prices, dividends per unit and the cumulative split factor.

    A unit is one share at the first date, so the unit price is the close times the split
    factors multiplied since then, and a dividend per unit is the dividend per share times
    the same factor. Returns ``(px, div, split_cum, filled)``; ``div`` and ``split_cum`` are
    ``None`` when no asset pays a dividend or splits, and ``filled`` counts the missing closes
    carried forward from the previous date (on dates where nothing trades).

    Raises
    ------
    DataError
        A price is missing on the first date or on a date where the rule may trade.
    """
    units = pa._memo.get("units")
    if units is None:
        units = pa._memo["units"] = _units(pa)
    px, div, split_cum, filled = units
    if filled:
        first = np.zeros(len(pa.dates), dtype=np.bool_)
        first[0] = True
        _missing_error(pa, first, "a price on the first date (the initial investment at target)")
        _missing_error(pa, trade_rows, "a price on every rebalance date (trades are at the close)")
    return px, div, split_cum, filled


def _units(pa: PriceArrays) -> tuple[F64, F64 | None, F64 | None, int]:
    close = pa.close
    gaps = np.isnan(close)
    filled = int(gaps.sum())
    if filled:
        index = np.where(~gaps, np.arange(close.shape[0])[:, None], 0)
        np.maximum.accumulate(index, axis=0, out=index)
        close = np.take_along_axis(close, index, axis=0)
    split_cum = None
    if pa.split_factor is not None:
        factor = pa.split_factor[1:]
        cols = np.flatnonzero((factor != 1.0).any(axis=0))
        if cols.size:
            split_cum = np.ones_like(close)
            split_cum[1:, cols] = np.cumprod(factor[:, cols], axis=0)
    px = np.ascontiguousarray(close * split_cum if split_cum is not None else close)
    div = None
    if pa.dividend is not None:
        paid = pa.dividend[1:]
        cols = np.flatnonzero((paid != 0.0).any(axis=0))
        if cols.size:
            div = np.zeros_like(px)
            div[1:, cols] = paid[:, cols]
            if split_cum is not None:
                div *= split_cum
    return px, div, split_cum, filled


def _period_key(days: D64, freq: str) -> NDArray[np.int64]:
    months = days.astype("datetime64[M]").astype(np.int64)
    if freq == "M":
        return months
    if freq == "Q":
        return months // 3
    return months // 12


def check_rows(dates: D64, schedule: str, every: int | None, calendar: str | None) -> B1:
    """Rows where a rule looks at the portfolio.

    ``schedule`` ``"D"`` checks every row after the first; ``every`` checks rows ``n, 2n, …``;
    ``"M"``/``"Q"``/``"Y"`` check the last session of each period of ``calendar`` (an
    ``exchange_calendars`` name), or with ``calendar=None`` the last date of each period in
    the data itself (the data's last row is then never a period end: the next date is
    unknown). The first row is the initial investment and is never a check.

    Raises
    ------
    DataError
        A period end of the calendar inside the data's range has no row.

    Examples
    --------
    >>> days = np.array(["2024-01-30", "2024-01-31", "2024-02-01"], dtype="datetime64[D]")
    >>> check_rows(days, "M", None, None).tolist()
    [False, True, False]
    """
    n_t = len(dates)
    mask = np.zeros(n_t, dtype=np.bool_)
    if every is not None:
        mask[every::every] = True
        return mask
    if schedule == "D":
        mask[1:] = True
        return mask
    if calendar is None:
        key = _period_key(dates, schedule)
        mask[:-1] = key[:-1] != key[1:]
        mask[0] = False
        return mask
    from flowpressure.data import sessions

    first, last = as_date(dates[0]), as_date(dates[-1])
    known = sessions(first, dt.date(last.year + 1, 1, 31), calendar)
    key = _period_key(known, schedule)
    ends = known[:-1][key[:-1] != key[1:]]
    ends = ends[(ends > dates[0]) & (ends <= dates[-1])]
    where = np.searchsorted(dates, ends)
    present = dates[np.minimum(where, n_t - 1)] == ends
    if not present.all():
        lost = ends[~present]
        name = {"M": "month", "Q": "quarter", "Y": "year"}[schedule]
        raise DataError(
            field="date",
            key={"date": lost[0].astype(object)},
            expected=f"prices on every rebalance date (the last {calendar} session of each {name})",
            got="no row",
            others=len(lost) - 1,
        )
    mask[where] = True
    return mask


def flow_array(flows: Any, dates: D64) -> F64:
    """Dated contributions (+) and withdrawals (-) as an array over ``dates``.

    ``flows`` is a mapping ``{date: amount}`` or a frame with columns ``date`` and ``flow``.
    Amounts on the same date add up.

    Raises
    ------
    DataError
        A flow dated outside the simulated dates, or not a finite number.

    Examples
    --------
    >>> days = np.array(["2024-01-02", "2024-01-03"], dtype="datetime64[D]")
    >>> flow_array({"2024-01-03": 5.0}, days).tolist()
    [0.0, 5.0]
    """
    out = np.zeros(len(dates))
    if flows is None:
        return out
    pairs: list[tuple[Any, Any]]
    if isinstance(flows, Mapping):
        pairs = list(flows.items())
    else:
        import narwhals as nw

        try:
            frame = nw.from_native(flows)
        except TypeError:
            raise ConfigError(
                field="flows",
                expected="a mapping {date: amount} or a frame with date and flow columns",
                got=type(flows).__name__,
            ) from None
        eager = frame.collect() if isinstance(frame, nw.LazyFrame) else frame
        names = list(eager.columns)
        if "date" not in names or "flow" not in names:
            raise SchemaError(
                f"flows: missing column 'date' or 'flow'; frame has {names}",
                field="flow" if "date" in names else "date",
                expected="date, flow",
            )
        pairs = list(zip(eager["date"].to_list(), eager["flow"].to_list(), strict=True))
    for when, amount in sorted(pairs, key=lambda kv: as_date(kv[0])):
        day = as_date(when)
        value = float(amount) if amount is not None else float("nan")
        if not np.isfinite(value):
            raise DataError(
                field="flows", key={"date": day}, expected="a finite amount", got=amount
            )
        at = int(np.searchsorted(dates, np.datetime64(day, "D")))
        if at >= len(dates) or dates[at] != np.datetime64(day, "D"):
            raise DataError(
                field="flows",
                key={"date": day},
                expected="a date of the simulation (a date with prices between start and end)",
            )
        out[at] += value
    return out
