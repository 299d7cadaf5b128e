"""Event studies on simulated data with a planted abnormal return, placebos, errors; fire sales."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from flowpressure import ConfigError, DataError
from flowpressure.data import sample
from flowpressure.pressure import event_study, fire_sale_pressure, fire_sale_study

N_ASSETS, N_DAYS = 80, 900
PLANT = {0: 0.01, 1: 0.005, 2: 0.005}  # CAR(0, 2) = 2 %


def _dates(n: int) -> list[dt.date]:
    days = np.arange(
        np.datetime64("2010-01-04"), np.datetime64("2016-01-01"), dtype="datetime64[D]"
    )
    weekdays = days[np.is_busday(days)][:n]
    return [d.astype(object) for d in weekdays]


@pytest.fixture(scope="module")
def simulated() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Returns panel r = a + b·m + e, one event per asset with PLANT added; placebo dates."""
    rng = np.random.default_rng(20240601)
    dates = _dates(N_DAYS)
    m = rng.normal(0.0003, 0.01, N_DAYS)
    alpha = rng.normal(0.0, 0.0003, N_ASSETS)
    beta = rng.uniform(0.6, 1.5, N_ASSETS)
    r = alpha[None, :] + beta[None, :] * m[:, None] + rng.normal(0, 0.015, (N_DAYS, N_ASSETS))
    event_idx = rng.integers(300, N_DAYS - 30, N_ASSETS)
    for j, i in enumerate(event_idx):
        for k, v in PLANT.items():
            r[i + k, j] += v
    placebo_idx = (event_idx + rng.integers(40, 200, N_ASSETS)) % (N_DAYS - 330) + 300
    ids = [f"A{j:03d}" for j in range(N_ASSETS)]
    panel = pl.concat(
        [
            pl.DataFrame({"asset_id": "MKT", "date": dates, "ret": m}),
            pl.DataFrame(
                {
                    "asset_id": np.repeat(ids, N_DAYS),
                    "date": dates * N_ASSETS,
                    "ret": r.T.ravel(),
                }
            ),
        ]
    )
    events = pl.DataFrame({"asset_id": ids, "date": [dates[i] for i in event_idx]})
    placebo = pl.DataFrame({"asset_id": ids, "date": [dates[i] for i in placebo_idx]})
    return panel, events, placebo


@pytest.mark.parametrize("model", ["market", "adjusted"])
def test_recovers_planted_car_within_ci(simulated: tuple, model: str) -> None:
    panel, events, _ = simulated
    res = event_study(panel, events, market="MKT", model=model, window=(-5, 10))
    assert res.events.height == N_ASSETS
    got = res.car(0, 2)
    assert got["ci_low"] <= 0.02 <= got["ci_high"]
    assert got["ci_low"] > 0
    assert got["t"] > 5
    # nothing before the event
    pre = res.car(-5, -1)
    assert pre["ci_low"] <= 0.0 <= pre["ci_high"]
    # the path's CAR at day 2 is the window CAR from -5 up to 2
    day2 = res.path.filter(day=2).row(0, named=True)
    assert day2["car"] == pytest.approx(res.car(-5, 2)["mean"])


def test_market_model_estimates_beta(simulated: tuple) -> None:
    panel, events, _ = simulated
    res = event_study(panel, events, market="MKT")
    betas = res.events["beta"].to_numpy()
    assert betas.min() > 0.5
    assert betas.max() < 1.7


def test_placebo_dates_show_no_effect(simulated: tuple) -> None:
    panel, _, placebo = simulated
    res = event_study(panel, placebo, market="MKT", window=(-5, 10))
    for a, b in ((0, 2), (-5, 10)):
        got = res.car(a, b)
        assert got["ci_low"] <= 0.0 <= got["ci_high"], (a, b, got)


def test_list_of_events_and_next_session_rule(simulated: tuple) -> None:
    panel, events, _ = simulated
    a, d = events.row(0)
    saturday = d + dt.timedelta(days=(5 - d.weekday()) % 7)
    res = event_study(panel, [(a, saturday.isoformat())], market="MKT", window=(-2, 2))
    assert res.events["day0"][0] > saturday  # the next session on or after the date


def test_window_outside_data_is_counted(simulated: tuple) -> None:
    panel, events, _ = simulated
    first = panel["date"].min()
    ev = pl.concat([events, pl.DataFrame({"asset_id": ["A000"], "date": [first]})])
    res = event_study(panel, ev, market="MKT")
    assert res.skipped == {"window outside the data": 1}
    assert res.events.height == N_ASSETS


def test_errors_name_the_field(simulated: tuple) -> None:
    panel, events, _ = simulated
    with pytest.raises(DataError, match="events") as err:
        event_study(panel, [], market="MKT")
    assert err.value.field == "events"
    with pytest.raises(DataError, match="events"):
        event_study(panel, events.head(0), market="MKT")
    late = pl.DataFrame({"asset_id": ["A001"], "date": [dt.date(2030, 1, 2)]})
    with pytest.raises(DataError, match="inside the price range") as err:
        event_study(panel, late, market="MKT")
    assert err.value.field == "date"
    early = pl.DataFrame({"asset_id": ["A001"], "date": [dt.date(2001, 1, 2)]})
    with pytest.raises(DataError, match="date"):
        event_study(panel, early, market="MKT")
    with pytest.raises(DataError, match="asset_id"):
        event_study(panel, [("ZZZ", "2012-01-03")], market="MKT")
    with pytest.raises(DataError, match="market"):
        event_study(panel, events, market="NOPE")
    with pytest.raises(ConfigError, match="estimation"):
        event_study(panel, events, market="MKT", estimation=(-20, 0), window=(-5, 5))
    with pytest.raises(ConfigError, match="model"):
        event_study(panel, events, market="MKT", model="capm")  # type: ignore[arg-type]
    res = event_study(panel, events, market="MKT", window=(-5, 5))
    with pytest.raises(ConfigError, match="window"):
        res.car(0, 6)


def test_prices_panel_gives_total_returns() -> None:
    prices = sample.load("prices").filter(pl.col("asset_id").is_in(["SPX", "S07"]))
    # S07 splits 2-for-1 on 2010-06-01: adjusted returns show no -50 % day
    res = event_study(prices, [("S07", "2010-06-01")], window=(-3, 3))
    assert res.params["returns"] == "ret_total"
    assert res.abnormal["ar"].abs().max() < 0.2


# ------------------------------------------------------------------ fire sales on the sample
@pytest.fixture(scope="module")
def panels() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    return sample.load("fund"), sample.load("holdings"), sample.load("prices")


def test_fire_sale_pressure_by_hand(panels: tuple) -> None:
    fund, holdings, prices = panels
    p = fire_sale_pressure(fund, holdings, prices)
    assert p.select(pl.struct("asset_id", "date").is_duplicated().any()).item() is False
    row = p.filter(pl.col("forced_sales") > 0).row(0, named=True)
    assert row["pressure"] == pytest.approx(row["net_forced"] / row["adv_dollars"])
    assert row["net_forced"] == pytest.approx(row["forced_buys"] - row["forced_sales"])
    assert (p["n_sellers"] >= 0).all()
    assert p["fit"].abs().max() < 1.0


def test_fire_sale_pipeline_end_to_end(panels: tuple) -> None:
    fund, holdings, prices = panels
    res = fire_sale_study(fund, holdings, prices, measure="fit", start=dt.date(2005, 1, 1))
    s = res.summary
    assert s["events"] > 20
    assert s["events"] + sum(s["skipped"].values()) == s["candidates"]
    assert res.study.path["day"].to_list()[0] == -63
    assert s["car_pressure"]["n"] == s["events"]
    # synthetic sample prices do not respond to flows: no significant reversal
    assert s["car_reversal"]["ci_low"] <= 0.0 <= s["car_reversal"]["ci_high"]
    assert (res.events["fit"] < 0).all()
    d = res.to_dict()
    assert set(d) == {"summary", "path", "events"}


def test_fire_sale_bad_options(panels: tuple) -> None:
    fund, holdings, prices = panels
    with pytest.raises(ConfigError, match="outflow_quantile"):
        fire_sale_pressure(fund, holdings, prices, outflow_quantile=1.5)
    with pytest.raises(ConfigError, match="measure"):
        fire_sale_study(fund, holdings, prices, measure="flows")  # type: ignore[arg-type]
