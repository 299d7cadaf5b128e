"""The common event frame of the mechanical flows, which the pressure layer's flow calendar stacks.

Each family (index events, buybacks, vol targeting, CTA trend, dealer gamma) has a function
returning its dated, sized events in one shape, so a calendar is a concatenation:

- ``date`` (Date): the session the flow is expected (trade date, OPEX date, …);
- ``family`` (String): ``index_event``, ``buyback``, ``vol_target``, ``cta`` or ``gex``;
- ``asset_id`` (String): the asset traded;
- ``dollars`` (Float64): signed flow in currency units (+ = buying), null when unsized;
- ``shares`` (Float64): signed flow in shares, null when no price is known;
- ``days_of_adv`` (Float64): ``|shares| / ADV``, null when no volume is known;
- ``notes`` (String): the assumptions behind the number (always filled).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl

from flowpressure._errors import SchemaError

__all__ = ["EVENT_COLUMNS", "EVENT_SCHEMA", "FAMILIES", "concat_events", "make_events"]

#: Columns of an event frame, in order.
EVENT_COLUMNS: tuple[str, ...] = (
    "date",
    "family",
    "asset_id",
    "dollars",
    "shares",
    "days_of_adv",
    "notes",
)

#: Polars types of the event columns.
EVENT_SCHEMA: dict[str, Any] = {
    "date": pl.Date,
    "family": pl.String,
    "asset_id": pl.String,
    "dollars": pl.Float64,
    "shares": pl.Float64,
    "days_of_adv": pl.Float64,
    "notes": pl.String,
}

#: The family labels of this module's families (other layers may add their own).
FAMILIES: tuple[str, ...] = ("buyback", "cta", "gex", "index_event", "vol_target")


def make_events(frame: pl.DataFrame, family: str) -> pl.DataFrame:
    """Shape ``frame`` (with the event columns but ``family``) into an event frame.

    Missing numeric columns become nulls; NaN becomes null; rows are sorted by date and asset.
    """
    if not family or not family.replace("_", "").isalnum() or family != family.lower():
        raise SchemaError(
            field="family", expected="a lower-case label such as 'buyback'", got=family
        )
    exprs = []
    for name, dtype in EVENT_SCHEMA.items():
        if name == "family":
            exprs.append(pl.lit(family, dtype=pl.String).alias(name))
        elif name in frame.columns:
            col = pl.col(name).cast(dtype)
            if dtype == pl.Float64:
                col = col.fill_nan(None)
            exprs.append(col.alias(name))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    return frame.select(exprs).sort("date", "asset_id", maintain_order=True)


def concat_events(frames: Iterable[pl.DataFrame]) -> pl.DataFrame:
    """Stack event frames of several families into one calendar, sorted by date, family, asset.

    Raises
    ------
    SchemaError
        A frame does not have exactly the event columns.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> a = make_events(pl.DataFrame({"date": [dt.date(2024, 3, 15)], "asset_id": ["X"],
    ...                               "dollars": [1e9], "notes": ["addition"]}), "index_event")
    >>> b = make_events(pl.DataFrame({"date": [dt.date(2024, 3, 14)], "asset_id": ["X"],
    ...                               "dollars": [2e6], "notes": ["open window"]}), "buyback")
    >>> concat_events([a, b])["family"].to_list()
    ['buyback', 'index_event']
    """
    parts = []
    for frame in frames:
        if tuple(frame.columns) != EVENT_COLUMNS:
            raise SchemaError(
                f"event frame: columns {frame.columns}, expected {list(EVENT_COLUMNS)}",
                field="columns",
                expected=", ".join(EVENT_COLUMNS),
            )
        parts.append(frame.cast(EVENT_SCHEMA))  # type: ignore[arg-type]
    if not parts:
        return pl.DataFrame(schema=EVENT_SCHEMA)
    return pl.concat(parts).sort("date", "family", "asset_id", maintain_order=True)
