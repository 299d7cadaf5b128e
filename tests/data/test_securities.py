"""The security master maps 13F CUSIPs to tickers; bad maps give clear errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from flowpressure import ConfigError, DataError, SchemaError
from flowpressure.data import SecurityMaster, cusip_check_digit
from tests.conftest import SHARED_DATA

MAP = SHARED_DATA / "13f" / "edgartools_cusip_ticker_map.parquet"
INFOTABLE = SHARED_DATA / "13f" / "edgartools_13f_infotable_samples.csv"


@pytest.mark.parametrize(
    "cusip", ["037833100", "594918104", "02079K305", "88160R101", "46625H100", "30303M102"]
)
def test_check_digit_of_known_cusips(cusip: str) -> None:
    assert cusip_check_digit(cusip[:8]) == int(cusip[8])


def test_lazy_and_pandas_holdings_keep_their_type() -> None:
    sm = SecurityMaster.from_frame(pl.DataFrame({"cusip": ["037833100"], "ticker": ["AAPL"]}))
    holdings = {
        "investor_id": ["1", "1"],
        "asset_id": ["037833100", "999999999"],
        "shares": [1.0, 2.0],
    }
    lazy = sm.map_holdings(pl.LazyFrame(holdings))
    assert isinstance(lazy, pl.LazyFrame)
    out = lazy.collect().sort("cusip")
    assert out["asset_id"].to_list() == ["AAPL", "999999999"]  # unmatched rows are kept
    assert out["ticker"].to_list() == ["AAPL", None]
    frame = sm.map_holdings(pd.DataFrame(holdings))
    assert isinstance(frame, pd.DataFrame)
    assert sorted(frame["asset_id"]) == ["999999999", "AAPL"]


def test_bad_masters() -> None:
    with pytest.raises(SchemaError, match="missing column 'ticker'"):
        SecurityMaster.from_frame(pl.DataFrame({"cusip": ["037833100"]}))
    with pytest.raises(
        DataError, match=r"field 'cusip' at ticker=X: expected 9 letters or digits, got '12345'"
    ):
        SecurityMaster.from_frame(pl.DataFrame({"cusip": ["12345"], "ticker": ["X"]}))
    two = pl.DataFrame({"cusip": ["037833100", "037833100"], "ticker": ["AAPL", "APPL"]})
    with pytest.raises(DataError, match="at cusip=037833100: expected one asset_id per CUSIP"):
        SecurityMaster.from_frame(two)
    with pytest.raises(ConfigError, match="field 'file'"):
        SecurityMaster.from_file(Path("nope.csv"))


@pytest.mark.skipif(not MAP.exists(), reason="../shared/data not present")
def test_real_map_joins_real_13f_rows() -> None:
    sm = SecurityMaster.from_file(MAP, mapping={"Cusip": "cusip", "Ticker": "ticker"})
    assert sm.table.height == 68_830
    assert sm.asset_id("037833100") == "AAPL"
    assert sm.bad_check_digits == 0  # every CUSIP of the real map passes its check digit
    rows = pl.read_csv(INFOTABLE, infer_schema=False)
    cusips = rows["CUSIP"].str.to_uppercase().to_list()
    cover = sm.coverage(cusips)
    assert cover["matched"] + cover["unmatched"] == 346
    assert cover["matched"] == 346  # the map covers every CUSIP of the three real filings
    holdings = rows.select(
        investor_id=pl.col("CIK").fill_null("unknown"),
        asset_id=pl.col("CUSIP"),
        shares=pl.col("SSHPRNAMT").cast(pl.Float64),
    )
    mapped = sm.map_holdings(holdings)
    assert mapped.height == 346
    assert mapped.filter(pl.col("ticker").is_not_null()).height == cover["matched"]
