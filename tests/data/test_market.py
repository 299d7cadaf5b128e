"""Market primitives: adjusted returns, ADV and calendars, on every backend and on the sample."""

from __future__ import annotations

import datetime as dt
from typing import Any

import narwhals as nw
import numpy as np
import pytest

from flowpressure import ConfigError, DataError, SchemaError
from flowpressure.data import (
    adjusted_returns,
    adv,
    last_sessions,
    period_end_sessions,
    price_matrix,
    rolling_adv,
    sample,
    shift_sessions,
    third_fridays,
)

D = dt.date
ROWS = {
    "asset_id": ["A", "B", "A", "A", "B"],
    "date": [D(2024, 3, 27), D(2024, 3, 27), D(2024, 3, 26), D(2024, 3, 28), D(2024, 3, 28)],
    "close": [51.0, 10.0, 100.0, 50.0, 11.0],
    "volume": [300.0, 10.0, 100.0, 200.0, 20.0],
    "split_factor": [2.0, 1.0, 1.0, 1.0, 1.0],
    "dividend": [0.0, 0.0, 0.0, 0.5, 0.0],
}


def collect(native: Any) -> dict[str, list[Any]]:
    df = nw.from_native(native)
    df = df.collect() if isinstance(df, nw.LazyFrame) else df
    return df.sort("asset_id", "date").to_dict(as_series=False)


def test_adjusted_returns_same_on_every_backend(make_frame: Any) -> None:
    out = collect(adjusted_returns(make_frame(ROWS)))
    ret = [None if v is None or v != v else round(v, 12) for v in out["ret"]]
    tot = [None if v is None or v != v else round(v, 12) for v in out["ret_total"]]
    assert ret == [None, 0.02, round(50 / 51 - 1, 12), None, 0.1]
    assert tot == [None, 0.02, round(50.5 / 51 - 1, 12), None, 0.1]


def test_rolling_adv_same_on_every_backend(make_frame: Any) -> None:
    out = collect(rolling_adv(make_frame(ROWS), 2))
    shares = [None if v is None or v != v else v for v in out["adv_shares"]]
    assert shares == [None, 200.0, 250.0, None, 15.0]
    assert out["adv_dollars"][2] == pytest.approx((300 * 51 + 200 * 50) / 2)


def test_adv_window_and_errors() -> None:
    import polars as pl

    df = pl.DataFrame(ROWS)
    got = adv(df, "2024-03-28", window=2)
    assert got["A"]["adv_shares"] == 250.0
    assert got["B"]["first"] == D(2024, 3, 27)
    assert adv(df, D(2024, 3, 27), window=2, assets=["A"])["A"]["adv_shares"] == 200.0
    with pytest.raises(DataError, match="asset_id=B, date=2024-03-28: expected 3 sessions"):
        adv(df, "2024-03-28", window=3)
    with pytest.raises(ConfigError, match="window"):
        adv(df, "2024-03-28", window=0)
    with pytest.raises(SchemaError, match="'volume'"):
        adv(df.drop("volume"), "2024-03-28")


def test_split_day_return_is_continuous_in_the_sample() -> None:
    prices = sample.load("prices")
    (asset, day, factor), *_ = sample.SPLITS
    out = adjusted_returns(prices.filter(prices["asset_id"] == asset))
    raw = out["close"] / out["close"].shift(1) - 1
    on_split = out.filter(out["date"] == day)
    assert factor == 2.0
    assert float(on_split["ret"][0]) > -0.2  # adjusted: an ordinary day
    assert float(raw.filter(out["date"] == day)[0]) < -0.4  # unadjusted: the close halves


def test_price_matrix() -> None:
    import polars as pl

    dates, ids, m = price_matrix(pl.DataFrame(ROWS))
    assert [str(d) for d in dates.astype("datetime64[D]")] == [
        "2024-03-26",
        "2024-03-27",
        "2024-03-28",
    ]
    assert ids == ["A", "B"]
    assert m.shape == (3, 2)
    assert np.isnan(m[0, 1])
    assert m[2].tolist() == [50.0, 11.0]
    with pytest.raises(DataError, match="asset_id=Z"):
        price_matrix(pl.DataFrame(ROWS), assets=["A", "Z"])


def test_calendar_helpers() -> None:
    assert period_end_sessions("2023-01-01", "2023-12-31", "Y") == [D(2023, 12, 29)]
    assert len(period_end_sessions("2023-01-01", "2023-12-31", "M")) == 12
    assert third_fridays("2024-01-01", "2024-12-31", (3, 6, 9, 12)) == [
        D(2024, 3, 15),
        D(2024, 6, 21),
        D(2024, 9, 20),
        D(2024, 12, 20),
    ]
    assert shift_sessions("2024-03-30", 0) == D(2024, 4, 1)  # a Saturday rolls forward
    assert shift_sessions("2024-03-30", 1) == D(2024, 4, 1)
    assert shift_sessions("2024-04-01", -2) == D(2024, 3, 27)
    assert last_sessions("2024-12-31", 2) == [D(2024, 12, 30), D(2024, 12, 31)]
    with pytest.raises(ConfigError, match="freq"):
        period_end_sessions("2023-01-01", "2023-12-31", "W")
