"""Generator of the embedded sample behind :mod:`flowpressure.data.sample`.

Array code only: each builder takes its own ``numpy.random.Generator`` (spawned from one seed)
and returns Arrow tables already sorted by their keys. The public module documents what is
real and what is synthetic; this one holds the recipes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]
from numpy.typing import NDArray

__all__ = [
    "ADDED_TURNOVER_MULT",
    "ADV_QUANTILES",
    "BIRTHS",
    "BUYBACK_ASSETS",
    "DEFAULT_SEED",
    "DIVIDEND_PAYERS",
    "ETF_IDS",
    "FEE_ANNUAL",
    "FUND_IDS",
    "GAPS",
    "INDEX_DIVISOR",
    "MERGERS",
    "PASSIVE_SHARE_RANGE",
    "SAMPLE_END",
    "SAMPLE_KINDS",
    "SAMPLE_START",
    "SPLITS",
    "SPX_VOLUME_RATIO",
    "STOCK_IDS",
    "Sample",
    "TURNOVER_RANGE",
    "UNIT_SIZE",
    "build",
]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Dates = NDArray[np.datetime64]

DEFAULT_SEED = 20240131
SAMPLE_START = dt.date(1999, 1, 4)
SAMPLE_END = dt.date(2018, 12, 31)
SAMPLE_KINDS = ("prices", "fund", "etf", "holdings", "index_events", "buybacks", "options")

STOCK_IDS: tuple[str, ...] = tuple(f"S{i:02d}" for i in range(1, 51))
FUND_IDS: tuple[str, ...] = tuple(f"F{i:03d}" for i in range(1, 101))
ETF_IDS: tuple[str, ...] = ("BNDX", "EQX", "SECX")
UNIT_SIZE = 50_000
FEE_ANNUAL = 0.001
INDEX_DIVISOR = 8.3e9
#: Dollar ADV of S&P 500 members in 2017, (quantile, mean close x volume) over the 499 tickers
#: with all 251 sessions of 2017 in the Kaggle S&P 500 file (2013-2018, split-adjusted OHLCV).
ADV_QUANTILES: tuple[tuple[float, float], ...] = (
    (0.01, 38.2e6),
    (0.05, 55.1e6),
    (0.10, 68.8e6),
    (0.25, 101.2e6),
    (0.50, 154.4e6),
    (0.75, 265.8e6),
    (0.90, 501.6e6),
    (0.95, 713.8e6),
    (0.99, 1619.1e6),
)
#: sum(close x volume of the Kaggle members) / (arch SPX volume x SPX close), 2014-2017 sessions.
SPX_VOLUME_RATIO = 0.0158
TURNOVER_RANGE = (0.004, 0.014)
#: The stocks the index adds (S33, S45) turn over this many times faster than their draw.
ADDED_TURNOVER_MULT = 2.0
PASSIVE_SHARE_RANGE = (0.15, 0.25)
BIRTHS: tuple[tuple[str, dt.date], ...] = (("F090", dt.date(2005, 6, 30)),)
MERGERS: tuple[tuple[str, str, dt.date], ...] = (("F099", "F098", dt.date(2010, 3, 31)),)
GAPS: tuple[tuple[str, dt.date], ...] = (("F097", dt.date(2012, 7, 31)),)
SPLITS: tuple[tuple[str, dt.date, float], ...] = (("S07", dt.date(2010, 6, 1), 2.0),)
DIVIDEND_PAYERS: tuple[str, ...] = ("S03", "S12", "S21", "S33", "S45")
BUYBACK_ASSETS: tuple[str, ...] = STOCK_IDS[:20]

# (asset, month of the quarterly rebalance, kind); effective = the session after the third
# Friday (S&P changes take effect before Monday's open, so index funds trade Friday's close).
_INDEX_PLAN: tuple[tuple[str, str, str], ...] = (
    ("S45", "2011-09", "add"),
    ("S07", "2012-12", "reweight"),
    ("S12", "2013-03", "delete"),
    ("S22", "2014-06", "reweight"),
    ("S05", "2015-09", "reweight"),
    ("S33", "2016-12", "add"),
    ("S45", "2017-03", "reweight"),
    ("S38", "2018-06", "delete"),
)
_ETF_START = np.datetime64("2008-01-01", "D")
_BUYBACK_START = np.datetime64("2010-01", "M")
# NYSE holidays of 2019 on weekdays (earnings dates of 2018-Q4 and option expiries fall in 2019).
_HOLIDAYS_2019 = np.array(
    [
        *("2019-01-01", "2019-01-21", "2019-02-18", "2019-04-19", "2019-05-27"),
        *("2019-07-04", "2019-09-02", "2019-11-28", "2019-12-25"),
    ],
    dtype="datetime64[D]",
)


@dataclass(frozen=True)
class Sample:
    """Tables of one seed plus the ground truth that the tables only imply."""

    tables: dict[str, Any]
    fund_flows: Any


@dataclass(frozen=True)
class _Market:
    sessions: Dates  # (T,) datetime64[D]
    spx_close: F64
    spx_volume: F64
    ret: F64  # (T, 51) total returns of S01..S50 then AGG_TR; row 0 is 0
    close: F64  # (T, 50) quoted closes (after the split)
    cum_split: F64  # (T, 50) product of split factors up to t
    shares_out: F64  # (50,) shares outstanding at the sample start (before any split)


def _spx_path() -> Path | None:
    spec = find_spec("arch")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        candidate = Path(root) / "data" / "sp500" / "sp500.csv.gz"
        if candidate.is_file():
            return candidate
    return None


def load_spx() -> tuple[Dates, F64, F64]:
    """Return (sessions, close, volume) of arch's S&P 500 file within the sample window."""
    path = _spx_path()
    if path is None:  # pragma: no cover - arch is a dependency; slow path if it moves its file
        from arch.data import sp500

        frame = sp500.load()
        dates = frame.index.values.astype("datetime64[D]")
        close = frame["Close"].to_numpy(np.float64)
        volume = frame["Volume"].to_numpy(np.float64)
    else:
        opts = pacsv.ConvertOptions(
            include_columns=["Date", "Close", "Volume"],
            column_types={"Date": pa.timestamp("s"), "Close": pa.float64(), "Volume": pa.float64()},
            timestamp_parsers=["%m/%d/%Y"],
        )
        table = pacsv.read_csv(path, convert_options=opts)
        dates = table["Date"].cast(pa.date32()).to_numpy()
        close = table["Close"].to_numpy()
        volume = table["Volume"].to_numpy()
    keep = (dates >= np.datetime64(SAMPLE_START)) & (dates <= np.datetime64(SAMPLE_END))
    return dates[keep], np.asarray(close[keep], np.float64), np.asarray(volume[keep], np.float64)


# --------------------------------------------------------------------------- calendar helpers
def month_ends(first: str = "1999-01", last: str = "2018-12") -> Dates:
    """Last calendar day of every month from ``first`` to ``last`` (``datetime64[D]``)."""
    months = np.arange(np.datetime64(first, "M"), np.datetime64(last, "M") + 1)
    return (months + 1).astype("datetime64[D]") - 1


def last_session_index(sessions: Dates, dates: Dates) -> I64:
    """Index of the last session on or before each date."""
    return np.searchsorted(sessions, dates, side="right").astype(np.int64) - 1


def first_session_index(sessions: Dates, dates: Dates) -> I64:
    """Index of the first session on or after each date."""
    return np.searchsorted(sessions, dates, side="left").astype(np.int64)


def third_fridays(months: Dates) -> Dates:
    """Third Friday of each ``datetime64[M]`` month."""
    first = months.astype("datetime64[M]").astype("datetime64[D]")
    weekday = (first.astype(np.int64) + 3) % 7  # Monday = 0; 1970-01-01 was a Thursday
    out: Dates = (first + (4 - weekday) % 7 + 14).astype("datetime64[D]")
    return out


def sessions_2019() -> Dates:
    """NYSE sessions of 2019 (weekdays minus the exchange's holidays)."""
    days = np.arange(np.datetime64("2019-01-01"), np.datetime64("2020-01-01"))
    weekday = (days.astype(np.int64) + 3) % 7
    return days[(weekday < 5) & ~np.isin(days, _HOLIDAYS_2019)]


def _str_column(values: tuple[str, ...] | list[str], index: NDArray[np.intp]) -> Any:
    return pa.array(list(values), pa.string()).take(pa.array(index))


def _date_column(values: Dates) -> Any:
    return pa.array(values.astype("datetime64[D]"), pa.date32())


def path_with_payouts(
    growth: F64, start: float, ex_idx: I64, rate: float, decimals: int
) -> tuple[F64, F64]:
    """Level and payouts of ``L_t = L_{t-1}(1 + r_t) - D_t`` given ``growth_t = prod(1 + r)``.

    ``D_s = round(rate * L_{s-1}, decimals)`` on each ex-date ``s``; ``growth[0]`` must be 1.
    """
    inc = np.zeros_like(growth)
    pay = np.zeros_like(growth)
    paid = 0.0
    for s in ex_idx.tolist():
        prev = growth[s - 1] * (start - paid)
        d = round(rate * prev, decimals)
        pay[s] = d
        inc[s] = d / growth[s]
        paid += inc[s]
    return growth * (start - np.cumsum(inc)), pay


# ------------------------------------------------------------------------------------ prices
def _market(rng: np.random.Generator) -> tuple[_Market, Any]:
    sessions, spx_close, spx_volume = load_spx()
    n_t, n = len(sessions), len(STOCK_IDS)
    r_spx = np.zeros(n_t)
    r_spx[1:] = spx_close[1:] / spx_close[:-1] - 1.0

    beta = rng.uniform(0.6, 1.5, n)
    idio = rng.uniform(0.15, 0.40, n) / np.sqrt(252.0)
    alpha = 0.5 * idio**2 + rng.normal(0.02, 0.03, n) / 252.0
    p0 = rng.uniform(20.0, 200.0, n)
    ret = alpha + beta * r_spx[:, None] + idio * rng.standard_normal((n_t, n))
    ret[0] = 0.0
    np.clip(ret, -0.9, None, out=ret)
    r_agg = rng.normal(0.04 / 252.0, 0.05 / np.sqrt(252.0), n_t)
    r_agg[0] = 0.0

    # Prices with cash dividends: close_t = close_{t-1}(1 + r_t) - D_t on ex-dates.
    growth = np.cumprod(1.0 + ret, axis=0)
    level = growth * p0
    dividend = np.zeros((n_t, n))
    years = np.arange(1999, 2019)
    ex_days = np.array(
        [f"{y}-{m:02d}-10" for y in years for m in (2, 5, 8, 11)], dtype="datetime64[D]"
    )
    ex_idx = first_session_index(sessions, ex_days)
    yields = rng.uniform(0.015, 0.04, len(DIVIDEND_PAYERS))
    for asset, y in zip(DIVIDEND_PAYERS, yields, strict=True):
        i = STOCK_IDS.index(asset)
        level[:, i], dividend[:, i] = path_with_payouts(growth[:, i], p0[i], ex_idx, y / 4, 2)

    cum_split = np.ones((n_t, n))
    split_factor = np.ones((n_t, n))
    for asset, day, ratio in SPLITS:
        i = STOCK_IDS.index(asset)
        t = int(first_session_index(sessions, np.array([day], dtype="datetime64[D]"))[0])
        split_factor[t, i] = ratio
        cum_split[t:, i] *= ratio
    close = level / cum_split

    # Volume: lognormal around a dollar ADV drawn from the real 2017 cross-section
    # (:data:`ADV_QUANTILES`) at the stock's 2017 mean price, +20 % in the last three sessions
    # of each month, scaled by the split. Shares outstanding: ADV / daily turnover (0.4-1.4 %,
    # twice that for the stocks the index adds).
    u = rng.uniform(0.0, 1.0, n)
    probs, values = zip(*ADV_QUANTILES, strict=True)
    adv_dollars = np.exp(np.interp(u, probs, np.log(values)))
    in_2017 = sessions.astype("datetime64[Y]") == np.datetime64("2017", "Y")
    ref_price = level[in_2017].mean(axis=0)
    turnover = rng.uniform(*TURNOVER_RANGE, n)
    for asset in {a for a, _, kind in _INDEX_PLAN if kind == "add"}:
        turnover[STOCK_IDS.index(asset)] *= ADDED_TURNOVER_MULT  # promoted mid-caps trade more
    shares_out = np.round(adv_dollars / turnover / ref_price, -3)
    month = sessions.astype("datetime64[M]")
    month_end_mult = np.ones(n_t)
    last = np.flatnonzero(np.r_[month[1:] != month[:-1], True])
    for k in range(3):
        month_end_mult[last - k] = 1.2
    noise = np.exp(rng.normal(-0.5 * 0.35**2, 0.35, (n_t, n)))
    volume = np.round(adv_dollars / ref_price * noise * month_end_mult[:, None] * cum_split)
    agg_volume = np.round(np.exp(rng.normal(np.log(1e6), 0.3, n_t)) * month_end_mult)

    # Assets in key order: AGG_TR < S01..S50 < SPX.
    ids = ["AGG_TR", *STOCK_IDS, "SPX"]
    z = np.zeros((n_t, 1))
    o = np.ones((n_t, 1))
    agg_level = 100.0 * np.cumprod(1.0 + r_agg)
    closes = np.hstack([agg_level[:, None], close, spx_close[:, None]])
    spx_units = spx_volume * SPX_VOLUME_RATIO  # close x volume = the constituents' dollars
    volumes = np.hstack([agg_volume[:, None], volume, spx_units[:, None]])
    splits = np.hstack([o, split_factor, o])
    dividends = np.hstack([z, dividend, z])
    n_a = len(ids)
    prices = pa.table(
        {
            "asset_id": _str_column(ids, np.repeat(np.arange(n_a), n_t)),
            "date": _date_column(np.tile(sessions, n_a)),
            "close": closes.T.ravel(),
            "volume": volumes.T.ravel(),
            "split_factor": splits.T.ravel(),
            "dividend": dividends.T.ravel(),
        }
    )
    market = _Market(
        sessions=sessions,
        spx_close=spx_close,
        spx_volume=spx_units,
        ret=np.hstack([ret, r_agg[:, None]]),
        close=close,
        cum_split=cum_split,
        shares_out=shares_out,
    )
    return market, prices


# ------------------------------------------------------------------------------------- funds
@dataclass(frozen=True)
class _Funds:
    months: Dates  # (M,) month-end calendar dates
    me_idx: I64  # (M,) last session of each month
    weights: F64  # (F, 51) target weights on S01..S50 and AGG_TR
    tna: F64  # (M, F), NaN outside a fund's life
    alive: NDArray[np.bool_]  # (M, F) generated rows, the hidden gap row included


def _month_no(day: dt.date) -> int:
    return (day.year - 1999) * 12 + day.month - 1


def _fund_weights(rng: np.random.Generator, n_f: int) -> tuple[F64, list[str]]:
    n_s = len(STOCK_IDS)
    cats = rng.choice(np.array(["equity", "balanced", "sector"]), size=n_f, p=[0.6, 0.25, 0.15])
    weights = np.zeros((n_f, n_s + 1))
    for f, cat in enumerate(cats.tolist()):
        n_hold = int(rng.integers(20, 31))
        u = rng.uniform(0.5, 1.5, n_hold)
        if cat == "sector":  # all ten stocks of one sector, tilted x3, plus others
            k = int(rng.integers(5))
            sector = np.arange(10 * k, 10 * k + 10)
            rest = rng.choice(np.setdiff1d(np.arange(n_s), sector), n_hold - 10, replace=False)
            held = np.r_[sector, rest]
            u[:10] *= 3.0
        else:
            held = rng.choice(n_s, n_hold, replace=False)
        equity = 0.6 if cat == "balanced" else 1.0
        weights[f, held] = equity * u / u.sum()
        weights[f, n_s] = 1.0 - equity
    return weights, [str(c) for c in cats.tolist()]


def _funds(rng: np.random.Generator, market: _Market) -> tuple[_Funds, Any, Any]:
    months = month_ends()
    n_m, n_f = len(months), len(FUND_IDS)
    month_no = np.arange(n_m)
    me_idx = last_session_index(market.sessions, months)
    weights, categories = _fund_weights(rng, n_f)

    # Buy and hold within a quarter, back to target weights at each quarter-end close.
    growth = np.cumprod(1.0 + market.ret, axis=0)
    base_idx = np.where(month_no < 3, 0, me_idx[np.maximum(3 * (month_no // 3) - 1, 0)])
    value = (growth[me_idx] / growth[base_idx]) @ weights.T  # (M, F), 1 at the base
    prev_value = np.ones_like(value)
    within = np.flatnonzero(month_no % 3 != 0)
    prev_value[within] = value[within - 1]
    ret_total = value / prev_value - 1.0 - FEE_ANNUAL / 12.0
    december = month_no % 12 == 11
    dist_yield = np.where(december[:, None], rng.uniform(0.005, 0.03, (n_m, n_f)), 0.0)
    ret = ret_total - dist_yield

    fid = {f: i for i, f in enumerate(FUND_IDS)}
    start = np.zeros(n_f, np.int64)
    stop = np.full(n_f, n_m, np.int64)
    for f, day in BIRTHS:
        start[fid[f]] = _month_no(day)
    mergers = [(fid[t], fid[a], _month_no(day)) for t, a, day in MERGERS]
    for t, _, j in mergers:
        stop[t] = j
    alive = (month_no[:, None] >= start) & (month_no[:, None] < stop)

    # Flows chase the past 12 months' total return relative to the funds alive that month.
    cols = np.arange(n_f)[None, :]
    cum = np.vstack([np.ones(n_f), np.cumprod(1.0 + ret_total, axis=0)])
    lo = np.maximum(month_no[:, None] - 12, start[None, :])
    past = np.where(alive, cum[month_no[:, None], cols] / cum[lo, cols] - 1.0, 0.0)
    excess = past - (past.sum(axis=1) / alive.sum(axis=1))[:, None]
    a = rng.normal(0.002, 0.002, n_f)
    b = rng.uniform(0.02, 0.06, n_f)
    s = rng.uniform(0.005, 0.02, n_f)
    flow_pct = a + b * excess + s * rng.standard_normal((n_m, n_f))
    for _ in range(20):  # extreme outflow episodes of one to three months
        who, j0 = int(rng.integers(n_f)), int(rng.integers(12, n_m - 3))
        length = int(rng.integers(1, 4))
        flow_pct[j0 : j0 + length, who] = rng.uniform(-0.35, -0.12, length)
    np.clip(flow_pct, -0.6, None, out=flow_pct)

    # End timing: TNA_t = TNA_{t-1} (1 + R_t) + F_t, plus a target's grown TNA at a merger.
    tna0 = np.exp(rng.uniform(np.log(5e7), np.log(5e9), n_f))
    tna = np.full((n_m, n_f), np.nan)
    flow = np.full((n_m, n_f), np.nan)
    dist = np.zeros((n_m, n_f))
    for j in range(n_m):
        born = start == j
        tna[j, born] = tna0[born]
        go = alive[j] & ~born
        prev = tna[j - 1, go]
        flow[j, go] = flow_pct[j, go] * prev
        tna[j, go] = prev * (1.0 + ret_total[j, go]) + flow[j, go]
        dist[j, go] = dist_yield[j, go] * prev
        for t, acq, jm in mergers:
            if jm == j:
                tna[j, acq] += tna[j - 1, t] * (1.0 + ret_total[j, acq])

    present = alive.copy()
    for f, day in GAPS:
        present[_month_no(day), fid[f]] = False
    fi, mj = np.nonzero(present.T)
    fund = pa.table(
        {
            "fund_id": _str_column(FUND_IDS, fi),
            "date": _date_column(months[mj]),
            "tna": tna[mj, fi],
            "ret": ret[mj, fi],
            "ret_total": ret_total[mj, fi],
            "distribution": dist[mj, fi],
            "category": _str_column(categories, fi),
        }
    )
    fi, mj = np.nonzero((present & (month_no[:, None] > start)).T)
    flows = pa.table(
        {
            "fund_id": _str_column(FUND_IDS, fi),
            "date": _date_column(months[mj]),
            "flow": flow[mj, fi],
            "flow_pct": flow_pct[mj, fi],
        }
    )
    return _Funds(months, me_idx, weights, tna, alive), fund, flows


def _holdings(funds: _Funds, market: _Market) -> Any:
    qj = np.arange(2, len(funds.months), 3)
    close_q = market.close[funds.me_idx[qj]]  # (Q, 50)
    n_s = len(STOCK_IDS)
    held = funds.weights[:, :n_s] > 0.0
    f, i, q = np.nonzero(held[:, :, None] & funds.alive[qj].T[:, None, :])
    price = close_q[q, i]
    shares = np.round(funds.tna[qj[q], f] * funds.weights[f, i] / price)
    return pa.table(
        {
            "investor_id": _str_column(FUND_IDS, f),
            "asset_id": _str_column(STOCK_IDS, i),
            "date": _date_column(funds.months[qj[q]]),
            "shares": shares,
            "value": shares * price,
        }
    )


# --------------------------------------------------------------------------------------- ETFs
def _etf(rng: np.random.Generator, market: _Market) -> Any:
    sessions = market.sessions
    e0 = int(first_session_index(sessions, np.array([_ETF_START]))[0])
    n = len(sessions) - e0
    r_spx = market.spx_close[e0 + 1 :] / market.spx_close[e0:-1] - 1.0
    underlying = {  # daily total return of what each ETF holds
        "BNDX": market.ret[e0 + 1 :, -1],
        "EQX": r_spx + 0.02 / 252.0,  # the index plus its dividend yield
        "SECX": market.ret[e0 + 1 :, :10].mean(axis=1),  # equal weight S01..S10, daily
    }
    spec = {  # expense ratio, distribution yield, NAV0, units0, P(units change), size sd
        "BNDX": (0.0005, 0.03, 50.0, 300, 0.35, 0.006),
        "EQX": (0.0009, 0.02, 100.0, 2000, 0.6, 0.01),
        "SECX": (0.0035, 0.015, 40.0, 40, 0.15, 0.02),
    }
    ex_days = np.array(
        [f"{y}-{m:02d}-20" for y in range(2008, 2019) for m in (3, 6, 9, 12)],
        dtype="datetime64[D]",
    )
    ex_idx = first_session_index(sessions[e0:], ex_days)
    cols: dict[str, list[Any]] = {k: [] for k in ("so", "nav", "dist")}
    for etf in ETF_IDS:
        fee, yld, nav0, units0, p_move, sd = spec[etf]
        growth = np.cumprod(np.concatenate([[1.0], 1.0 + underlying[etf] - fee / 252.0]))
        nav, dist = path_with_payouts(growth, nav0, ex_idx, yld / 4.0, 4)
        moves = rng.random(n) < p_move
        size = rng.normal(0.0004, sd, n)
        units = np.empty(n)
        u = units0
        for t in range(n):
            if t and moves[t]:
                d = round(u * size[t]) or (1 if size[t] > 0 else -1)
                u = max(u + d, 10)
            units[t] = u
        cols["so"].append(units * UNIT_SIZE)
        cols["nav"].append(nav)
        cols["dist"].append(dist)
    so, nav = np.concatenate(cols["so"]), np.concatenate(cols["nav"])
    return pa.table(
        {
            "fund_id": _str_column(ETF_IDS, np.repeat(np.arange(len(ETF_IDS)), n)),
            "date": _date_column(np.tile(sessions[e0:], len(ETF_IDS))),
            "shares_outstanding": so,
            "nav": nav,
            "distribution": np.concatenate(cols["dist"]),
            "aum": so * nav,
        }
    )


# ------------------------------------------------------------------- index events, buybacks
def _index_events(rng: np.random.Generator, market: _Market) -> Any:
    sessions = market.sessions
    rows = []
    for asset, month, kind in _INDEX_PLAN:
        friday = third_fridays(np.array([month], dtype="datetime64[M]"))
        eff = int(last_session_index(sessions, friday)[0]) + 1
        ann = eff - 5
        i = STOCK_IDS.index(asset)
        float_factor = rng.uniform(0.8, 1.0)
        mcap = market.shares_out[i] * market.cum_split[ann, i] * market.close[ann, i]
        fmcap = float_factor * mcap
        index_mcap = market.spx_close[ann] * INDEX_DIVISOR
        passive = rng.uniform(*PASSIVE_SHARE_RANGE)
        change = rng.uniform(0.02, 0.10) * rng.choice([-1.0, 1.0])
        if kind == "add":
            w_old, w_new = 0.0, fmcap / index_mcap
        elif kind == "delete":
            w_old, w_new = fmcap / index_mcap, 0.0
        else:  # share count or float change
            w_old = fmcap / index_mcap
            fmcap *= 1.0 + change
            w_new = fmcap / index_mcap
        rows.append((asset, sessions[ann], sessions[eff], w_old, w_new, fmcap, passive))
    rows.sort(key=lambda r: (r[0], r[2]))
    names = ("asset_id", "announce_date", "effective_date", "w_old", "w_new", "float_mcap")
    cols = dict(zip((*names, "passive_share"), zip(*rows, strict=True), strict=True))
    return pa.table(
        {
            "index_id": pa.array(["SPX"] * len(rows), pa.string()),
            "asset_id": pa.array(cols["asset_id"], pa.string()),
            **{k: _date_column(np.array(cols[k])) for k in names[1:3]},
            **{k: pa.array(cols[k], pa.float64()) for k in (*names[3:], "passive_share")},
        }
    )


def _buybacks(rng: np.random.Generator, market: _Market) -> Any:
    sessions = market.sessions
    qends = month_ends(str(_BUYBACK_START), "2018-12")[2::3]
    qe_idx = last_session_index(sessions, qends)
    idx = np.array([STOCK_IDS.index(a) for a in BUYBACK_ASSETS])
    n_q, n_a = len(qends), len(idx)
    start = int(last_session_index(sessions, np.array([_BUYBACK_START - 1], "datetime64[D]"))[0])
    rate = rng.uniform(0.01, 0.05, n_a)
    iss_rate = rng.uniform(0.001, 0.006, n_a)
    noise = np.exp(rng.normal(-0.08, 0.4, (2, n_q, n_a)))
    zero = rng.random((n_q, n_a)) < 0.1
    lag_days = rng.integers(21, 36, (n_q, n_a))
    rep = np.zeros((n_q, n_a))
    iss = np.zeros((n_q, n_a))
    so = np.zeros((n_q, n_a))
    mcap = np.zeros((n_q, n_a))
    shares = market.shares_out[idx] * market.cum_split[start, idx]
    prev = start
    for k, t in enumerate(qe_idx.tolist()):
        price = market.close[t, idx]
        shares = shares * market.cum_split[t, idx] / market.cum_split[prev, idx]
        pre = shares * price
        rep[k] = np.where(zero[k], 0.0, np.round(rate / 4.0 * pre * noise[0, k]))
        iss[k] = np.round(iss_rate / 4.0 * pre * noise[1, k])
        shares = np.round(shares + (iss[k] - rep[k]) / price)
        so[k], mcap[k], prev = shares, shares * price, t
    all_sessions = np.r_[sessions, sessions_2019()]
    earn = all_sessions[first_session_index(all_sessions, qends[:, None] + lag_days)]
    a, q = np.nonzero(np.ones((n_a, n_q), dtype=bool))
    return pa.table(
        {
            "asset_id": _str_column(BUYBACK_ASSETS, a),
            "date": _date_column(qends[q]),
            "repurchases": rep[q, a],
            "issuance": iss[q, a],
            "shares_outstanding": so[q, a],
            "market_cap": mcap[q, a],
            "earnings_date": _date_column(earn[q, a]),
        }
    )


# ------------------------------------------------------------------------------------ options
def _options(rng: np.random.Generator, market: _Market) -> Any:
    day = market.sessions[-1]
    spot = float(market.spx_close[-1])
    rate = 0.0245
    s19 = sessions_2019()
    months = np.arange(np.datetime64("2019-01", "M"), np.datetime64("2019-07", "M"))
    expiries = s19[last_session_index(s19, third_fridays(months))]
    lo, hi = np.ceil(0.8 * spot / 25.0) * 25.0, np.floor(1.2 * spot / 25.0) * 25.0
    strikes = np.arange(lo, hi + 1.0, 25.0)
    tau = (expiries - day).astype(np.int64)[:, None] / 365.0  # (E, 1)
    k = np.log(strikes[None, :] / (spot * np.exp(rate * tau)))  # (E, K) log-moneyness
    atm = 0.19 + 0.07 * np.exp(-tau / 0.2)
    skew = -0.5 * (0.25 / tau) ** 0.25
    iv = np.maximum(atm + skew * k + 0.5 * k**2 + rng.normal(0.0, 0.002, k.shape), 0.06)
    quarterly = np.isin(months.astype(np.int64) % 12, [2, 5])[:, None]
    base = 60_000.0 * np.exp(-tau / 0.6) * np.where(quarterly, 1.5, 1.0)
    bonus = np.where(strikes % 100 == 0, 2.0, np.where(strikes % 50 == 0, 1.4, 1.0))
    shape = {
        "call": np.exp(-0.5 * ((k - 0.02) / 0.06) ** 2) + 0.03,
        "put": 1.3 * np.exp(-0.5 * ((k + 0.02) / 0.05) ** 2) + 0.08,
    }
    oi = {
        t: np.round(base * bonus * s * np.exp(rng.normal(0.0, 0.25, k.shape)))
        for t, s in shape.items()
    }
    e, s, t = (a.ravel() for a in np.indices((len(expiries), len(strikes), 2)))
    n = len(e)
    return pa.table(
        {
            "asset_id": pa.array(["SPX"] * n, pa.string()),
            "date": _date_column(np.full(n, day)),
            "expiry": _date_column(expiries[e]),
            "strike": strikes[s],
            "type": _str_column(["call", "put"], t),
            "open_interest": np.where(t == 0, oi["call"][e, s], oi["put"][e, s]),
            "iv": iv[e, s],
            "multiplier": np.full(n, 100.0),
            "underlying_price": np.full(n, spot),
            "rate": np.full(n, rate),
        }
    )


def build(seed: int) -> Sample:
    """Generate every table of the sample for ``seed`` (uncached, deterministic)."""
    rng = np.random.default_rng(seed)
    r_market, r_funds, r_etf, r_index, r_buyback, r_options = rng.spawn(6)
    market, prices = _market(r_market)
    funds, fund, flows = _funds(r_funds, market)
    tables = {
        "prices": prices,
        "fund": fund,
        "etf": _etf(r_etf, market),
        "holdings": _holdings(funds, market),
        "index_events": _index_events(r_index, market),
        "buybacks": _buybacks(r_buyback, market),
        "options": _options(r_options, market),
    }
    return Sample(tables=tables, fund_flows=flows)
