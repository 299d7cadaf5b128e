"""Where each check finds its files: paths relative to a data directory laid out as ../shared/data.

The ``validate`` verb takes ``--data DIR``; a check takes explicit paths. Nothing is fetched.
"""

from __future__ import annotations

import os
from pathlib import Path

from flowpressure._errors import ConfigError

__all__ = ["FILES", "data_dir", "require"]

#: Relative path of every file a check reads, by a short name.
FILES: dict[str, str] = {
    "nport_flows": "funds/edgartools_nport_fund_flows_3funds.csv",
    "nport_returns": "funds/edgartools_nport_class_returns_3funds.csv",
    "gld": "etf/spdr_gld_daily_archive_2004_2025.csv",
    "etf_panel": "etf/stockanalysis_etf_daily_aum_nav_shares_2021_2022.csv",
    "spx": "prices/SPX_index_daily_1927_2026.csv",
    "etf_prices": "prices/alphavantage_etf_ohlcv_daily_unadjusted_1999_2024.csv",
    "fred": "rates/fred_series_daily_monthly_1913_2026.parquet",
    "ice_bofa": "rates/fred_ice_bofa_us_corp_hy_total_return_daily_1994_2024.parquet",
    "edhec": "indices/edhec_hedge_fund_style_indices_monthly_1997_2021.csv",
    "sg_cta": "indices/sg_cta_index_monthly_1999_2019.csv",
    "perfanalytics": "indices/perfanalytics_managers_sp500tr_us10ytr_us3mtr_monthly_1996_2006.csv",
    "ff_daily": "factors/F-F_Research_Data_Factors_daily.CSV",
    "vix": "factors/cboe_VIX_History_1990_2026.csv",
    "constituents": "prices/kaggle_sp500_constituents_ohlcv_2013_2018.parquet",
    "sp500_spells": "sp500/fja05680_sp500_ticker_start_end.csv",
    "sp500_changes": "sp500/fja05680_sp500_changes_since_2019.csv",
    "options": "options/cboe_delayed_option_chains_spx_spy_xsp_2022_2025.parquet",
}

#: Environment variable naming the default data directory.
DATA_ENV = "FLOWPRESSURE_DATA"


def data_dir(given: str | Path | None = None) -> Path:
    """Return the data directory: ``given``, else ``$FLOWPRESSURE_DATA``, else ``../shared/data``.

    Raises
    ------
    ConfigError
        When the directory does not exist.
    """
    raw = given if given is not None else os.environ.get(DATA_ENV) or "../shared/data"
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise ConfigError(
            f"data directory {str(path)!r} does not exist; expected a folder laid out like "
            f"../shared/data (pass --data DIR or set {DATA_ENV})",
            field="data",
        )
    return path


def require(root: Path, *names: str) -> dict[str, Path]:
    """Return the paths of ``names`` under ``root``; a ConfigError names the first missing file."""
    out: dict[str, Path] = {}
    for name in names:
        path = root / FILES[name]
        if not path.is_file():
            raise ConfigError(
                f"{path}: file missing; the check needs {FILES[name]} under {root}",
                field="data",
            )
        out[name] = path
    return out
