"""Validation gives the same verdicts on every backend, and each bad input its own clear error."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import narwhals as nw
import pytest

from flowpressure import ConfigError, DataError, SchemaError
from flowpressure.data import validate

D = dt.date


def fund_rows() -> dict[str, list[Any]]:
    return {
        "fund_id": ["A", "A", "A", "B", "B"],
        "date": ["2024-01-31", "2024-02-29", "2024-03-31", "2024-01-31", "2024-02-29"],
        "tna": [100.0, 101.0, 103.5, 50.0, 49.0],
        "ret": [0.01, 0.0, 0.02, -0.01, 0.0],
    }


def price_rows() -> dict[str, list[Any]]:
    return {
        "asset_id": ["SPY", "SPY", "SPY", "QQQ", "QQQ"],
        "date": ["2024-03-26", "2024-03-27", "2024-03-28", "2024-03-27", "2024-03-28"],
        "close": [520.0, 524.0, 523.1, 444.0, 445.0],
        "volume": [1e7, 1.1e7, 9e6, 5e6, 5e6],
    }


def to_dict(native: Any) -> dict[str, list[Any]]:
    df = nw.from_native(native)
    if isinstance(df, nw.LazyFrame):
        df = df.collect()
    keys = [c for c in ("fund_id", "asset_id", "date") if c in df.columns]
    return df.sort(keys).to_dict(as_series=False)


def test_valid_fund_panel_is_normalised(make_frame: Any) -> None:
    out = to_dict(validate(make_frame(fund_rows()), "fund"))
    assert out["date"][:2] == [D(2024, 1, 31), D(2024, 2, 29)]
    assert out["tna"] == [100.0, 101.0, 103.5, 50.0, 49.0]
    assert out["fund_id"] == ["A", "A", "A", "B", "B"]


def test_returns_same_frame_type(make_frame: Any) -> None:
    native = make_frame(price_rows())
    out = validate(native, "prices")
    assert type(out) is type(native)


# Each case: kind, a function that spoils valid rows, expected error class, message fragments.
def _set(rows: dict[str, list[Any]], col: str, i: int, value: Any) -> dict[str, list[Any]]:
    rows[col][i] = value
    return rows


def _drop(rows: dict[str, list[Any]], col: str) -> dict[str, list[Any]]:
    rows.pop(col)
    return rows


BAD_CASES: list[tuple[str, str, Any, type[Exception], list[str]]] = [
    (
        "missing column",
        "fund",
        lambda r: _drop(r, "tna"),
        SchemaError,
        ["missing column 'tna'", "frame has 'fund_id', 'date', 'ret'"],
    ),
    (
        "no return column",
        "fund",
        lambda r: _drop(r, "ret"),
        SchemaError,
        ["needs one of the columns ret or ret_total"],
    ),
    (
        "duplicate key",
        "fund",
        lambda r: _set(r, "date", 1, "2024-01-31"),
        DataError,
        [
            "field 'fund_id, date' at fund_id=A, date=2024-01-31",
            "expected one row per key",
            "2 rows",
        ],
    ),
    (
        "text in a number column",
        "fund",
        lambda r: {**r, "tna": ["100", "101", "n/a", "50", "x"]},
        DataError,
        [
            "field 'tna' at fund_id=A, date=2024-03-31",
            "expected a number",
            "got 'n/a'",
            "1 other row",
        ],
    ),
    (
        "negative TNA",
        "fund",
        lambda r: _set(r, "tna", 4, -49.0),
        DataError,
        ["field 'tna' at fund_id=B, date=2024-02-29", "expected a finite number > 0", "got -49.0"],
    ),
    (
        "zero TNA",
        "fund",
        lambda r: _set(r, "tna", 0, 0.0),
        DataError,
        ["field 'tna' at fund_id=A, date=2024-01-31", "> 0"],
    ),
    (
        "infinite TNA",
        "fund",
        lambda r: _set(r, "tna", 2, float("inf")),
        DataError,
        ["field 'tna' at fund_id=A, date=2024-03-31", "a finite number (not NaN or inf)"],
    ),
    (
        "return of -100 % or worse",
        "fund",
        lambda r: _set(r, "ret", 3, -1.5),
        DataError,
        ["field 'ret' at fund_id=B, date=2024-01-31", "a simple return > -1"],
    ),
    (
        "missing key",
        "fund",
        lambda r: _set(r, "fund_id", 2, None),
        DataError,
        ["field 'fund_id'", "expected a value (got a missing value)"],
    ),
    (
        "unreadable date",
        "fund",
        lambda r: {**r, "date": ["31.01.2024"] * 5},
        SchemaError,
        ["field 'date'", "expected a date like 2024-03-28"],
    ),
    (
        "dates written two ways",
        "fund",
        lambda r: _set(r, "date", 4, "02/29/2024"),
        DataError,
        ["field 'date' at fund_id=B, date=02/29/2024", "written like 2024-03-28"],
    ),
    (
        "weekend date in a daily file",
        "prices",
        lambda r: _set(r, "date", 0, "2024-03-23"),
        DataError,
        ["field 'date' at asset_id=SPY, date=2024-03-23", "a trading session of XNYS"],
    ),
    (
        "holiday in a daily file",
        "prices",
        lambda r: {**r, "date": [*r["date"][:2], "2024-03-29", "2024-03-27", "2024-03-29"]},
        DataError,
        ["field 'date' at asset_id=QQQ, date=2024-03-29", "session", "1 other row"],
    ),
    (
        "zero price",
        "prices",
        lambda r: _set(r, "close", 1, 0.0),
        DataError,
        ["field 'close' at asset_id=SPY, date=2024-03-27", "> 0"],
    ),
    (
        "negative volume",
        "prices",
        lambda r: _set(r, "volume", 3, -1.0),
        DataError,
        ["field 'volume' at asset_id=QQQ, date=2024-03-27", ">= 0"],
    ),
    (
        "file read with the wrong delimiter",
        "prices",
        lambda r: {"asset_id;date;close": ["SPY;2024-03-28;523.1"]},
        SchemaError,
        ["missing columns 'asset_id', 'date', 'close'", "is its delimiter ';'?"],
    ),
]


@pytest.mark.parametrize(
    ("kind", "spoil", "error", "fragments"),
    [c[1:] for c in BAD_CASES],
    ids=[c[0] for c in BAD_CASES],
)
def test_bad_input_same_verdict_on_every_backend(
    make_frame: Any, kind: str, spoil: Any, error: type[Exception], fragments: list[str]
) -> None:
    rows = spoil(fund_rows() if kind == "fund" else price_rows())
    with pytest.raises(error) as info:
        validate(make_frame(rows), kind)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_padded_text_is_read(make_frame: Any) -> None:
    rows = {
        "fund_id": ["A", "A"],
        "date": [" 2024-01-31", "2024-02-29\t"],
        "tna": [" 100.5", "101 "],
        "ret": ["0.01", "-0.02"],
    }
    out = to_dict(validate(make_frame(rows), "fund"))
    assert out["date"] == [D(2024, 1, 31), D(2024, 2, 29)]
    assert out["tna"] == [100.5, 101.0]
    assert out["ret"] == [0.01, -0.02]


def test_nan_is_reported(make_frame: Any) -> None:
    rows = _set(fund_rows(), "ret", 1, float("nan"))
    with pytest.raises(DataError) as info:
        validate(make_frame(rows), "fund")
    # pandas cannot tell NaN from a missing value; both are refused for the same field and key.
    assert "field 'ret' at fund_id=A, date=2024-02-29" in str(info.value)


def test_duckdb_result_is_parsed_once(duck: Any) -> None:
    rel = duck.sql(
        "SELECT * FROM (VALUES ('A', '2024-01-31', '100', '0.01')) t(fund_id, date, tna, ret)"
    )
    out = validate(rel, "fund")
    assert out.types == ["VARCHAR", "DATE", "DOUBLE", "DOUBLE"]
    assert out.fetchall() == [("A", D(2024, 1, 31), 100.0, 0.01)]


def test_empty_frame() -> None:
    import polars as pl

    empty = pl.DataFrame(
        schema={"fund_id": pl.String, "date": pl.Date, "tna": pl.Float64, "ret": pl.Float64}
    )
    with pytest.raises(DataError, match="fund panel has no rows"):
        validate(empty, "fund")


def test_index_events_rules(make_frame: Any) -> None:
    rows = {
        "asset_id": ["AAA", "BBB"],
        "announce_date": ["2024-03-01", "2024-03-22"],
        "effective_date": ["2024-03-15", "2024-03-15"],
        "w_old": [0.0, 0.01],
        "w_new": [0.02, 0.0],
    }
    good = {**rows, "announce_date": ["2024-03-01", "2024-03-08"]}
    validate(make_frame(good), "index_events")
    with pytest.raises(DataError, match="field 'announce_date' at asset_id=BBB"):
        validate(make_frame(rows), "index_events")


def test_weight_above_one(make_frame: Any) -> None:
    rows = {
        "asset_id": ["AAA"],
        "announce_date": ["2024-03-01"],
        "effective_date": ["2024-03-15"],
        "w_old": [0.0],
        "w_new": [1.2],
    }
    with pytest.raises(DataError, match=r"field 'w_new' .*a fraction in \[0, 1\]"):
        validate(make_frame(rows), "index_events")


def test_option_rules(make_frame: Any) -> None:
    rows = {
        "asset_id": ["SPX", "SPX"],
        "date": ["2024-03-28", "2024-03-28"],
        "expiry": ["2024-04-19", "2024-04-19"],
        "strike": [5000.0, 5000.0],
        "type": ["CALL", "straddle"],
        "open_interest": [10.0, 5.0],
        "iv": [0.15, 0.15],
    }
    with pytest.raises(DataError, match=r"field 'type' .*type=straddle.*'call' or 'put'"):
        validate(make_frame(rows), "options")
    rows["type"] = ["call", "put"]
    rows["expiry"] = ["2024-04-19", "2024-03-15"]
    with pytest.raises(DataError, match=r"field 'expiry'.*on or after the snapshot date"):
        validate(make_frame(rows), "options")


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2024-03-28T21:00:00+00:00", D(2024, 3, 28)),  # 17:00 New York
        ("2024-03-29T03:00:00+00:00", D(2024, 3, 28)),  # 23:00 New York, the day before
        ("2024-03-28 14:30:00", D(2024, 3, 28)),  # naive, read as UTC (TradingView style)
        ("2024-03-28 02:00:00", D(2024, 3, 27)),  # naive UTC 02:00 is 22:00 the day before
    ],
)
def test_timestamps_map_to_session_date(make_frame: Any, stamp: str, expected: dt.date) -> None:
    rows = {"asset_id": ["SPY"], "date": [stamp], "close": [1.0]}
    out = to_dict(validate(make_frame(rows), "prices"))
    assert out["date"] == [expected]


def test_datetime_column_maps_to_session_date(make_frame: Any) -> None:
    stamps = [dt.datetime(2024, 3, 28, 0, 0), dt.datetime(2024, 3, 28, 20, 0, tzinfo=dt.UTC)]
    rows = {"asset_id": ["SPY"], "date": [stamps[0]], "close": [1.0]}
    assert to_dict(validate(make_frame(rows), "prices"))["date"] == [D(2024, 3, 28)]


def test_integer_dates(make_frame: Any) -> None:
    rows = {"fund_id": ["A"], "date": [20240131], "tna": [1.0], "ret_total": [0.0]}
    assert to_dict(validate(make_frame(rows), "fund"))["date"] == [D(2024, 1, 31)]


def test_period_panels_keep_calendar_month_ends(make_frame: Any) -> None:
    # 2024-03-31 is a Sunday: fine for a monthly fund panel, refused in a daily ETF panel.
    validate(make_frame(fund_rows()), "fund")
    etf = {"fund_id": ["X"], "date": ["2024-03-31"], "shares_outstanding": [1e6], "nav": [10.0]}
    with pytest.raises(DataError, match="session"):
        validate(make_frame(etf), "etf")


def test_unknown_kind_and_calendar() -> None:
    import polars as pl

    with pytest.raises(ConfigError, match="field 'kind'"):
        validate(pl.DataFrame(price_rows()), "bonds")
    with pytest.raises(ConfigError, match="field 'calendar'"):
        validate(pl.DataFrame(price_rows()), "prices", calendar="NOPE")


def test_other_calendar() -> None:
    import polars as pl

    # 2024-03-29 (Good Friday) is closed in London too, 2024-05-06 is a UK bank holiday only.
    rows = {"asset_id": ["VOD"], "date": ["2024-05-06"], "close": [70.0]}
    validate(pl.DataFrame(rows), "prices")
    with pytest.raises(DataError, match="session of XLON"):
        validate(pl.DataFrame(rows), "prices", calendar="XLON")


def test_message_does_not_depend_on_input_order() -> None:
    import polars as pl

    rows = fund_rows()
    rows["tna"] = [100.0, -1.0, 103.5, -3.0, 49.0]
    messages = set()
    rng = random.Random(7)
    for _ in range(5):
        order = list(range(5))
        rng.shuffle(order)
        shuffled = {k: [v[i] for i in order] for k, v in rows.items()}
        with pytest.raises(DataError) as info:
            validate(pl.DataFrame(shuffled), "fund")
        messages.add(str(info.value))
    assert messages == {
        "field 'tna' at fund_id=A, date=2024-02-29: expected a finite number > 0, got -1.0 "
        "(1 other row with the same problem)"
    }


@pytest.mark.parametrize(
    ("bad", "good"),
    [
        ("2024-02-30", "2024-02-28"),
        ("2024-13-45", "2024-01-31"),
        ("2023-02-29", "2024-02-29"),  # 2024 is a leap year, 2023 is not
        ("20240431", "20240430"),
        ("02/30/2024", "02/29/2024"),
        ("2024-03-28 25:00:00", "2024-03-28 14:30:00"),
    ],
)
def test_impossible_dates_are_data_errors(make_frame: Any, bad: str, good: str) -> None:
    ok = make_frame({"asset_id": ["A"], "date": [good], "close": [1.0]})
    assert validate(ok, "prices", check_sessions=False) is not None
    frame = make_frame({"asset_id": ["A", "A"], "date": [good, bad], "close": [1.0, 2.0]})
    with pytest.raises(DataError) as err:
        validate(frame, "prices", check_sessions=False)
    assert err.value.field == "date"
    assert err.value.got == bad
    assert "a real date" in str(err.value)


def test_slash_dates_day_first_are_told_by_the_data(make_frame: Any) -> None:
    frame = make_frame(
        {"asset_id": ["A", "A"], "date": ["28/03/2024", "02/04/2024"], "close": [1.0, 2.0]}
    )
    out = to_dict(validate(frame, "prices", check_sessions=False))
    assert sorted(out["date"]) == [dt.date(2024, 3, 28), dt.date(2024, 4, 2)]


def test_slash_dates_that_fit_both_orders_are_refused(make_frame: Any) -> None:
    frame = make_frame(
        {"asset_id": ["A", "A"], "date": ["01/02/2024", "03/02/2024"], "close": [1.0, 2.0]}
    )
    with pytest.raises(SchemaError) as err:
        validate(frame, "prices", check_sessions=False)
    assert err.value.field == "date"
    assert "MM/DD/YYYY and DD/MM/YYYY" in str(err.value)
    assert "01/02/2024" in str(err.value)


def test_returns_written_in_percent_are_refused(make_frame: Any) -> None:
    dates = ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31"]
    rets = [0.5, 2.1, -0.4, 1.4, 3.0]  # percent: three of five above 1 (+100 %)
    frame = make_frame({"fund_id": ["A"] * 5, "date": dates, "tna": [1e8] * 5, "ret": rets})
    with pytest.raises(DataError) as err:
        validate(frame, "fund")
    assert err.value.field == "ret"
    assert err.value.got == 2.1
    assert "3 of 5 values are above 1" in str(err.value)
    # the same values as fractions (one genuine +140 % month among five) pass
    ok = make_frame(
        {
            "fund_id": ["A"] * 5,
            "date": dates,
            "tna": [1e8] * 5,
            "ret": [0.005, 0.021, -0.004, 1.4, 0.03],
        }
    )
    assert validate(ok, "fund") is not None
