"""Validation on Arrow arrays (``array_panel``) gives the generic validation's verdict and frame.

``flowpressure.data.validate`` tries :func:`flowpressure.data._arrays.array_panel` first on an
eager pandas or polars frame with canonical column types; on any failed check that path runs
``validate_generic`` to raise. Every test here compares the two paths on the same frame: the
same frame back (columns, dtypes, values, row order, pandas index) or the same exception type
and message, and checks that the array path really took the frame (so the comparison is not
the generic path against itself). Also the period helpers of the eager flow pass,
``_median_spacings`` and ``period_ordinals``, against plain NumPy / ``datetime`` references, and
one real ETF file (as a daily fund panel) whose figures are recomputed here from the CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from flowpressure import DataError, FlowPressureError
from flowpressure.data import validate
from flowpressure.data._arrays import ArrayPanel, array_panel
from flowpressure.data._schema import get_schema
from flowpressure.data._validate import PERCENT_MIN_ROWS, PERCENT_SHARE, validate_generic
from flowpressure.data.sample import load as load_sample
from flowpressure.flows import fund_flows, note_counts
from flowpressure.flows._common import _median_spacings, period_ordinals, step_of
from tests.conftest import SHARED_DATA

D = dt.date
EPOCH = D(1970, 1, 1)
BACKENDS = ("polars", "pandas")
DATE_COLUMNS = ("date", "period_start", "earnings_date", "announce_date", "effective_date")
Rows = dict[str, list[Any]]


# --- frames and comparisons ----------------------------------------------------------------


def make(backend: str, rows: Rows, pandas_dates: str = "datetime64[s]") -> Any:
    """A frame whose columns already have canonical types: the frames the array path takes."""
    if backend == "polars":
        return pl.DataFrame(rows, strict=False)
    df = pd.DataFrame(rows)
    for name in DATE_COLUMNS:
        if name in df.columns and all(isinstance(v, dt.date) or v is None for v in rows[name]):
            dates: Any = pd.to_datetime(pd.Series(rows[name], dtype=object))
            if pandas_dates == "date32[pyarrow]":
                df[name] = dates.dt.date.astype(pd.ArrowDtype(pa.date32()))
            else:
                df[name] = dates.astype(pandas_dates)
    return df


def assert_same_frame(got: Any, expected: Any) -> None:
    """Same type, columns, dtypes, values and row order (and, for pandas, index)."""
    assert type(got) is type(expected)
    if isinstance(expected, pl.DataFrame):
        assert got.schema == expected.schema
        assert got.equals(expected, null_equal=True)
    else:
        pd.testing.assert_frame_equal(got, expected, check_exact=True)


def raised(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> FlowPressureError | None:
    try:
        fn(*args, **kwargs)
    except FlowPressureError as err:
        return err
    return None


def assert_same_error(got: BaseException, expected: BaseException) -> None:
    assert type(got) is type(expected)
    assert str(got) == str(expected)
    assert isinstance(got, FlowPressureError)
    assert isinstance(expected, FlowPressureError)
    assert got.field == expected.field
    assert got.key == expected.key


def assert_panel_is_key_ordered(panel: ArrayPanel, kind: str) -> None:
    """``table`` is ``frame`` in key order, ``order`` maps one to the other, ``same`` and ``days``."""
    schema = get_schema(kind)
    keys = [k for k in (*schema.keys, *schema.optional_keys) if k in panel.table.column_names]
    table = pl.from_arrow(panel.table)
    assert isinstance(table, pl.DataFrame)
    frame = panel.frame if isinstance(panel.frame, pl.DataFrame) else pl.from_pandas(panel.frame)
    frame = frame.with_columns(pl.col(c).cast(pl.Date) for c in DATE_COLUMNS if c in table.columns)
    assert table.height == frame.height
    assert table.select(keys).equals(table.select(keys).sort(keys))  # key order
    rows = np.arange(frame.height) if panel.order is None else panel.order
    if panel.order is not None:
        assert sorted(panel.order.tolist()) == list(range(frame.height))  # a permutation
    taken = frame[rows.tolist()].select(table.columns)
    assert taken.cast(dict(table.schema)).equals(table, null_equal=True)
    entity = table[keys[0]].to_list()
    assert panel.same.tolist() == [a == b for a, b in itertools.pairwise(entity)]
    whole = list(table.select(keys).iter_rows())
    assert panel.unique is (len(set(whole)) == len(whole))
    days = [(d - EPOCH).days for d in table["date"].to_list()]
    assert panel.days.tolist() == days
    assert panel.days.dtype == np.int64


# --- 1. good frames: the array path returns exactly the generic path's frame ---------------


def fund_rows() -> Rows:
    return {  # not in key order; B before A, a leap day
        "fund_id": ["B", "A", "A", "A", "B"],
        "date": [D(2024, 1, 31), D(2024, 2, 29), D(2024, 1, 31), D(2024, 3, 31), D(2024, 2, 29)],
        "tna": [50.0, 101.0, 100.0, 103.5, 49.0],
        "ret": [0.01, 0.0, 0.02, -0.01, 0.0],
    }


S1, S2, S3 = D(2024, 3, 26), D(2024, 3, 27), D(2024, 3, 28)  # XNYS sessions
Q1, Q2 = D(2024, 3, 31), D(2024, 6, 30)

GOOD: dict[str, tuple[str, Rows]] = {
    "fund": ("fund", fund_rows()),
    "fund with every optional column": (
        "fund",
        {
            **fund_rows(),
            "ret_total": [0.011, 0.0, 0.021, -0.009, 0.001],
            "distribution": [0.0, 0.5, 0.0, 0.0, 0.1],
            "category": ["bond", None, "equity", "equity", "bond"],
        },
    ),
    "fund with ret_total only": (
        "fund",
        {k: v for k, v in {**fund_rows(), "ret_total": fund_rows()["ret"]}.items() if k != "ret"},
    ),
    "fund in key order": (
        "fund",
        {
            "fund_id": ["A", "A", "B"],
            "date": [D(2024, 1, 31), D(2024, 2, 29), D(2024, 1, 31)],
            "tna": [1.0, 2.0, 3.0],
            "ret": [0.0, 0.1, 0.2],
        },
    ),
    "fund, unicode and empty ids": (
        "fund",
        {
            "fund_id": ["é", "e", "", "É", "é"],
            "date": [D(2024, 1, 31), D(2024, 1, 31), D(2024, 1, 31), D(2024, 1, 31), Q1],
            "tna": [1.0, 2.0, 3.0, 4.0, 5.0],
            "ret": [0.0, 0.1, 0.2, 0.3, 0.4],
        },
    ),
    "fund, one genuine +140 % month": (
        "fund",
        {
            "fund_id": ["A"] * PERCENT_MIN_ROWS,
            "date": [D(2024, m, 1) for m in range(1, PERCENT_MIN_ROWS + 1)],
            "tna": [1e8] * PERCENT_MIN_ROWS,
            "ret": [0.005, 0.021, -0.004, 1.4, 0.03][:PERCENT_MIN_ROWS],
        },
    ),
    "fund before 1970": (
        "fund",
        {
            "fund_id": ["A", "A", "B"],
            "date": [D(1969, 12, 31), D(1968, 2, 29), D(1965, 1, 31)],
            "tna": [1.0, 2.0, 3.0],
            "ret": [0.0, 0.1, 0.2],
        },
    ),
    "etf": (
        "etf",
        {
            "fund_id": ["Y", "X", "X", "Y"],
            "date": [S1, S2, S1, S3],
            "shares_outstanding": [5e5, 1.1e6, 1e6, 0.0],
            "nav": [20.0, 10.1, 10.0, 20.2],
            "aum": [1e7, 1.111e7, 1e7, 0.0],
        },
    ),
    "prices": (
        "prices",
        {
            "asset_id": ["SPY", "SPY", "QQQ"],
            "date": [S2, S1, S3],
            "close": [520.0, 521.0, 444.0],
            "volume": [1e7, 2e7, 5e6],
        },
    ),
    "holdings": (
        "holdings",
        {
            "investor_id": ["I1", "I2", "I1", "I1"],
            "asset_id": ["BBB", "AAA", "AAA", "AAA"],
            "date": [Q1, Q1, Q1, Q2],
            "shares": [200.0, 0.0, 100.0, 150.0],
            "value": [2e3, 0.0, 1e3, 2e3],
        },
    ),
    "holdings with put/call in the key": (
        "holdings",
        {
            "investor_id": ["I1", "I1", "I1"],
            "asset_id": ["AAA", "AAA", "AAA"],
            "date": [Q1, Q1, Q1],
            "shares": [1.0, 2.0, 3.0],
            "put_call": ["PUT", "CALL", ""],
        },
    ),
    "buybacks": (
        "buybacks",
        {
            "asset_id": ["MSFT", "AAPL", "AAPL"],
            "date": [Q1, Q2, Q1],
            "repurchases": [5e9, 2e9, 1e9],
            "earnings_date": [D(2024, 4, 25), D(2024, 8, 1), D(2024, 5, 2)],
        },
    ),
    "fund_returns": (
        "fund_returns",
        {
            "fund_id": ["C2", "C1", "C1"],
            "date": [D(2024, 1, 31), D(2024, 2, 29), D(2024, 1, 31)],
            "ret_total": [0.0, -0.02, 0.01],
            "series_id": ["S1", "S1", None],
        },
    ),
    "fund_flows_reported": (
        "fund_flows_reported",
        {
            "fund_id": ["S1", "S1", "S1"],
            "period_start": [D(2024, 2, 1), D(2024, 1, 1), D(2023, 3, 1)],
            "date": [D(2024, 2, 29), D(2024, 1, 31), D(2024, 2, 29)],
            "sales": [20.0, 10.0, 300.0],
            "redemptions": [1.0, 5.0, 30.0],
            "net_flow": [19.0, -5.0, 270.0],
            "source": ["nport", "nport", "24f2nt"],
        },
    ),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", list(GOOD))
def test_good_frame_array_path_equals_generic(backend: str, case: str) -> None:
    kind, rows = GOOD[case]
    frame = make(backend, rows)
    panel = array_panel(frame, kind)
    assert panel is not None, "the array path should take a frame with canonical types"
    got = validate(frame, kind)
    expected = validate_generic(frame, kind)
    assert_same_frame(got, expected)
    assert_same_frame(panel.frame, expected)
    assert_panel_is_key_ordered(panel, kind)
    if backend == "polars":
        assert got is frame  # nothing to cast: the input itself comes back


@pytest.mark.parametrize("backend", BACKENDS)
def test_polars_and_pandas_give_the_same_panel(backend: str) -> None:
    kind, rows = GOOD["fund with every optional column"]
    polars_panel = array_panel(make("polars", rows), kind)
    other = array_panel(make(backend, rows), kind)
    assert polars_panel is not None
    assert other is not None
    assert other.table.equals(polars_panel.table)
    assert (other.order is None) is (polars_panel.order is None)
    if other.order is not None and polars_panel.order is not None:
        assert other.order.tolist() == polars_panel.order.tolist() == [2, 1, 3, 0, 4]
    assert other.table.column("fund_id").type == pa.large_string()
    assert other.table.column("date").type == pa.date32()
    assert other.table.column("tna").type == pa.float64()


@pytest.mark.parametrize("dates", ["datetime64[s]", "datetime64[ns]", "date32[pyarrow]"])
def test_pandas_date_types_and_index_are_kept_like_generic(dates: str) -> None:
    frame = make("pandas", fund_rows(), pandas_dates=dates)
    frame.index = pd.Index([30, 10, 10, 20, 0])  # not a RangeIndex, not unique
    assert array_panel(frame, "fund") is not None
    got = validate(frame, "fund")
    assert_same_frame(got, validate_generic(frame, "fund"))
    assert str(got["date"].dtype) == "date32[day][pyarrow]"
    assert got.index.tolist() == [30, 10, 10, 20, 0]
    assert got["date"].tolist() == fund_rows()["date"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_numbers_of_other_types_are_cast_like_generic(backend: str) -> None:
    rows: Rows = {**fund_rows(), "tna": [50, 101, 100, 103, 49], "distribution": [0, 1, 0, 0, 2]}
    frame = make(backend, rows)
    if backend == "polars":
        frame = frame.with_columns(
            pl.col("tna").cast(pl.Int32), pl.col("ret").cast(pl.Float32), pl.col("distribution")
        )
    else:
        frame = frame.astype({"tna": "int64", "ret": "float32", "distribution": "uint8"})
    assert array_panel(frame, "fund") is not None
    got = validate(frame, "fund")
    assert_same_frame(got, validate_generic(frame, "fund"))
    dtypes = dict(got.schema) if backend == "polars" else got.dtypes.to_dict()
    assert {str(dtypes[c]).lower() for c in ("tna", "ret", "distribution")} == {"float64"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_sample_fund_panel_shuffled(backend: str) -> None:
    fund = load_sample("fund").sample(fraction=1.0, shuffle=True, seed=11)
    frame: Any = fund
    if backend == "pandas":
        frame = fund.to_pandas()
        frame["date"] = pd.to_datetime(frame["date"])
    panel = array_panel(frame, "fund")
    assert panel is not None
    assert panel.order is not None
    assert panel.unique
    assert_same_frame(validate(frame, "fund"), validate_generic(frame, "fund"))
    assert_panel_is_key_ordered(panel, "fund")


def test_daily_panel_with_session_check_off() -> None:
    rows: Rows = {
        "asset_id": ["A", "A"],
        "date": [D(2024, 3, 30), D(2024, 3, 29)],
        "close": [1.0, 2.0],
    }
    for backend in BACKENDS:
        frame = make(backend, rows)
        panel = array_panel(frame, "prices", check_sessions=False)
        assert panel is not None
        expected = validate_generic(frame, "prices", check_sessions=False)
        assert_same_frame(validate(frame, "prices", check_sessions=False), expected)
        with pytest.raises(DataError, match="a trading session of XNYS"):
            validate(frame, "prices")


@pytest.mark.parametrize("backend", BACKENDS)
def test_kinds_and_types_the_array_path_leaves_to_generic(backend: str) -> None:
    options: Rows = {
        "asset_id": ["SPX"],
        "date": [S3],
        "expiry": [D(2024, 4, 19)],
        "strike": [5000.0],
        "type": ["CALL"],
        "open_interest": [1.0],
        "iv": [0.1],
    }
    events: Rows = {
        "asset_id": ["A"],
        "announce_date": [S1],
        "effective_date": [S3],
        "w_old": [0.0],
        "w_new": [0.1],
    }
    text_dates = {**fund_rows(), "date": [d.isoformat() for d in fund_rows()["date"]]}
    for kind, rows in (("options", options), ("index_events", events), ("fund", text_dates)):
        frame = make(backend, rows)
        assert array_panel(frame, kind) is None
        assert_same_frame(validate(frame, kind), validate_generic(frame, kind))


def test_unchecked_panel_keeps_duplicates_and_refuses_null_keys() -> None:
    rows = fund_rows()
    rows["date"][1] = D(2024, 3, 31)  # A 2024-03-31 twice
    for backend in BACKENDS:
        panel = array_panel(make(backend, rows), "fund", check=False)
        assert panel is not None
        assert panel.unique is False
        assert_panel_is_key_ordered(panel, "fund")
        with pytest.raises(DataError, match="expected one row per key"):
            array_panel(make(backend, rows), "fund")
        nulls = {**fund_rows(), "fund_id": ["B", None, "A", "A", "B"]}
        assert array_panel(make(backend, nulls), "fund", check=False) is None


# --- 2. bad frames: the same exception and message -----------------------------------------


def spoil(rows: Rows, column: str, i: int, value: Any) -> Rows:
    out = {k: list(v) for k, v in rows.items()}
    out[column][i] = value
    return out


def percent_rows() -> Rows:
    n = PERCENT_MIN_ROWS
    big = math.floor(PERCENT_SHARE * n) + 1  # just over the share
    return {
        "fund_id": ["A"] * n,
        "date": [D(2024, m, 28) for m in range(1, n + 1)],
        "tna": [1e8] * n,
        "ret": [2.5] * big + [0.01] * (n - big),
    }


etf = GOOD["etf"][1]
prices = GOOD["prices"][1]
holdings = GOOD["holdings"][1]

# name: kind, rows, field the generic error names, whether the array path reads the frame
BAD: dict[str, tuple[str, Rows, str | None, bool]] = {
    "duplicate key": ("fund", spoil(fund_rows(), "date", 2, D(2024, 2, 29)), "fund_id, date", True),
    "three rows on one key": (
        "fund",
        {**fund_rows(), "fund_id": ["A"] * 5, "date": [D(2024, 1, 31)] * 5},
        "fund_id, date",
        True,
    ),
    "null fund_id": ("fund", spoil(fund_rows(), "fund_id", 3, None), "fund_id", True),
    "null date": ("fund", spoil(fund_rows(), "date", 3, None), "date", True),
    "null tna": ("fund", spoil(fund_rows(), "tna", 3, None), "tna", True),
    "NaN tna": ("fund", spoil(fund_rows(), "tna", 1, float("nan")), "tna", True),
    "inf tna": ("fund", spoil(fund_rows(), "tna", 4, float("inf")), "tna", True),
    "negative tna": ("fund", spoil(fund_rows(), "tna", 4, -49.0), "tna", True),
    "zero tna": ("fund", spoil(fund_rows(), "tna", 0, 0.0), "tna", True),
    "NaN ret": ("fund", spoil(fund_rows(), "ret", 1, float("nan")), "ret", True),
    "-inf ret": ("fund", spoil(fund_rows(), "ret", 1, float("-inf")), "ret", True),
    "return of -100 %": ("fund", spoil(fund_rows(), "ret", 3, -1.0), "ret", True),
    "returns in percent": ("fund", percent_rows(), "ret", True),
    "negative distribution": (
        "fund",
        {**fund_rows(), "distribution": [0.0, 0.0, -0.5, 0.0, 0.0]},
        "distribution",
        True,
    ),
    "no return in a row": (
        "fund",
        {
            **fund_rows(),
            "ret": [0.01, None, 0.02, -0.01, 0.0],
            "ret_total": [0.01, None, 0.02, -0.01, 0.0],
        },
        "ret",
        True,
    ),
    "two problems: the first check wins": (
        "fund",
        spoil(spoil(fund_rows(), "tna", 3, -1.0), "date", 2, D(2024, 2, 29)),
        "tna",
        True,
    ),
    "invalid date (text)": (
        "fund",
        {**fund_rows(), "date": ["2024-01-31", "2024-02-30", "2024-01-31", "2024-03-31", "x"]},
        "date",
        False,
    ),
    "impossible date (text)": (
        "fund",
        {**fund_rows(), "date": ["2024-01-31", "2023-02-29"] + ["2024-03-31"] * 3},
        "date",
        False,
    ),
    "missing column": (
        "fund",
        {k: v for k, v in fund_rows().items() if k != "tna"},
        "tna",
        False,
    ),
    "no rows": ("fund", {k: [] for k in fund_rows()}, None, True),
    "weekend in a daily etf panel": ("etf", spoil(etf, "date", 0, D(2024, 3, 30)), "date", True),
    "zero nav": ("etf", spoil(etf, "nav", 2, 0.0), "nav", True),
    "negative shares outstanding": (
        "etf",
        spoil(etf, "shares_outstanding", 1, -1.0),
        "shares_outstanding",
        True,
    ),
    "holiday in a prices panel": ("prices", spoil(prices, "date", 2, D(2024, 3, 29)), "date", True),
    "negative volume": ("prices", spoil(prices, "volume", 1, -1.0), "volume", True),
    "duplicate holding": (
        "holdings",
        spoil(holdings, "asset_id", 0, "AAA"),
        "investor_id, asset_id, date",
        True,
    ),
    "negative shares held": ("holdings", spoil(holdings, "shares", 3, -5.0), "shares", True),
    "null in an optional key": (
        "holdings",
        {**holdings, "put_call": ["PUT", None, "CALL", "PUT"]},
        "put_call",
        True,
    ),
    "negative repurchases": (
        "buybacks",
        spoil(GOOD["buybacks"][1], "repurchases", 1, -2e9),
        "repurchases",
        True,
    ),
    "fund return of -150 %": (
        "fund_returns",
        spoil(GOOD["fund_returns"][1], "ret_total", 0, -1.5),
        "ret_total",
        True,
    ),
    "negative sales": (
        "fund_flows_reported",
        spoil(GOOD["fund_flows_reported"][1], "sales", 2, -1.0),
        "sales",
        True,
    ),
    "duplicate reported period": (
        "fund_flows_reported",
        spoil(GOOD["fund_flows_reported"][1], "period_start", 2, D(2024, 2, 1)),
        "fund_id, period_start, date",
        True,
    ),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", list(BAD))
def test_bad_frame_same_error_as_generic(backend: str, case: str) -> None:
    kind, rows, field, reads = BAD[case]
    frame = make(backend, rows)
    if case == "no rows" and backend == "polars":
        frame = pl.DataFrame(
            schema={"fund_id": pl.String, "date": pl.Date, "tna": pl.Float64, "ret": pl.Float64}
        )
    elif case == "no rows":
        frame = frame.astype(
            {"fund_id": "str", "date": "datetime64[s]", "tna": float, "ret": float}
        )
    if case == "null date" and backend == "pandas":
        reads = False  # NaT in datetime64: the array path leaves the frame to the generic path
    with pytest.raises(FlowPressureError) as generic:
        validate_generic(frame, kind)
    assert generic.value.field == field  # the case breaks what it is meant to break
    with pytest.raises(type(generic.value)) as got:
        validate(frame, kind)
    assert_same_error(got.value, generic.value)
    if reads:  # the array path itself found the problem and raised the generic error
        with pytest.raises(type(generic.value)) as arrays:
            array_panel(frame, kind)
        assert_same_error(arrays.value, generic.value)
    else:
        assert array_panel(frame, kind) is None


def test_messages_name_the_smallest_key_whatever_the_order() -> None:
    rows = spoil(spoil(fund_rows(), "tna", 1, -1.0), "tna", 4, -3.0)  # A 02-29 and B 02-29
    expected = (
        "field 'tna' at fund_id=A, date=2024-02-29: expected a finite number > 0, got -1.0 "
        "(1 other row with the same problem)"
    )
    for backend in BACKENDS:
        for order in ([0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 4, 0, 3, 1]):
            frame = make(backend, {k: [v[i] for i in order] for k, v in rows.items()})
            with pytest.raises(DataError) as err:
                validate(frame, "fund")
            assert str(err.value) == expected


# Known divergence (see the report): pandas stores a missing float as NaN. The array path reads
# float64 NaN as missing (``pa.Array.from_pandas``) and accepts it in a nullable column; the
# generic path's ``is_finite`` sees NaN and refuses it. Strict: remove the mark once fixed.
NAN_IN_OPTIONAL = {
    "fund distribution": ("fund", {**fund_rows(), "distribution": [0.0, None, 0.0, 0.0, 0.0]}),
    "fund ret_total with ret": ("fund", {**fund_rows(), "ret_total": [None, 0.0, 0.0, 0.0, 0.0]}),
    "prices volume": ("prices", {**prices, "volume": [1e7, None, 5e6]}),
    "holdings value": ("holdings", {**holdings, "value": [2e3, None, 1e3, 2e3]}),
}


@pytest.mark.parametrize("case", list(NAN_IN_OPTIONAL))
def test_polars_missing_optional_number_same_verdict(case: str) -> None:
    kind, rows = NAN_IN_OPTIONAL[case]
    frame = make("polars", rows)  # a real null: both paths accept it
    assert array_panel(frame, kind) is not None
    assert_same_frame(validate(frame, kind), validate_generic(frame, kind))


@pytest.mark.parametrize("case", list(NAN_IN_OPTIONAL))
def test_pandas_missing_optional_number_same_verdict(case: str) -> None:
    kind, rows = NAN_IN_OPTIONAL[case]
    frame = make("pandas", rows)
    generic = raised(validate_generic, frame, kind)
    got = raised(validate, frame, kind)
    assert (got is None) is (generic is None), f"validate: {got!r}; generic: {generic!r}"
    if got is not None and generic is not None:
        assert_same_error(got, generic)


# --- 3. property: small fund panels, both paths agree --------------------------------------

IDS = ["A", "B", "Ç"]
MONTH_ENDS = [D(2023, 12, 31), D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 29)]
BAD_VALUES: dict[str, list[Any]] = {
    "fund_id": [None],
    "date": [None],
    "tna": [None, float("nan"), float("inf"), float("-inf"), 0.0, -3.0],
    "ret": [None, float("nan"), float("inf"), float("-inf"), -1.0, -2.0, 2.5],
    "distribution": [-0.5, float("nan")],
}


@st.composite
def fund_panels(draw: st.DrawFn, backend: str) -> Rows:
    key = st.tuples(st.sampled_from(IDS), st.sampled_from(MONTH_ENDS))
    keys = draw(st.lists(key, min_size=1, max_size=7, unique=True))
    if draw(st.integers(0, 2)) == 0:  # one key twice, anywhere
        keys = draw(st.permutations([*keys, draw(st.sampled_from(keys))]))
    n = len(keys)
    ret_col = draw(st.sampled_from(["ret", "ret_total"]))
    scale = draw(st.sampled_from([1.0, 1.0, 100.0]))  # 100: returns written in percent
    rows: Rows = {
        "fund_id": [k[0] for k in keys],
        "date": [k[1] for k in keys],
        "tna": draw(st.lists(st.floats(0.5, 1e9), min_size=n, max_size=n)),
        ret_col: [scale * r for r in draw(st.lists(st.floats(-0.9, 0.5), min_size=n, max_size=n))],
    }
    if draw(st.booleans()):
        rows["distribution"] = draw(st.lists(st.sampled_from([0.0, 0.25]), min_size=n, max_size=n))
    if draw(st.booleans()):
        rows["category"] = draw(st.lists(st.sampled_from(["x", "y", None]), min_size=n, max_size=n))
    for _ in range(draw(st.integers(0, 2))):
        column = draw(st.sampled_from(["fund_id", "date", "tna", "ret", "distribution"]))
        i = draw(st.integers(0, n - 1))
        values = BAD_VALUES[column]
        if column == "ret":
            column = ret_col
        if column == "distribution" and column not in rows:
            continue
        if column == "distribution" and backend == "pandas":
            values = [-0.5]  # not NaN: pandas NaN in an optional column is the known divergence
        rows[column][i] = draw(st.sampled_from(values))
    return rows


def array_path_reads(backend: str, rows: Rows) -> bool:
    """Whether the array path takes these typed columns (else it hands the frame over)."""
    if any(all(v is None for v in values) for values in rows.values()):
        return False  # an all-null column has no type of its own
    return not (backend == "pandas" and None in rows["date"])  # NaT


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_property_array_path_agrees_with_generic(backend: str, data: st.DataObject) -> None:
    rows = data.draw(fund_panels(backend))
    frame = make(backend, rows)
    generic = raised(validate_generic, frame, "fund")
    got = raised(validate, frame, "fund")
    reads = array_path_reads(backend, rows)
    event(f"{backend}: {'passes' if generic is None else generic.field}, array path reads: {reads}")
    if generic is not None:
        assert got is not None, f"validate passed, generic raised {generic!r}"
        assert_same_error(got, generic)
        if reads:
            arrays = raised(array_panel, frame, "fund")
            assert arrays is not None
            assert_same_error(arrays, generic)
        return
    assert got is None, f"validate raised {got!r}, generic passed"
    expected = validate_generic(frame, "fund")
    assert_same_frame(validate(frame, "fund"), expected)
    panel = array_panel(frame, "fund")
    assert (panel is not None) is reads
    if panel is not None:
        assert_same_frame(panel.frame, expected)
        assert_panel_is_key_ordered(panel, "fund")


# --- 4. _median_spacings: per-entity lower median of day spacings --------------------------


@st.composite
def spacings(draw: st.DrawFn) -> list[int]:
    """The gaps of one entity: narrow (histogram), around the 64-day width, or wide (sort)."""
    regime = draw(st.sampled_from(["narrow", "boundary", "wide", "single"]))
    if regime == "single":
        return []  # one row: no spacing, no median
    if regime == "narrow":
        lo = draw(st.integers(0, 400))
        return draw(st.lists(st.integers(lo, lo + 63), min_size=1, max_size=12))
    if regime == "boundary":
        lo = draw(st.integers(0, 400))
        width = draw(st.sampled_from([62, 63, 64, 65]))  # widths 63..66: both code paths
        inner = draw(st.lists(st.integers(lo, lo + width), max_size=8))
        return draw(st.permutations([lo, lo + width, *inner]))
    return draw(st.lists(st.integers(0, 3000), min_size=1, max_size=12))


def reference_medians(groups: list[tuple[int, list[int]]]) -> tuple[list[int], list[int]]:
    medians, firsts, row = [], [], 0
    for _, gaps in groups:
        if gaps:
            ordered = np.sort(np.asarray(gaps, dtype=np.int64))
            medians.append(int(ordered[(len(ordered) - 1) // 2]))  # the lower median
            firsts.append(row)
        row += len(gaps) + 1
    return medians, firsts


def key_ordered_days(groups: list[tuple[int, list[int]]]) -> tuple[Any, Any]:
    """Concatenated days and ``same[i]``: row ``i + 1`` has row ``i``'s entity (n - 1 values)."""
    days: list[int] = []
    entity: list[int] = []
    for k, (start, gaps) in enumerate(groups):
        days.extend(np.cumsum([start, *gaps]).tolist())
        entity.extend([k] * (len(gaps) + 1))
    same = [a == b for a, b in itertools.pairwise(entity)]
    return np.asarray(days, dtype=np.int64), np.asarray(same, dtype=np.bool_)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-20000, 20000), spacings()), max_size=6))
def test_property_median_spacings(groups: list[tuple[int, list[int]]]) -> None:
    days, same = key_ordered_days(groups)
    medians, firsts = _median_spacings(days, same)
    expected_medians, expected_firsts = reference_medians(groups)
    assert medians.tolist() == expected_medians
    assert firsts.tolist() == expected_firsts


@pytest.mark.parametrize(
    ("gaps", "median"),
    [
        ([28, 31, 29, 31, 30], 30),  # month ends: histogram
        ([28, 31], 28),  # even count: the lower of the two
        ([1, 64], 1),  # width 64: the last width counted
        ([1, 65, 65], 65),  # width 65: sorted
        ([0, 0, 365], 0),  # zero spacings (repeated dates) count
        ([91, 1, 3000, 92], 91),
    ],
)
def test_median_spacings_examples(gaps: list[int], median: int) -> None:
    # a wide entity, then the case, then a one-row entity and a narrow one: the histogram of
    # one entity must not leak into the next
    groups = [(0, [5, 900, 5000]), (10, gaps), (7, []), (100, [3, 3, 4])]
    days, same = key_ordered_days(groups)
    medians, firsts = _median_spacings(days, same)
    assert medians.tolist() == [900, median, 3]
    assert firsts.tolist() == [0, 4, 4 + len(gaps) + 2]


def test_median_spacings_without_entities_of_two_rows() -> None:
    for n in (0, 1, 3):
        days = np.arange(n, dtype=np.int64)
        medians, firsts = _median_spacings(days, np.zeros(max(n - 1, 0), dtype=np.bool_))
        assert medians.tolist() == []
        assert firsts.tolist() == []


# --- 5. period_ordinals against datetime arithmetic ----------------------------------------


def python_ordinal(day: dt.date, freq: str) -> int:
    months = (day.year - 1970) * 12 + day.month - 1
    if freq == "M":
        return months
    if freq == "Q":
        return (day.year - 1970) * 4 + (day.month - 1) // 3
    if freq == "A":
        return day.year - 1970
    return (day - D(1969, 12, 29)).days // 7  # weeks from Monday 1969-12-29


SPANS = [
    (D(1899, 12, 20), D(1901, 1, 10)),  # 1900 is not a leap year
    (D(1967, 12, 25), D(1972, 3, 5)),  # before the epoch, 1968 and 1972 leap years
    (D(1999, 12, 1), D(2001, 1, 31)),  # 2000 is a leap year
    (D(2023, 12, 30), D(2024, 3, 2)),
    (D(2099, 12, 30), D(2100, 3, 2)),  # 2100 is not
]


@pytest.mark.parametrize("freq", ["M", "Q", "A", "W"])
@pytest.mark.parametrize(("first", "last"), SPANS)
def test_period_ordinals_match_calendar_arithmetic(
    freq: Any, first: dt.date, last: dt.date
) -> None:
    span = [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
    rng = np.random.default_rng(3)
    picked = [span[i] for i in rng.integers(0, len(span), size=3 * len(span))]  # repeats, any order
    for dates in (span, picked):
        days = np.asarray([(d - EPOCH).days for d in dates], dtype=np.int64)
        got = period_ordinals(days, freq, "XNYS")
        assert got.dtype == np.int64
        assert got.tolist() == [python_ordinal(d, freq) for d in dates]
        # the generic path numbers periods with step_of: same steps, so the same gaps
        offset = step_of(dates[0], freq, "XNYS") - int(got[0])
        assert [step_of(d, freq, "XNYS") - offset for d in dates] == got.tolist()


def test_period_ordinals_at_year_and_quarter_ends() -> None:
    dates = [D(2023, 12, 31), D(2024, 1, 1), D(2024, 2, 29), D(2024, 3, 1), D(2024, 3, 31)]
    dates += [D(2024, 4, 1), D(1969, 12, 31), D(1970, 1, 1)]
    days = np.asarray([(d - EPOCH).days for d in dates], dtype=np.int64)
    assert period_ordinals(days, "M", "XNYS").tolist() == [647, 648, 649, 650, 650, 651, -1, 0]
    assert period_ordinals(days, "Q", "XNYS").tolist() == [215, 216, 216, 216, 216, 217, -1, 0]
    assert period_ordinals(days, "A", "XNYS").tolist() == [53, 54, 54, 54, 54, 54, -1, 0]
    assert period_ordinals(np.zeros(0, dtype=np.int64), "M", "XNYS").tolist() == []


def test_period_ordinals_sessions_are_the_session_on_or_after() -> None:
    import exchange_calendars as xc

    with warnings.catch_warnings():  # exchange_calendars' own pandas deprecation warnings
        warnings.simplefilter("ignore")
        cal = xc.get_calendar("XNYS", start="2024-01-01", end="2024-12-31")
        sessions = [d.date() for d in cal.sessions_in_range("2024-03-01", "2024-04-30")]
    dates = [D(2024, 3, 27), D(2024, 3, 28), D(2024, 3, 29), D(2024, 3, 30), D(2024, 4, 1)]
    days = np.asarray([(d - EPOCH).days for d in dates], dtype=np.int64)
    got = period_ordinals(days, "D", "XNYS")
    on_or_after = [next(i for i, s in enumerate(sessions) if s >= d) for d in dates]
    assert got.tolist() == [i - on_or_after[0] for i in on_or_after]
    assert got.tolist() == [0, 1, 2, 2, 2]  # Good Friday and the Saturday map to Monday


# --- 6. a real file: the stockanalysis ETF scrape as a daily fund panel --------------------

ETF = SHARED_DATA / "etf" / "stockanalysis_etf_daily_aum_nav_shares_2021_2022.csv"


def read_csv_rows() -> list[dict[str, str]]:
    with ETF.open(newline="") as handle:
        return list(csv.DictReader(handle))


def fund_panel(raw: pl.DataFrame) -> pl.DataFrame:
    """TNA = total assets in USD, ret = NAV return against the fund's previous row (0 at birth)."""
    return (
        raw.select(
            fund_id="ticker",
            date=pl.col("snapshot_date_et").str.to_date(),
            tna=pl.col("assets_musd") * 1e6,
            nav="nav",
        )
        .sort("fund_id", "date")
        .with_columns(ret=(pl.col("nav") / pl.col("nav").shift(1).over("fund_id") - 1).fill_null(0))
        .drop("nav")
    )


@pytest.mark.skipif(not ETF.exists(), reason="../shared/data not present")
def test_real_etf_file_as_fund_panel() -> None:
    import exchange_calendars as xc

    lines = read_csv_rows()
    tickers = {line["ticker"] for line in lines}
    assert (len(lines), len(tickers)) == (7586, 43)  # MANIFEST: 7,586 rows, 43 ETFs

    raw = pl.read_csv(ETF, schema_overrides={"snapshot_date_et": pl.String})
    panel_frame = fund_panel(raw).sample(fraction=1.0, shuffle=True, seed=1)
    for frame in (panel_frame, panel_frame.to_pandas()):
        panel = array_panel(frame, "fund")
        assert panel is not None
        assert panel.unique
        assert panel.table.num_rows == len(lines)
        assert 1 + int((~panel.same).sum()) == len(tickers)  # one run per fund in key order
        assert_same_frame(validate(frame, "fund"), validate_generic(frame, "fund"))

    # SPY's flows by hand on XNYS sessions: F_t = TNA_t - TNA_{t-1} (1 + r_t), r_t the NAV
    # return, where the previous row is the previous session; else a gap (no flow).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal = xc.get_calendar("XNYS", start="2021-01-01", end="2022-12-31")
        number = {
            d.date(): i for i, d in enumerate(cal.sessions_in_range("2021-01-04", "2022-12-30"))
        }
    spy = sorted(
        (D.fromisoformat(line["snapshot_date_et"]), float(line["assets_musd"]), float(line["nav"]))
        for line in lines
        if line["ticker"] == "SPY" and D.fromisoformat(line["snapshot_date_et"]) in number
    )
    expected: dict[dt.date, float | None] = {spy[0][0]: None}
    for (d0, a0, n0), (d1, a1, n1) in itertools.pairwise(spy):
        consecutive = number[d1] - number[d0] == 1
        expected[d1] = a1 * 1e6 - a0 * 1e6 * (1 + (n1 / n0 - 1)) if consecutive else None
    gaps = sum(v is None for v in expected.values()) - 1

    on_sessions = raw.filter(pl.col("snapshot_date_et").str.to_date().is_in(list(number)))
    fund = fund_panel(on_sessions)
    assert array_panel(fund, "fund") is not None
    out = fund_flows(fund).filter(pl.col("fund_id") == "SPY").sort("date")
    assert out["date"].to_list() == list(expected)
    assert out["flow_note"][0] == "birth"
    assert note_counts(out) == {"birth": 1, "gap": gaps}
    assert gaps >= 1
    for day, flow, want in zip(out["date"], out["flow"], expected.values(), strict=True):
        if want is None:
            assert flow is None, day
        else:
            assert flow == pytest.approx(want, rel=1e-9, abs=1.0), day
    total = sum(v for v in expected.values() if v is not None)
    assert out["flow"].sum() == pytest.approx(total, rel=1e-9)
