"""The eager pass (polars/pandas frames) gives exactly the generic window's results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from flowpressure.data import sample
from flowpressure.data._arrays import array_panel
from flowpressure.flows import fund_flows
from flowpressure.flows._eager import eager_fund_flows


def mergers() -> pl.DataFrame:
    return pl.DataFrame(
        [{"target_id": t, "acquirer_id": a, "date": d} for t, a, d in sample.MERGERS]
    )


def generic(frame: pl.DataFrame, **kwargs: object) -> pl.DataFrame:
    out = fund_flows(frame.lazy(), **kwargs).collect()  # type: ignore[arg-type]
    assert isinstance(out, pl.DataFrame)
    return out


@pytest.mark.parametrize("timing", ["end", "start"])
@pytest.mark.parametrize("with_mergers", [False, True])
def test_polars_in_and_out_of_order_equals_generic(timing: str, with_mergers: bool) -> None:
    fund = sample.load("fund")
    kwargs: dict[str, object] = {"timing": timing}
    if with_mergers:
        kwargs["mergers"] = mergers()
    expected = generic(fund, **kwargs)
    for frame in (fund, fund.sample(fraction=1.0, shuffle=True, seed=3)):
        got = fund_flows(frame, **kwargs)  # type: ignore[arg-type]
        assert got.columns == expected.columns
        assert got.schema == expected.schema
        # row order is the input's
        assert got.select("fund_id", "date").equals(frame.select("fund_id", "date"))
        joined = got.join(expected, on=["fund_id", "date"], suffix="_g")
        assert joined.height == fund.height
        assert (joined["flow"].is_null() == joined["flow_g"].is_null()).all()
        diff = joined.select((pl.col("flow") - pl.col("flow_g")).abs().max()).item()
        assert diff < 1e-6
        assert joined["flow_note"].equals(joined["flow_note_g"], check_names=False)
    notes = expected["flow_note"].value_counts().sort("flow_note")
    assert notes.filter(pl.col("flow_note") == "gap")["count"].item() >= 1


def test_pandas_keeps_its_columns_index_and_order() -> None:
    fund = sample.load("fund").sample(fraction=1.0, shuffle=True, seed=5)
    pdf = fund.to_pandas()
    pdf.index = pd.RangeIndex(1000, 1000 + len(pdf))
    got = fund_flows(pdf, mergers=mergers().to_pandas())
    expected = generic(fund, mergers=mergers())
    assert list(got.columns) == expected.columns
    assert got.index.equals(pdf.index)
    unchecked = fund_flows(pdf, validate_input=False)
    assert unchecked["date"].dtype == pdf["date"].dtype  # the input's columns come back as given
    assert unchecked["flow"].equals(fund_flows(pdf, validate_input=False)["flow"])
    key = pl.from_pandas(got[["fund_id", "date", "flow", "flow_note"]]).with_columns(
        pl.col("date").cast(pl.Date)
    )
    joined = key.join(expected, on=["fund_id", "date"], suffix="_g")
    assert joined.height == fund.height
    assert np.allclose(
        joined["flow"].to_numpy(), joined["flow_g"].fill_null(np.nan).to_numpy(), equal_nan=True
    )
    assert (joined["flow_note"].fill_null("") == joined["flow_note_g"].fill_null("")).all()


def test_frames_the_pass_cannot_take_go_to_the_generic_path() -> None:
    fund = sample.load("fund").head(40)
    absorbed: dict[tuple[str, object], float] = {}
    with_null = fund.with_columns(
        tna=pl.when(pl.int_range(pl.len()) == 5).then(None).otherwise("tna")
    )
    dup = pl.concat([fund, fund.head(1)])
    as_text = fund.with_columns(pl.col("date").cast(pl.String))
    assert array_panel(as_text, "fund", check=False) is None  # text dates: parsed generically
    for frame in (with_null, dup, fund):
        panel = array_panel(frame, "fund", check=False)
        assert panel is not None
        assert panel.unique is (frame is not dup)
        got = eager_fund_flows(
            panel,
            timing="end",
            ret_col="ret_total",
            freq="M",
            calendar="XNYS",
            absorbed=absorbed,
        )
        assert (got is None) is (frame is not fund)
    panel = array_panel(fund, "fund", check=False)
    assert panel is not None
    daily = eager_fund_flows(
        panel, timing="end", ret_col="ret_total", freq="D", calendar="XNYS", absorbed=absorbed
    )
    assert daily is None
    # the generic path still measures them (nulls give null flows, not errors)
    out = fund_flows(with_null, validate_input=False)
    assert out["flow"].null_count() > fund_flows(fund)["flow"].null_count()


def test_validated_pandas_dates_go_over_as_arrow_not_row_by_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Validation leaves an Arrow-backed date column; the flow pass must not iterate it in Python.

    (Before, ``to_numpy`` on that column walked 1M dates one by one: 3.2 s of a 4.1 s call.)
    """
    from pandas.arrays import ArrowExtensionArray

    from flowpressure.data import validate

    funds = sample.load("fund").to_pandas()
    checked = validate(funds, "fund")
    assert isinstance(checked["date"].array, ArrowExtensionArray)

    import pyarrow as pa

    original = ArrowExtensionArray.__iter__

    def refuse(self: ArrowExtensionArray) -> object:
        if pa.types.is_date(getattr(self.dtype, "pyarrow_dtype", pa.null())):
            raise AssertionError("an Arrow date column was iterated row by row")
        return original(self)

    expected = fund_flows(funds, freq="M", validate_input=False)
    monkeypatch.setattr(ArrowExtensionArray, "__iter__", refuse)
    assert array_panel(checked, "fund") is not None
    got = fund_flows(funds, freq="M")
    np.testing.assert_array_equal(
        np.asarray(got["flow"], dtype=float), np.asarray(expected["flow"], dtype=float)
    )
