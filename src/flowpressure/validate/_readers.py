"""Readers shared by several checks."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from flowpressure._errors import DataError

__all__ = ["read_spx_closes"]


def read_spx_closes(path: Path) -> pl.DataFrame:
    r"""Read the SPX daily file (``DATE`` as MM/DD/YYYY, ``CLOSE``) as ``date, close``, sorted.

    Raises
    ------
    DataError
        No ``DATE``/``CLOSE`` columns, fewer than two dated closes, a repeated date or a
        close that is not positive.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> text = "DATE,OPEN,HIGH,LOW,CLOSE\n01/03/2023,1,1,1,3824.1\n01/04/2023,1,1,1,3852.9\n"
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = pathlib.Path(d) / "spx.csv"
    ...     _ = p.write_text(text)
    ...     read_spx_closes(p).row(1)
    (datetime.date(2023, 1, 4), 3852.9)
    """
    try:
        raw = pl.read_csv(path, columns=["DATE", "CLOSE"], infer_schema_length=0)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"{path.name}: cannot read DATE, CLOSE ({exc})", field="DATE") from None
    frame = (
        raw.select(
            pl.col("DATE").str.strptime(pl.Date, "%m/%d/%Y", strict=False).alias("date"),
            pl.col("CLOSE").cast(pl.Float64, strict=False).alias("close"),
        )
        .drop_nulls()
        .sort("date")
    )
    if frame.height < 2:
        raise DataError(f"{path.name}: fewer than 2 dated closes", field="CLOSE")
    if frame["date"].is_duplicated().any():
        dup = frame.filter(frame["date"].is_duplicated())["date"].min()
        raise DataError(field="DATE", key={"date": dup}, expected="one close per date")
    if (frame["close"] <= 0).any():
        bad = frame.filter(pl.col("close") <= 0)["date"].min()
        raise DataError(field="CLOSE", key={"date": bad}, expected="a close > 0")
    return frame
