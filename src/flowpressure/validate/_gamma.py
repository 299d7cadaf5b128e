r"""Check ``dealer-gamma``: is the next SPX session calmer when dealers are long gamma.

Every SPX option chain in the CBOE delayed-quote file is run through the project's GEX model
(:func:`flowpressure.mechanics.gex.gamma_exposure`, its defaults: dealers long calls and short
puts, CBOE's gamma at spot, the flip by Black–Scholes re-pricing); the sign of the GEX at spot
splits the snapshot dates into regimes, and the absolute SPX close-to-close return of the next
session is compared between them.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

from flowpressure._errors import ConfigError, DataError
from flowpressure.data import scan_source
from flowpressure.mechanics.gex import GammaSource, gamma_exposure
from flowpressure.validate._paths import require
from flowpressure.validate._readers import read_spx_closes
from flowpressure.validate._result import ChartSeries, ChartSpec, CheckResult, Verdict

__all__ = ["NAME", "check_dealer_gamma", "next_session_returns", "read_spx_closes", "run"]


NAME = "dealer-gamma"
#: Snapshot dates needed (with both regimes present) before the comparison can pass or fail.
MIN_DATES = 20
_F64 = np.ndarray[Any, np.dtype[np.float64]]


def next_session_returns(closes: pl.DataFrame, days: list[dt.date]) -> list[float | None]:
    r"""Close-to-close return of the session after each of ``days``: :math:`P_{t+1}/P_t - 1`.

    ``t`` is the day itself (it must have a close); ``t+1`` the next dated close of the file.
    None where either close is missing.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> px = pl.DataFrame({"date": [dt.date(2024, 1, 4), dt.date(2024, 1, 5),
    ...                             dt.date(2024, 1, 8)], "close": [100.0, 101.0, 99.99]})
    >>> [round(r, 4) if r is not None else r for r in
    ...  next_session_returns(px, [dt.date(2024, 1, 5), dt.date(2024, 1, 8)])]
    [-0.01, None]
    """
    d = closes["date"].to_list()
    c = closes["close"].to_numpy().astype(np.float64)
    out: list[float | None] = []
    for day in days:
        i = int(np.searchsorted(np.array(d, dtype="datetime64[D]"), np.datetime64(day, "D")))
        if i >= len(d) or d[i] != day or i + 1 >= len(d):
            out.append(None)
        else:
            out.append(float(c[i + 1] / c[i] - 1.0))
    return out


def _welch_t(a: _F64, b: _F64) -> float:
    if a.size < 2 or b.size < 2:
        return float("nan")
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    return float((a.mean() - b.mean()) / se) if se > 0 else float("nan")


def _pct(x: float) -> str:
    return f"{100.0 * x:.2f}%" if math.isfinite(x) else "n/a"


def check_dealer_gamma(
    options: Path,
    spx: Path,
    *,
    asset_id: str = "SPX",
    gamma: GammaSource = "auto",
    min_dates: int = MIN_DATES,
) -> CheckResult:
    r"""Mean absolute next-session SPX return when dealer gamma is positive vs negative.

    Parameters
    ----------
    options
        ``options/cboe_delayed_option_chains_spx_spy_xsp_2022_2025.parquet`` (read by the
        ``cboe`` format: one row per contract and snapshot, CBOE's iv, gamma, start-of-day OI).
    spx
        ``prices/SPX_index_daily_1927_2026.csv`` (``DATE`` MM/DD/YYYY, ``CLOSE``).
    asset_id
        Underlying whose chains are used (default ``SPX``; the return is always SPX's).
    gamma
        Gamma at spot for :func:`~flowpressure.mechanics.gex.gamma_exposure` (default
        ``"auto"``: CBOE's gamma, as ``flowpressure gex`` uses it).
    min_dates
        Snapshot dates needed for a pass or a fail (default 20).

    Returns
    -------
    CheckResult

    Raises
    ------
    DataError
        The file has no chain of ``asset_id``, or the SPX file is unreadable.
    ConfigError
        ``min_dates`` below 2.

    Notes
    -----
    **Method.** Each snapshot of ``asset_id`` (one per session date: the session on or before
    the quote time, as the ``cboe`` format dates it; of several on one date, the latest quote
    is kept) goes through ``gamma_exposure`` with the model's defaults (dealers long calls,
    short puts, multiplier 100, rate 0, contracts expiring that day left out):
    :math:`GEX = \sum_i \delta_i \Gamma_i OI_i m S^2 \cdot 0.01` in dollars per 1 % move at the
    chain's spot, and the gamma flip (the spot at which the re-priced model GEX changes sign,
    scanned over 0.8–1.2 × spot). The regime is the sign of GEX at spot. The outcome is
    :math:`|P_{t+1}/P_t - 1|`, ``t`` the snapshot's session and ``t+1`` the next SPX close.
    Figures: mean |return| in each regime, their difference and a Welch t (when each regime
    has at least two dates), the number of dates.

    **Reference.** Dealers long gamma hedge against the move (sell rallies, buy dips) and damp
    volatility; short gamma, they amplify it: SqueezeMetrics (2017), "Gamma Exposure (GEX)"
    white paper; Barbon and Buraschi (2021), "Gamma Fragility"; Ni, Pearson, Poteshman and
    White (2021, RFS), "Does Option Trading Have a Pervasive Impact on Underlying Stock
    Prices?". Expected: lower mean |next-day return| when GEX > 0.

    **Verdict** (fixed in code before looking at the data): with at least ``min_dates`` dates
    and both regimes present, ``pass`` if the mean |next-day return| is lower when GEX > 0,
    ``fail`` if it is higher; otherwise (fewer dates, or one regime absent) ``partial``,
    whatever the direction.
    """
    if min_dates < 2:
        raise ConfigError(field="min_dates", expected="at least 2", got=min_dates)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    scan = scan_source(con, options, "options")
    quoted = "'" + asset_id.replace("'", "''") + "'"
    chains: pl.DataFrame = scan.relation.filter(f"asset_id = {quoted}").pl()
    if chains.height == 0:
        raise DataError(
            f"{options.name}: no option chain of {asset_id}",
            field="asset_id",
            expected="an underlying of the file",
            got=asset_id,
        )
    snaps = (
        chains.group_by("date", "snapshot")
        .agg(pl.col("quote_time_local").max())
        .sort("date", "quote_time_local", "snapshot")
    )
    per_date = snaps.group_by("date", maintain_order=True).last().sort("date")
    closes = read_spx_closes(spx)
    days: list[dt.date] = per_date["date"].to_list()
    rets = next_session_returns(closes, days)
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    stamps = per_date["quote_time_local"].to_list()
    for day, sid, ret, stamp in zip(
        days, per_date["snapshot"].to_list(), rets, stamps, strict=True
    ):
        if ret is None:
            skipped.append(f"{sid}: no SPX close on {day} or after it")
            continue
        res = gamma_exposure(
            chains.filter(pl.col("snapshot") == sid), asset_id=asset_id, snapshot=sid, gamma=gamma
        )
        rows.append(
            {
                "date": day,
                "snapshot": sid,
                "quote_time_local": stamp,
                "spot": res.spot,
                "gex": res.total_gex,
                "model_gex": res.model_total_gex,
                "gamma_source": res.gamma_source,
                "flip_level": res.flip_level,
                "contracts": res.diagnostics["contracts"],
                "next_return": ret,
                "abs_next_return": abs(ret),
            }
        )
    if not rows:
        raise DataError(
            f"no {asset_id} snapshot has an SPX close on its date and after it",
            field="date",
        )
    gex = np.array([r["gex"] for r in rows], dtype=np.float64)
    absr = np.array([r["abs_next_return"] for r in rows], dtype=np.float64)
    pos, neg = absr[gex > 0], absr[gex <= 0]
    n = len(rows)
    mean_pos = float(pos.mean()) if pos.size else float("nan")
    mean_neg = float(neg.mean()) if neg.size else float("nan")
    both = pos.size > 0 and neg.size > 0
    lower = both and mean_pos < mean_neg
    verdict: Verdict = ("pass" if lower else "fail") if n >= min_dates and both else "partial"
    flip_pos = [
        r["flip_level"] is not None and r["spot"] > r["flip_level"] for r in rows
    ]  # spot above the flip: long gamma by the model's profile
    intraday = sum(
        1
        for r in rows
        if r["date"].isoformat() == str(r["quote_time_local"])[:10]
        and str(r["quote_time_local"])[11:16] < "16:00"
    )
    small = min(rows, key=lambda r: int(r["contracts"]))
    agree = sum(int((g > 0) == f) for g, f in zip(gex, flip_pos, strict=True))
    first, last = rows[0]["date"], rows[-1]["date"]
    direction = (
        "lower when GEX > 0"
        if lower
        else ("higher when GEX > 0" if both else "one regime only: no comparison")
    )
    med_pos = float(np.median(pos)) if pos.size else float("nan")
    med_neg = float(np.median(neg)) if neg.size else float("nan")
    figure = (
        f"mean |next-day SPX return| {_pct(mean_pos)} when GEX > 0 (n {pos.size}) vs "
        f"{_pct(mean_neg)} when GEX < 0 (n {neg.size}): {direction} (medians "
        f"{_pct(med_pos)} vs {_pct(med_neg)}); {n} dates {first.year}-{last.year}"
    )
    notes = [
        f"only {n} {asset_id} snapshot dates in the file (need {min_dates} for a verdict other "
        "than partial): the comparison is descriptive, not a test"
        if n < min_dates
        else f"{n} {asset_id} snapshot dates",
        "GEX at spot uses CBOE's gamma (gamma='auto'), start-of-day open interest and the "
        "model's default positioning (dealers long calls, short puts): real dealer positions "
        "are not observed",
        "the snapshot's session is the one on or before the quote time (weekend quotes carry "
        "Friday's close); "
        f"{intraday} snapshots are intraday (before 16:00), their outcome is still the next "
        "session's close-to-close move",
        f"the smallest chain is {small['snapshot']} with {small['contracts']} contracts (fewer "
        "expiries than the others)",
        "one large move can dominate a mean of so few dates: the medians are in the figures",
        f"{agree} of {n} dates have the same regime from the sign of GEX at spot and from spot "
        "vs the gamma-flip level",
        "SPY chains (2023, 2025) are left out: most hold only near-dated expiries, which "
        "biases GEX; XSP is one date",
    ]
    if skipped:
        notes.append("left out: " + "; ".join(skipped))
    figures: dict[str, Any] = {
        "n_dates": n,
        "n_positive": int(pos.size),
        "n_negative": int(neg.size),
        "mean_abs_next_return_positive": mean_pos,
        "mean_abs_next_return_negative": mean_neg,
        "difference_positive_minus_negative": mean_pos - mean_neg,
        "median_abs_next_return_positive": med_pos,
        "median_abs_next_return_negative": med_neg,
        "welch_t": _welch_t(pos, neg),
        "regime_agreement_gex_sign_vs_flip": agree,
        "min_dates": min_dates,
        "dates": rows,
    }
    regimes = (
        ("GEX > 0", [r for r in rows if r["gex"] > 0]),
        ("GEX < 0", [r for r in rows if r["gex"] <= 0]),
    )
    chart = ChartSpec(
        title="Dealer GEX at spot and the next session's absolute SPX return",
        x_label="GEX (USD bn per 1% move)",
        y_label="|next-day SPX return| (%)",
        kind="scatter",
        series=tuple(
            ChartSeries(
                name=name,
                x=[r["gex"] / 1e9 for r in group],
                y=[100.0 * r["abs_next_return"] for r in group],
            )
            for name, group in regimes
        ),
    )
    return CheckResult(
        check=NAME,
        data=f"CBOE delayed {asset_id} option chains, {n} snapshot dates {first}..{last}; "
        "SPX daily closes",
        figure=figure,
        reference="SqueezeMetrics GEX (2017); Barbon-Buraschi (2021); Ni-Pearson-Poteshman-"
        "White (2021): long dealer gamma -> lower next-day volatility",
        verdict=verdict,
        method="GEX at spot per snapshot by flowpressure.mechanics.gamma_exposure (defaults); "
        "regime = sign of GEX; mean |next-session SPX close-to-close return| by regime",
        figures=figures,
        inputs={"options": str(options), "spx": str(spx)},
        n=n,
        notes=tuple(notes),
        chart=chart,
    )


def run(root: Path) -> CheckResult:
    """Run the check on the files under ``root`` with its default parameters."""
    paths = require(root, "options", "spx")
    return check_dealer_gamma(paths["options"], paths["spx"])
