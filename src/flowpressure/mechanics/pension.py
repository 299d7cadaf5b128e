r"""Pension rebalancing flows: what a mandate must trade at the next month, quarter or year end.

A mandate with target weights :math:`w` and assets :math:`W` at its last rebalance drifts
with the returns :math:`r` since then; pulling it back to target at the window end trades

.. math:: T_i = W\,w_i\,(r_p - r_i), \qquad r_p = \sum_j w_j r_j

which for two assets is the closed form :math:`T_e = W w_e w_b (r_b - r_e)` (DESIGN.md).
60/40, :math:`W` = $1tn, equities +20 %, bonds flat: sell $48bn of equities.

:func:`estimate_pension_flows` reads the returns since the last month, quarter and year end
from prices and turns the mechanical trade into a range across stated assumptions
(:class:`PensionAssumptions`): the share of the assets that rebalances mechanically, a band
inside which nothing trades, and the share already traded before the window. The answer is
"between low and high, central": ``low`` and ``high`` are the smallest and largest signed
trade over every combination of the assumptions, ``central`` uses the central ones. The
central trade is spread evenly over the last ``days`` sessions of the window.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from flowpressure._errors import ConfigError, DataError
from flowpressure.data._dates import as_date
from flowpressure.mechanics._rebalance_data import PriceArrays
from flowpressure.mechanics._rebalance_rules import parse_targets

__all__ = [
    "PensionAssumptions",
    "PensionEstimate",
    "PensionWindow",
    "RETURN_BASIS",
    "estimate_pension_flows",
    "pension_flows",
    "stack_legs",
    "two_asset_trade",
]

#: Window names and their calendar frequency.
WINDOWS = {"month": "M", "quarter": "Q", "year": "Y"}
_TOL = 1e-12


def two_asset_trade(aum: float, w_equity: float, r_equity: float, r_bond: float) -> float:
    r"""Equity trade that brings a two-asset mandate back to target after returns.

    Parameters
    ----------
    aum
        :math:`W`, the mandate's value at the last rebalance (before the returns).
    w_equity
        Target equity weight :math:`w_e`; bonds hold :math:`w_b = 1 - w_e`.
    r_equity, r_bond
        Returns since the last rebalance (fractions).

    Returns
    -------
    float
        Dollars of equities to buy (negative: sell); bonds trade the opposite.

    Notes
    -----
    .. math:: T_e = W\,w_e\,w_b\,(r_b - r_e)

    Examples
    --------
    >>> round(two_asset_trade(1e12, 0.6, 0.20, 0.0) / 1e9, 6)
    -48.0
    """
    _check_aum(aum)
    if not 0.0 <= w_equity <= 1.0:
        raise ConfigError(field="target_equity", expected="a weight in [0, 1]", got=w_equity)
    for name, r in (("equity_return", r_equity), ("bond_return", r_bond)):
        if not (math.isfinite(r) and r > -1.0):
            raise ConfigError(field=name, expected="a return > -1 (a fraction)", got=r)
    return aum * w_equity * (1.0 - w_equity) * (r_bond - r_equity)


def _check_aum(aum: float) -> None:
    if not (math.isfinite(aum) and aum > 0.0):
        raise ConfigError(field="aum", expected="assets under management > 0", got=aum)


def pension_flows(
    aum: float, targets: Mapping[str, float], returns: Mapping[str, float]
) -> dict[str, float]:
    r"""Trade per asset that brings an N-asset mandate back to target after returns.

    Parameters
    ----------
    aum
        :math:`W`, the value at the last rebalance (before the returns).
    targets
        Target weights ``{asset: w}`` summing to 1.
    returns
        Return of every target asset since the last rebalance.

    Returns
    -------
    dict
        Dollars to buy per asset (negative: sell); they sum to zero.

    Notes
    -----
    .. math:: T_i = W\,w_i\,(r_p - r_i), \qquad r_p = \sum_j w_j r_j

    Examples
    --------
    >>> t = pension_flows(1e12, {"EQ": 0.6, "BOND": 0.4}, {"EQ": 0.2, "BOND": 0.0})
    >>> {k: round(v / 1e9, 6) for k, v in t.items()}
    {'EQ': -48.0, 'BOND': 48.0}
    """
    _check_aum(aum)
    ids, matrix = parse_targets(dict(targets), None, allow_short=True)
    missing = [a for a in ids if a not in returns]
    if missing:
        raise ConfigError(
            field="returns",
            key={"asset_id": missing[0]},
            expected="a return for every asset of the targets",
        )
    r = np.array([float(returns[a]) for a in ids])
    bad = np.flatnonzero(~(np.isfinite(r) & (r > -1.0)))
    if bad.size:
        raise ConfigError(
            field="returns",
            key={"asset_id": ids[bad[0]]},
            expected="a return > -1 (a fraction)",
            got=float(r[bad[0]]),
        )
    w = matrix[0]
    r_p = float(w @ r)
    return {a: float(aum * w[i] * (r_p - r[i])) for i, a in enumerate(ids)}


def _triple(name: str, values: Sequence[float], upper: float | None) -> tuple[float, float, float]:
    vals = tuple(float(v) for v in values)
    if len(vals) != 3 or not vals[0] <= vals[1] <= vals[2]:
        raise ConfigError(field=name, expected="three values low <= central <= high", got=values)
    for v in vals:
        if not (math.isfinite(v) and v >= 0.0 and (upper is None or v <= upper)):
            bound = f"in [0, {upper}]" if upper is not None else ">= 0"
            raise ConfigError(field=name, expected=f"values {bound}", got=v)
    return vals[0], vals[1], vals[2]


@dataclass(frozen=True)
class PensionAssumptions:
    """Stated assumptions behind a pension flow range; each is (low, central, high).

    Parameters
    ----------
    share_rebalancing
        Share of the assets that rebalances mechanically at this window.
    band
        Drift band: nothing trades while every weight is within it of target (0: always).
    traded_early
        Share of the trade already done before the window (front-running the crowd).

    The defaults are illustrative, not estimates; state your own.

    Examples
    --------
    >>> PensionAssumptions().share_rebalancing
    (0.5, 0.75, 1.0)
    """

    share_rebalancing: tuple[float, float, float] = (0.5, 0.75, 1.0)
    band: tuple[float, float, float] = (0.0, 0.0, 0.02)
    traded_early: tuple[float, float, float] = (0.0, 0.25, 0.5)

    def __post_init__(self) -> None:
        _triple("share_rebalancing", self.share_rebalancing, 1.0)
        _triple("band", self.band, None)
        _triple("traded_early", self.traded_early, 1.0)

    def scale(self, drift: float) -> tuple[float, float, float]:
        """Smallest, central and largest share of the mechanical trade that happens.

        ``drift`` is the largest distance of a weight from its target.

        Examples
        --------
        >>> PensionAssumptions().scale(0.03)
        (0.25, 0.5625, 1.0)
        """

        def k(share: float, band: float, early: float) -> float:
            return share * (1.0 - early) if drift > band - _TOL else 0.0

        grid = [
            k(*c) for c in itertools.product(self.share_rebalancing, self.band, self.traded_early)
        ]
        return (
            min(grid),
            k(self.share_rebalancing[1], self.band[1], self.traded_early[1]),
            max(grid),
        )


@dataclass(frozen=True)
class PensionWindow:
    """The estimated trade for one window (month, quarter or year end)."""

    window: str
    start: dt.date
    end: dt.date
    as_of: dt.date
    returns: dict[str, float]
    drifted_weights: dict[str, float]
    drift: float
    trade: dict[str, float]
    low: dict[str, float]
    central: dict[str, float]
    high: dict[str, float]
    days: list[dt.date]
    per_day: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """Plain types for JSON (dates stay dates; the CLI prints them as ISO)."""
        return asdict(self)


@dataclass(frozen=True)
class PensionEstimate:
    """Pension flow estimates per window, with the inputs that produced them."""

    as_of: dt.date
    aum: float
    targets: dict[str, float]
    assumptions: PensionAssumptions
    windows: dict[str, PensionWindow] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain types for JSON."""
        return {
            "as_of": self.as_of,
            "aum": self.aum,
            "targets": self.targets,
            "assumptions": asdict(self.assumptions),
            "windows": {name: w.to_dict() for name, w in self.windows.items()},
            "notes": self.notes,
        }


#: How a leg's return was read, per asset (``PensionEstimate.notes["return_basis"]``).
RETURN_BASIS = {
    "adjusted": "close with the panel's splits and dividends reinvested (total return)",
    "close_only": "close only, no split or dividend in the panel: a total return for a "
    "total-return index level (e.g. ICE BofA ...TRIV), a price-only return for a raw price",
}


def stack_legs(panels: Sequence[Any]) -> Any:
    """Stack long prices panels of different legs (e.g. equities and a bond index) into one.

    Each panel is any frame narwhals accepts (``asset_id, date, close`` [, ``split_factor``,
    ``dividend``]); columns one panel lacks are null in its rows (no corporate action).

    Raises
    ------
    ConfigError
        An asset has rows in two panels (say which one is the leg).

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> eq = pl.DataFrame({"asset_id": ["EQ"], "date": [dt.date(2024, 1, 2)], "close": [1.0],
    ...                    "dividend": [0.0]})
    >>> bond = pl.DataFrame({"asset_id": ["IDX"], "date": [dt.date(2024, 1, 2)], "close": [9.0]})
    >>> stack_legs([eq, bond]).columns
    ['asset_id', 'date', 'close', 'dividend']
    """
    import polars as pl

    from flowpressure.data._frames import to_polars

    frames: list[pl.DataFrame] = []
    seen: dict[str, int] = {}
    for i, panel in enumerate(panels):
        df = to_polars(panel)
        cols = [c for c in ("asset_id", "date", "close", "split_factor", "dividend") if c in df]
        df = df.select(cols)
        for asset in df["asset_id"].unique().sort().to_list():
            if asset in seen:
                raise ConfigError(
                    field="prices",
                    key={"asset_id": asset},
                    expected=f"each asset in one prices input (also in input {seen[asset] + 1})",
                    got=f"input {i + 1}",
                )
            seen[asset] = i
        frames.append(df)
    if not frames:
        raise ConfigError(field="prices", expected="at least one prices panel")
    return pl.concat(frames, how="diagonal_relaxed")


def _return_basis(pa: PriceArrays) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, asset in enumerate(pa.assets):
        split = pa.split_factor is not None and bool(np.any(pa.split_factor[:, i] != 1.0))
        div = pa.dividend is not None and bool(np.any(pa.dividend[:, i] > 0.0))
        out[asset] = "adjusted" if (split or div) else "close_only"
    return out


def _total_return_index(pa: PriceArrays) -> np.ndarray[Any, np.dtype[np.float64]]:
    # Growth of one dollar per asset (splits and dividends reinvested), NaN where no price.
    out = np.full(pa.close.shape, np.nan)
    for i in range(pa.close.shape[1]):
        rows = np.flatnonzero(~np.isnan(pa.close[:, i]))
        close = pa.close[rows, i]
        split = pa.split_factor[rows, i] if pa.split_factor is not None else 1.0
        div = pa.dividend[rows, i] if pa.dividend is not None else 0.0
        gross = np.ones(rows.size)
        gross[1:] = ((close * split + div)[1:]) / close[:-1]
        out[rows, i] = np.cumprod(gross)
    return out


def estimate_pension_flows(
    prices: Any,
    targets: Mapping[str, float],
    aum: float,
    *,
    as_of: dt.date | str | None = None,
    windows: Sequence[str] = ("month", "quarter", "year"),
    assumptions: PensionAssumptions | None = None,
    days: int = 5,
    calendar: str = "XNYS",
) -> PensionEstimate:
    r"""Estimate the trade a mandate needs at the next month, quarter and year end.

    For each window the returns run from the close of the previous period end (the last
    rebalance) to ``as_of``; the trade is :func:`pension_flows` on them, scaled by the
    assumptions into a low/central/high range.

    Parameters
    ----------
    prices
        Long prices panel (``asset_id, date, close`` [, ``split_factor``, ``dividend``]), a
        list of such panels, one per leg (stacked by :func:`stack_legs`: e.g. equities and a
        bond total-return index read with ``load_file(path, "prices", fmt="fred")``), or
        :class:`~flowpressure.mechanics.rebalance.PriceArrays`; returns are total returns,
        and ``notes["return_basis"]`` says per asset whether splits and dividends were in the
        panel (see :data:`RETURN_BASIS`).
    targets
        Target weights ``{asset_id: w}`` summing to 1.
    aum
        :math:`W`, the mandate's value at the start of each window (its last rebalance).
    as_of
        Date of the latest returns; default the data's last date with every price (never the
        wall clock). A date without prices uses the last one before it.
    windows
        Any of ``"month"``, ``"quarter"``, ``"year"``.
    assumptions
        :class:`PensionAssumptions`; the illustrative defaults otherwise.
    days
        The central trade is spread over the last ``days`` sessions of each window.
    calendar
        Exchange calendar of the period ends.

    Returns
    -------
    PensionEstimate

    Raises
    ------
    ConfigError
        Bad targets, AUM, window name or ``days``.
    DataError
        No price at a window's start (the previous period end) or at ``as_of``.

    Notes
    -----
    With :math:`k` the share of the trade that happens under an assumption set,

    .. math:: T_i = k\,W\,w_i\,(r_p - r_i), \qquad
              k = s\,(1 - e)\,\mathbf{1}[\max_j |w'_j - w^*_j| \ge b]

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> days = [dt.date(2023, 12, 29), dt.date(2024, 1, 2), dt.date(2024, 1, 3)]
    >>> prices = pl.DataFrame({"asset_id": ["EQ"] * 3 + ["BOND"] * 3, "date": days * 2,
    ...                        "close": [100.0, 110.0, 120.0, 100.0, 100.0, 100.0]})
    >>> est = estimate_pension_flows(prices, {"EQ": 0.6, "BOND": 0.4}, 1e12, windows=["year"])
    >>> y = est.windows["year"]
    >>> y.start, y.end, round(y.trade["EQ"] / 1e9, 6)
    (datetime.date(2023, 12, 29), datetime.date(2024, 12, 31), -48.0)
    >>> round(y.low["EQ"] / 1e9, 6), round(y.central["EQ"] / 1e9, 6), round(y.high["EQ"] / 1e9, 6)
    (-48.0, -27.0, -12.0)
    """
    from flowpressure.data import last_sessions, period_end_sessions

    _check_aum(aum)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ConfigError(field="days", expected="a number of sessions >= 1", got=days)
    unknown = [w for w in windows if w not in WINDOWS]
    if unknown or not windows:
        raise ConfigError(field="windows", expected="month, quarter or year", got=list(windows))
    the_assumptions = assumptions if assumptions is not None else PensionAssumptions()
    ids, matrix = parse_targets(dict(targets), None)
    weights = dict(zip(ids, matrix[0].tolist(), strict=True))
    if isinstance(prices, list | tuple):
        prices = stack_legs(prices)
    if isinstance(prices, PriceArrays):
        pa = prices.select(ids)
    else:
        try:
            pa = PriceArrays.from_frame(prices, ids)
        except DataError as exc:
            if exc.field != "asset_id":
                raise
            raise ConfigError(
                field="targets", key=exc.key, expected="an asset_id with rows in the prices panel"
            ) from None
    index = _total_return_index(pa)
    complete = np.flatnonzero(~np.isnan(index).any(axis=1))
    if as_of is not None:
        limit = np.datetime64(_as_of_date(as_of), "D")
        complete = complete[pa.dates[complete] <= limit]
    if complete.size == 0:
        raise DataError(
            field="date",
            key={"date": as_of} if as_of is not None else None,
            expected=f"a date on or before as_of with prices of {', '.join(ids)}",
        )
    row = int(complete[-1])
    when = pa.dates[row].astype(object)
    out: dict[str, PensionWindow] = {}
    for name in windows:
        freq = WINDOWS[name]
        span = dt.timedelta(days=400)
        ends = period_end_sessions(when - span, when + span, freq, calendar)
        end = next(d for d in ends if d >= when)
        start = [d for d in ends if d < when][-1]
        at = int(np.searchsorted(pa.dates, np.datetime64(start, "D")))
        if at >= len(pa.dates) or pa.dates[at] != np.datetime64(start, "D"):
            raise DataError(
                field="date",
                key={"date": start},
                expected=f"prices at the last rebalance (the {name} end before {when})",
                got="no row",
            )
        lost = [ids[i] for i in range(len(ids)) if np.isnan(index[at, i])]
        if lost:
            raise DataError(
                field="close",
                key={"asset_id": lost[0], "date": start},
                expected=f"a price at the last rebalance (the {name} end before {when})",
                got="no price",
            )
        growth = index[row] / index[at]
        returns = {a: float(growth[i] - 1.0) for i, a in enumerate(ids)}
        trade = pension_flows(aum, weights, returns)
        r_p = sum(weights[a] * returns[a] for a in ids)
        drifted = {a: weights[a] * (1.0 + returns[a]) / (1.0 + r_p) for a in ids}
        drift = max(abs(drifted[a] - weights[a]) for a in ids)
        k_low, k_mid, k_high = the_assumptions.scale(drift)
        window_days = last_sessions(end, days, calendar)
        out[name] = PensionWindow(
            window=name,
            start=start,
            end=end,
            as_of=when,
            returns=returns,
            drifted_weights=drifted,
            drift=drift,
            trade=trade,
            low={a: min(v * k_low, v * k_high) + 0.0 for a, v in trade.items()},
            central={a: v * k_mid + 0.0 for a, v in trade.items()},
            high={a: max(v * k_low, v * k_high) + 0.0 for a, v in trade.items()},
            days=window_days,
            per_day={a: v * k_mid / len(window_days) + 0.0 for a, v in trade.items()},
        )
    basis = _return_basis(pa)
    notes = {
        "return_basis": basis,
        "return_basis_text": {b: RETURN_BASIS[b] for b in sorted(set(basis.values()))},
    }
    return PensionEstimate(when, float(aum), weights, the_assumptions, out, notes)


def _as_of_date(value: dt.date | str) -> dt.date:
    return as_date(value, "as_of")
