"""The security master: CUSIP ↔ ticker ↔ asset_id, to join 13F holdings to prices.

13F holdings are keyed by CUSIP; price panels by ticker or a house asset_id. The master maps
one to the other. It is read from a CSV or Parquet file with columns ``cusip`` and ``ticker``
(and optionally ``asset_id``, which defaults to the ticker).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import narwhals as nw
import polars as pl
from narwhals.typing import IntoFrameT

from flowpressure._errors import ConfigError, DataError, SchemaError

__all__ = ["SecurityMaster", "cusip_check_digit"]


def cusip_check_digit(base: str) -> int:
    """Return the check digit of a CUSIP from its first 8 characters ("double add double").

    Examples
    --------
    >>> cusip_check_digit("03783310")  # Apple, 037833100
    0
    >>> cusip_check_digit("59491810")  # Microsoft, 594918104
    4
    """
    total = 0
    for i, ch in enumerate(base[:8].upper()):
        if ch.isdigit():
            v = int(ch)
        elif ch.isalpha():
            v = ord(ch) - ord("A") + 10
        else:
            v = {"*": 36, "@": 37, "#": 38}.get(ch, 0)
        if i % 2 == 1:
            v *= 2
        total += v // 10 + v % 10
    return (10 - total % 10) % 10


@dataclass(frozen=True)
class SecurityMaster:
    """A validated CUSIP → (asset_id, ticker) map.

    Build it with :meth:`from_frame` or :meth:`from_file`.

    Attributes
    ----------
    table
        polars DataFrame with columns ``cusip``, ``ticker``, ``asset_id``, unique by CUSIP.
    bad_check_digits
        How many CUSIPs fail their check digit (kept: vendor maps contain test codes).

    Examples
    --------
    >>> import polars as pl
    >>> sm = SecurityMaster.from_frame(pl.DataFrame({"Cusip": ["037833100", "594918104"],
    ...                                              "Ticker": ["AAPL", "MSFT"]}),
    ...                                mapping={"Cusip": "cusip", "Ticker": "ticker"})
    >>> sm.asset_id("037833100"), sm.cusip("MSFT")
    ('AAPL', '594918104')
    >>> h = pl.DataFrame({"investor_id": ["1"], "asset_id": ["594918104"], "shares": [10.0]})
    >>> sm.map_holdings(h).select("asset_id", "cusip", "ticker").rows()
    [('MSFT', '594918104', 'MSFT')]
    """

    table: pl.DataFrame
    bad_check_digits: int = 0

    @classmethod
    def from_frame(cls, frame: Any, *, mapping: Mapping[str, str] | None = None) -> SecurityMaster:
        """Validate a frame (any backend narwhals accepts) into a master.

        Raises
        ------
        SchemaError
            ``cusip`` or ``ticker`` missing.
        DataError
            A CUSIP is not 9 letters/digits, or one CUSIP maps to two asset ids.
        """
        df = nw.from_native(frame)
        native = df.collect() if isinstance(df, nw.LazyFrame) else df
        table = pl.from_arrow(native.to_arrow())
        assert isinstance(table, pl.DataFrame)
        if mapping:
            table = table.rename(dict(mapping))
        missing = [c for c in ("cusip", "ticker") if c not in table.columns]
        if missing:
            raise SchemaError(
                f"security master: missing column {missing[0]!r}; it has {table.columns}",
                field=missing[0],
                expected="cusip, ticker[, asset_id]",
            )
        if "asset_id" not in table.columns:
            table = table.with_columns(asset_id=pl.col("ticker"))
        table = table.select(
            pl.col("cusip").cast(pl.String).str.strip_chars().str.to_uppercase(),
            pl.col("ticker").cast(pl.String).str.strip_chars(),
            pl.col("asset_id").cast(pl.String).str.strip_chars(),
        ).unique(maintain_order=True)
        bad = table.filter(
            ~pl.col("cusip").str.contains(r"^[0-9A-Z*@#]{9}$") | pl.col("cusip").is_null()
        )
        if bad.height:
            first = bad.sort("cusip", nulls_last=True).row(0, named=True)
            raise DataError(
                field="cusip",
                key={"ticker": first["ticker"]},
                expected="9 letters or digits",
                got=first["cusip"],
                others=bad.height - 1,
            )
        dups = table.filter(pl.col("cusip").is_duplicated()).sort("cusip", "asset_id")
        if dups.height:
            first = dups.row(0, named=True)
            raise DataError(
                field="cusip",
                key={"cusip": first["cusip"]},
                expected="one asset_id per CUSIP",
                got=", ".join(dups.filter(pl.col("cusip") == first["cusip"])["asset_id"].to_list()),
                others=dups["cusip"].n_unique() - 1,
            )
        checks = table["cusip"].map_elements(
            lambda c: int(c[8]) == cusip_check_digit(c) if c[8].isdigit() else False,
            return_dtype=pl.Boolean,
        )
        return cls(table.sort("cusip"), int((~checks).sum()))

    @classmethod
    def from_file(
        cls, path: str | Path, *, mapping: Mapping[str, str] | None = None
    ) -> SecurityMaster:
        """Read a master from CSV or Parquet (columns ``cusip``, ``ticker``[, ``asset_id``])."""
        file = Path(path)
        if not file.is_file():
            raise ConfigError(
                field="file", expected="an existing security master file", got=str(file)
            )
        if file.suffix.lower() in (".parquet", ".pq"):
            frame = pl.read_parquet(file)
        else:
            frame = pl.read_csv(file, infer_schema=False)
        return cls.from_frame(frame, mapping=mapping)

    def asset_id(self, cusip: str) -> str | None:
        """Return the asset_id of a CUSIP, or ``None`` when the master lacks it."""
        hit = self.table.filter(pl.col("cusip") == cusip.upper())
        return cast("str", hit["asset_id"][0]) if hit.height else None

    def cusip(self, asset_id: str) -> str | None:
        """Return the (first, by CUSIP) CUSIP of an asset_id, or ``None``."""
        hit = self.table.filter(pl.col("asset_id") == asset_id)
        return cast("str", hit["cusip"][0]) if hit.height else None

    def map_holdings(self, holdings: IntoFrameT) -> IntoFrameT:
        """Replace CUSIP ``asset_id`` by the master's asset_id; keep ``cusip`` and add ``ticker``.

        Rows whose CUSIP the master lacks keep the CUSIP as ``asset_id`` and a null ticker, so
        nothing is dropped; count them with :meth:`coverage`. Works on pandas and polars
        (eager or lazy) frames and returns the same kind.
        """
        df = nw.from_native(cast("Any", holdings))
        impl = df.implementation
        if not (impl.is_pandas() or impl.is_polars()):
            raise ConfigError(
                field="holdings",
                expected="a pandas or polars frame (collect a DuckDB or Spark result first)",
                got=str(impl),
            )
        master = self.table.rename({"asset_id": "_master_id"})
        other: Any = nw.from_native(master.to_pandas() if impl.is_pandas() else master)
        if isinstance(df, nw.LazyFrame):
            other = other.lazy()
        out = (
            df.rename({"asset_id": "cusip"})
            .join(other, on="cusip", how="left")
            .with_columns(asset_id=nw.coalesce(nw.col("_master_id"), nw.col("cusip")))
            .drop("_master_id")
        )
        return cast("IntoFrameT", out.to_native())

    def coverage(self, cusips: list[str]) -> dict[str, int]:
        """Count how many of ``cusips`` the master maps, and how many it does not."""
        known = set(self.table["cusip"].to_list())
        hits = sum(1 for c in cusips if c.upper() in known)
        return {"matched": hits, "unmatched": len(cusips) - hits}
