"""``flowpressure buyback``: trailing buyback yield and expected daily demand under 10b-18."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import typer

from flowpressure.cli._app import emit_json, handle_errors, stderr, stdout
from flowpressure.cli._mechanics_io import (
    AS_OF_HELP,
    DB_HELP,
    SOURCE_HELP,
    clean,
    money,
    new_table,
    num,
    parse_date,
    pct,
    read_input,
    records,
    write_frame,
)


def buyback(
    file: str = typer.Argument(..., metavar="FILE", help="Buybacks panel: " + SOURCE_HELP),
    prices: str | None = typer.Option(
        None, "--prices", help="Prices panel (close, volume): " + SOURCE_HELP
    ),
    assets: list[str] | None = typer.Option(
        None, "--asset", help="Keep this asset (repeatable; default all)."
    ),
    as_of: str | None = typer.Option(None, "--as-of", help=AS_OF_HELP),
    cap: float = typer.Option(0.25, "--cap", help="Rule 10b-18 cap as a share of ADTV."),
    blackout_days: int = typer.Option(
        30, "--blackout-days", help="Blackout starts this many calendar days before earnings."
    ),
    reopen_sessions: int = typer.Option(
        1, "--reopen-sessions", help="Sessions after earnings still in the blackout."
    ),
    trailing: int = typer.Option(4, "--trailing", help="Periods of the trailing yield/run rate."),
    daily: bool = typer.Option(
        False, "--daily", help="Show (and put in JSON) the next period's daily demand."
    ),
    out: Path | None = typer.Option(
        None, "-o", "--out", help="Write every daily row (all periods) to .csv/.parquet."
    ),
    db: Path | None = typer.Option(None, "--db", help=DB_HELP),
    calendar: str = typer.Option("XNYS", "--calendar", help="Exchange calendar."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Buyback yield (gross, net of issuance), share reduction and next-period daily demand."""
    from flowpressure.mechanics import buyback_demand, buyback_yield

    with handle_errors():
        bb = read_input(file, "buybacks", db, "FILE")
        if assets:
            bb = _filter(bb, assets)
        px = read_input(prices, "prices", db, "--prices")
        day = parse_date(as_of, "--as-of")
        dem = buyback_demand(
            bb,
            px,
            as_of=day,
            cap=cap,
            blackout_days=blackout_days,
            reopen_sessions=reopen_sessions,
            trailing=trailing,
            calendar=calendar,
        )
        yields = buyback_yield(bb, px, trailing=trailing).filter(pl.col("date") <= dem.as_of)
        latest = yields.sort("date").group_by("asset_id").last()
        nxt = dem.periods.filter(pl.col("estimated")).select(
            "asset_id",
            "period_start",
            "period_end",
            pl.col("repurchases").alias("expected_repurchases"),
            "sessions",
            "open_sessions",
            "unfilled",
            "blackout",
        )
        nxt_daily = dem.daily.filter(pl.col("estimated"))
        stats = nxt_daily.group_by("asset_id").agg(
            pl.col("demand").filter(pl.col("open")).mean().alias("daily_demand"),
            pl.col("demand_shares").filter(pl.col("open")).mean().alias("daily_demand_shares"),
            pl.col("share_of_adv").filter(pl.col("open")).mean().alias("share_of_adv"),
            pl.col("share_of_adv").max().alias("max_share_of_adv"),
        )
        table = (
            latest.join(nxt, on="asset_id", how="left")
            .join(stats, on="asset_id", how="left")
            .sort("asset_id")
        )
        if out is not None:
            write_frame(dem.daily, out)
            stderr().print(f"wrote {dem.daily.height} daily rows to {out}", highlight=False)
        payload: dict[str, Any] = {
            "as_of": dem.as_of,
            "params": dem.params,
            "assets": [
                {
                    "asset_id": r["asset_id"],
                    "period_end": r["date"],
                    "repurchases_ttm": r["repurchases_ttm"],
                    "market_cap": r["market_cap"],
                    "buyback_yield": r["buyback_yield"],
                    "net_buyback_yield": r["net_buyback_yield"],
                    "share_reduction": r["share_reduction"],
                    "next_period_start": r["period_start"],
                    "next_period_end": r["period_end"],
                    "expected_repurchases": r["expected_repurchases"],
                    "sessions": r["sessions"],
                    "open_sessions": r["open_sessions"],
                    "daily_demand": r["daily_demand"],
                    "daily_demand_shares": r["daily_demand_shares"],
                    "share_of_adv": r["share_of_adv"],
                    "max_share_of_adv": r["max_share_of_adv"],
                    "unfilled": r["unfilled"],
                    "blackout": r["blackout"],
                }
                for r in table.iter_rows(named=True)
            ],
        }
        if daily:
            payload["daily"] = records(nxt_daily)
        if as_json:
            emit_json(clean(payload))
            return
        _print(payload, nxt_daily if daily else None)


def _filter(frame: Any, assets: list[str]) -> Any:
    import narwhals as nw

    df = nw.from_native(frame)
    return df.filter(nw.col("asset_id").is_in(assets)).to_native()


def _print(p: dict[str, Any], daily: pl.DataFrame | None) -> None:
    out = stdout()
    prm = p["params"]
    out.print(
        f"[bold]buybacks[/] as of {p['as_of']}: trailing {prm['trailing']} periods; next period "
        f"at the run rate, blackout {prm['blackout_days']} days before earnings to "
        f"{prm['reopen_sessions']} session(s) after, Rule 10b-18 cap {pct(prm['cap'], 0)} of ADTV",
        highlight=False,
    )
    t = new_table(
        "buyback yield and next-period demand",
        [
            ("asset", "left"),
            ("period", "left"),
            ("yield", "right"),
            ("net", "right"),
            ("shares -", "right"),
            ("next period", "left"),
            ("expected", "right"),
            ("open days", "right"),
            ("per open day", "right"),
            ("% of ADV", "right"),
        ],
    )
    for r in p["assets"]:
        t.add_row(
            r["asset_id"],
            str(r["period_end"]),
            pct(r["buyback_yield"]),
            pct(r["net_buyback_yield"]),
            pct(r["share_reduction"]),
            f"{r['next_period_start']}..{r['next_period_end']}",
            money(r["expected_repurchases"]),
            f"{r['open_sessions']}/{r['sessions']}",
            money(r["daily_demand"]),
            pct(r["share_of_adv"]),
        )
    out.print(t)
    if daily is not None:
        d = new_table(
            "next period, daily",
            [(c, "right") for c in ("asset", "date", "open", "demand", "shares", "% of ADV")],
        )
        for r in daily.iter_rows(named=True):
            d.add_row(
                r["asset_id"],
                str(r["date"]),
                "open" if r["open"] else "blackout",
                money(r["demand"]),
                num(r["demand_shares"], ",.0f"),
                pct(r["share_of_adv"]),
            )
        out.print(d)


def register(app: typer.Typer) -> None:
    """Add ``buyback`` to ``app``."""
    app.command("buyback")(buyback)
