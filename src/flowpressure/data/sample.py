"""The embedded sample: seven panels, one real index, everything else synthetic and seeded.

The sample runs the whole system offline (``make demo``, doctests, tests of every layer). It
is generated in about a second from one seed and is bit-for-bit reproducible: one
``numpy.random.default_rng(seed)`` spawns one generator per table, no global random state and
no wall clock are used. Every table satisfies its schema in :mod:`flowpressure.data._schema`
and is sorted by its keys, date last.

What is real
------------
- ``prices`` of ``SPX``: the S&P 500 close of arch's example file (``arch.data.sp500``,
  shipped in the arch wheel), 1999-01-04 to 2018-12-31. Its dates are exactly the 5,031 XNYS
  sessions of that window and are the session dates of the whole sample. ``split_factor`` is
  1 and ``dividend`` 0 (a price index). ``volume`` is arch's daily share volume times
  :data:`SPX_VOLUME_RATIO` (0.0158), in index units, so that ``close x volume`` is the
  members' cash dollar volume: 0.0158 is sum(close x volume) of the members in the Kaggle
  S&P 500 file divided by sum(arch volume x SPX close) over the 1,007 sessions of 2014-2017.
  The sample's SPX dollar ADV of 2017 is $131.9bn a day (Kaggle members: $126.0bn; SPY adds
  about $25-35bn and ES futures $300-400bn of notional, which the sample does not hold).
- Calendar facts: month and quarter ends, third Fridays, NYSE sessions (2019 holidays for
  option expiries and earnings dates after the sample end).

What is synthetic, and how
--------------------------
- ``prices`` of ``AGG_TR`` (a bond total-return index, normal daily returns with mean 4 %/252
  and volatility 5 %/√252) and of 50 stocks ``S01``..``S50``: daily total return
  ``r = alpha + beta·r_SPX + e`` with beta 0.6-1.5 and idiosyncratic volatility 15-40 % a
  year, start prices 20-200. Share volume is lognormal (sd 0.35) around a level worth a
  dollar ADV drawn from the real 2017 cross-section of S&P 500 members (:data:`ADV_QUANTILES`,
  mean close x volume of the 499 tickers of the Kaggle file with all 251 sessions of 2017:
  10 % 68.8m, median 154.4m, 90 % 501.6m, 99 % 1.62bn a day; interpolated in logs, held at the
  1 % and 99 % points) at the stock's mean 2017 price, +20 % in the last three sessions of each
  month. The 50 stocks' 2017 dollar ADVs have median 190m, 10 % 65m, 90 % 478m. Shares
  outstanding are ``ADV / turnover`` with a daily turnover of 0.4-1.4 %
  (:data:`TURNOVER_RANGE`, doubled for the two stocks the index adds; the members' $126bn a
  day on a $20tn index is 0.62 %), so a median stock is worth about $17bn in mid-2017, 0.08 %
  of the index. Close, split and dividend obey
  ``close_t·split_factor_t + dividend_t = close_{t-1}·(1 + r_t)``. :data:`SPLITS`: S07 splits
  2-for-1 on 2010-06-01 (close halves, volume doubles from then on).
  :data:`DIVIDEND_PAYERS` pay quarterly cash dividends (yield 1.5-4 %) on the first session on
  or after the 10th of Feb, May, Aug and Nov.
- ``fund``: month-end calendar dates 1999-01-31..2018-12-31, 100 funds ``F001``..``F100``
  (``equity``, ``balanced`` 60 % stocks / 40 % AGG_TR, ``sector``), each holding 20-30 stocks
  at fixed target weights, rebalanced at each quarter-end close. ``ret_total`` is the
  portfolio's total return from the daily prices minus :data:`FEE_ANNUAL`/12; ``distribution``
  is the currency amount paid in December, ``distribution = y·tna_{t-1}`` with a yield y of
  0.5-3 %, and ``ret = ret_total - y`` is the price-only return. Flows chase performance,
  ``flow_pct = a + b·(past 12-month ret_total minus the mean of the funds alive) + noise``,
  with 20 extreme outflow episodes (12-35 % a month), and TNA follows end timing exactly:
  ``tna_t = tna_{t-1}·(1 + ret_total_t) + flow_t``. Initial TNA 50m-5bn. The true flows are
  :func:`true_flows`. Lifecycle facts: :data:`BIRTHS`, :data:`MERGERS` (on the merger date the
  acquirer's TNA also holds ``tna_target,t-1·(1 + ret_total_acquirer,t)``), :data:`GAPS` (the
  row is missing, nothing else changes).
- ``holdings``: quarter-end calendar dates, ``investor_id`` = ``fund_id``;
  ``shares = round(tna_q·w_i / close_q)`` for each stock held (the equity sleeve), ``value =
  shares·close``. Outflows sell proportionally; S07's share counts double across its split.
- ``etf``: sessions 2008-01-02..2018-12-31 for ``EQX`` (SPX plus a 2 % dividend yield, NAV
  100 at the start), ``BNDX`` (AGG_TR) and ``SECX`` (equal-weight S01..S10, daily). NAV follows
  the holdings' total return minus the expense ratio and drops by the quarterly distribution
  per share (first session on or after the 20th of Mar, Jun, Sep, Dec). Shares outstanding
  change only in whole creation units of :data:`UNIT_SIZE` shares; ``aum = shares·nav``.
- ``index_events``: eight events on ``SPX`` (additions, deletions, reweightings) effective on
  the session after the third Friday of Mar/Jun/Sep/Dec, announced five sessions earlier.
  ``float_mcap`` is the float-adjusted market cap after the event at the announcement close
  (float factor 0.8-1, a reweighting changes it by 2-10 %); weights are
  ``float_mcap / (SPX close · INDEX_DIVISOR)`` (8.3e9, about S&P's divisor of the 2010s, so
  the index is worth $20tn in 2017). ``passive_share`` is 15-25 % (:data:`PASSIVE_SHARE_RANGE`),
  so an addition demands ``passive_share · float_mcap``: the sample's two additions are
  $0.95bn (S45, 6.4 days of its 20-session share ADV) and $6.0bn (S33, 16.7 days), the two
  deletions 13-17 days, against about 5-20 days for real S&P additions (a typical mid-cap
  promoted to the S&P 500 10-20 days; Tesla in Dec 2020 about 3). The added stocks S33 and S45
  turn over :data:`ADDED_TURNOVER_MULT` (2) times their drawn turnover, as such mid-caps do;
  at 0.4-1.4 % a day a 20 % passive share would be 15-50 days.
- ``buybacks``: quarter ends 2010-03-31..2018-12-31 for :data:`BUYBACK_ASSETS`; repurchases
  1-5 % of market cap a year (none in about one quarter in ten), issuance 0.1-0.6 %, shares
  outstanding move by ``(issuance - repurchases) / close`` (and S07's split);
  ``earnings_date`` is the first session 21-35 days after the quarter end.
- ``options``: one ``SPX`` chain on 2018-12-31 (spot = the real close), the six monthly
  expiries (third Friday, or the session before when it is a holiday), strikes every 25 points
  within ±20 % of spot, calls and puts with a skewed implied volatility and open interest
  peaked near the money; ``multiplier`` 100, ``rate`` 2.45 %.

Examples
--------
>>> from flowpressure.data import sample
>>> sample.load("etf").filter(fund_id="EQX").head(1)["nav"].to_list()
[100.0]
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from flowpressure._errors import ConfigError
from flowpressure.data._sample_gen import (
    ADDED_TURNOVER_MULT,
    ADV_QUANTILES,
    BIRTHS,
    BUYBACK_ASSETS,
    DEFAULT_SEED,
    DIVIDEND_PAYERS,
    ETF_IDS,
    FEE_ANNUAL,
    FUND_IDS,
    GAPS,
    INDEX_DIVISOR,
    MERGERS,
    PASSIVE_SHARE_RANGE,
    SAMPLE_END,
    SAMPLE_KINDS,
    SAMPLE_START,
    SPLITS,
    SPX_VOLUME_RATIO,
    STOCK_IDS,
    TURNOVER_RANGE,
    UNIT_SIZE,
    Sample,
    build,
)

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

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
    "TURNOVER_RANGE",
    "UNIT_SIZE",
    "describe",
    "generate",
    "load",
    "true_flows",
    "write",
]

Backend = Literal["polars", "pandas", "pyarrow"]

# kind: (frequency, date column, real part, synthetic part)
_ABOUT: dict[str, tuple[str, str, str, str]] = {
    "prices": (
        "daily",
        "date",
        "SPX close and volume (arch's S&P 500 file; volume x 0.0158: members' dollars)",
        "AGG_TR bond index; stocks S01-S50 (one-factor returns, S07 split, dividends, 2017 ADVs)",
    ),
    "fund": (
        "monthly",
        "date",
        "nothing (returns are built from the sample prices)",
        "100 funds: TNA, returns, December distributions, flows; 1 birth, 1 merger, 1 gap",
    ),
    "etf": (
        "daily",
        "date",
        "nothing (EQX follows the real SPX)",
        "EQX, BNDX, SECX: NAV, distributions, shares in creation units of 50,000",
    ),
    "holdings": (
        "quarterly",
        "date",
        "nothing",
        "fund positions: TNA x target weight / close at each quarter end",
    ),
    "index_events": (
        "event",
        "effective_date",
        "session dates and the SPX level",
        "8 SPX additions, deletions and reweightings",
    ),
    "buybacks": (
        "quarterly",
        "date",
        "nothing",
        "20 stocks 2010-2018: repurchases 1-5 % of market cap a year, issuance, shares",
    ),
    "options": (
        "snapshot",
        "date",
        "SPX spot on 2018-12-31, expiry sessions",
        "chain of 6 expiries x strikes every 25 points: skewed IV, open interest",
    ),
}


@functools.lru_cache(maxsize=2)
def _build(seed: int) -> Sample:
    return build(seed)


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(field="seed", expected="a non-negative integer", got=seed)
    return seed


def generate(seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Generate every table of the sample.

    The result for a seed is cached; the tables are immutable Arrow tables, the dict is a
    fresh copy on every call.

    Parameters
    ----------
    seed
        Seed of the synthetic parts; the real SPX data do not depend on it.

    Returns
    -------
    dict of str to pyarrow.Table
        Keys ``prices``, ``fund``, ``etf``, ``holdings``, ``index_events``, ``buybacks``,
        ``options`` (:data:`SAMPLE_KINDS`), each sorted by its keys.

    Raises
    ------
    ConfigError
        If ``seed`` is not a non-negative integer.

    Examples
    --------
    >>> tables = generate()
    >>> list(tables)
    ['prices', 'fund', 'etf', 'holdings', 'index_events', 'buybacks', 'options']
    >>> tables["prices"].num_rows  # 52 assets x 5,031 sessions
    261612
    """
    return dict(_build(_check_seed(seed)).tables)


def true_flows(seed: int = DEFAULT_SEED) -> Any:
    """Return the fund flows the generator used: the answer the ``fund`` table implies.

    One row per ``fund`` row that has a generated predecessor (every row but a fund's first),
    including the row after a gap and the acquirer's row at a merger (the flow excludes the
    target's assets).

    Parameters
    ----------
    seed
        As for :func:`generate`.

    Returns
    -------
    pyarrow.Table
        Columns ``fund_id``, ``date``, ``flow`` (currency) and ``flow_pct``
        (``flow / tna_{t-1}``).

    Notes
    -----
    .. math:: F_t = TNA_t - TNA_{t-1}(1 + R^{total}_t)

    Examples
    --------
    >>> true_flows().column_names
    ['fund_id', 'date', 'flow', 'flow_pct']
    """
    return _build(_check_seed(seed)).fund_flows


def _table(kind: str) -> Any:
    if kind not in SAMPLE_KINDS:
        raise ConfigError(field="kind", expected=f"one of {', '.join(SAMPLE_KINDS)}", got=kind)
    return _build(DEFAULT_SEED).tables[kind]


@overload
def load(kind: str, backend: Literal["polars"] = ...) -> pl.DataFrame: ...
@overload
def load(kind: str, backend: Literal["pandas"]) -> pd.DataFrame: ...
@overload
def load(kind: str, backend: Literal["pyarrow"]) -> Any: ...
def load(kind: str, backend: Backend = "polars") -> pl.DataFrame | pd.DataFrame | Any:
    """Return one table of the default-seed sample as a polars, pandas or Arrow frame.

    Parameters
    ----------
    kind
        One of :data:`SAMPLE_KINDS`.
    backend
        ``"polars"`` (dates as ``pl.Date``), ``"pandas"`` (dates as ``datetime.date`` objects)
        or ``"pyarrow"`` (the cached table itself; do not mutate).

    Returns
    -------
    polars.DataFrame, pandas.DataFrame or pyarrow.Table

    Raises
    ------
    ConfigError
        If ``kind`` or ``backend`` is unknown.

    Examples
    --------
    >>> load("fund").columns
    ['fund_id', 'date', 'tna', 'ret', 'ret_total', 'distribution', 'category']
    >>> load("options", backend="pandas").shape
    (480, 10)
    """
    table = _table(kind)
    if backend == "pyarrow":
        return table
    if backend == "polars":
        import polars as pl

        return pl.DataFrame(table)
    if backend == "pandas":
        return table.to_pandas()
    raise ConfigError(field="backend", expected="one of polars, pandas, pyarrow", got=backend)


def write(directory: str | Path, fmt: Literal["parquet", "csv"] = "parquet") -> dict[str, Path]:
    """Write every table of the default-seed sample as ``<directory>/<kind>.<fmt>``.

    Parameters
    ----------
    directory
        Created with its parents if missing; existing files of the same names are replaced.
    fmt
        ``"parquet"`` or ``"csv"`` (dates written as ISO ``YYYY-MM-DD``).

    Returns
    -------
    dict of str to Path
        The file written for each kind, in :data:`SAMPLE_KINDS` order.

    Raises
    ------
    ConfigError
        If ``fmt`` is unknown or ``directory`` cannot be created.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = write(tmp)
    ...     [p.name for p in paths.values()][:3]
    ['prices.parquet', 'fund.parquet', 'etf.parquet']
    """
    if fmt not in ("parquet", "csv"):
        raise ConfigError(field="fmt", expected="parquet or csv", got=fmt)
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            field="directory", expected="a directory that can be created", got=str(exc)
        ) from None
    paths: dict[str, Path] = {}
    for kind, table in generate().items():
        path = out / f"{kind}.{fmt}"
        if fmt == "parquet":
            import pyarrow.parquet as pq  # type: ignore[import-untyped]

            pq.write_table(table, path)
        else:
            import pyarrow.csv as pacsv  # type: ignore[import-untyped]

            pacsv.write_csv(table, path)
        paths[kind] = path
    return paths


def describe() -> dict[str, dict[str, Any]]:
    """Summarise each table of the default-seed sample (for the CLI's ``sample`` verb).

    Returns
    -------
    dict of str to dict
        Per kind: ``rows`` (int), ``columns`` (list of str), ``frequency`` (str), ``start``
        and ``end`` (``datetime.date``, of the ``date`` column, ``effective_date`` for index
        events), ``real`` and ``synthetic`` (short descriptions).

    Examples
    --------
    >>> info = describe()
    >>> info["prices"]["rows"], info["prices"]["start"], info["prices"]["end"]
    (261612, datetime.date(1999, 1, 4), datetime.date(2018, 12, 31))
    >>> info["fund"]["frequency"], info["fund"]["real"][:7]
    ('monthly', 'nothing')
    """
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    out: dict[str, dict[str, Any]] = {}
    for kind, table in generate().items():
        freq, date_col, real, synthetic = _ABOUT[kind]
        bounds = pc.min_max(table[date_col]).as_py()
        out[kind] = {
            "rows": table.num_rows,
            "columns": list(table.column_names),
            "frequency": freq,
            "start": bounds["min"],
            "end": bounds["max"],
            "real": real,
            "synthetic": synthetic,
        }
    return out
