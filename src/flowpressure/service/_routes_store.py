"""Routes about the store itself: ``/v1/health``, ``/v1/info``, ``/v1/entities``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Query

from flowpressure.service._common import ERRORS, Reader, cached, query
from flowpressure.service._models import EntitiesOut, HealthOut, InfoOut, KindInfoOut

if TYPE_CHECKING:
    from flowpressure.data import Store

router = APIRouter(prefix="/v1", tags=["store"], responses=ERRORS)

#: Table and id column of each kind /v1/entities lists (fixed: never built from a request).
ENTITY_SQL = {
    "fund": ("fund", "SELECT DISTINCT fund_id AS id FROM fund ORDER BY id"),
    "etf": ("etf", "SELECT DISTINCT fund_id AS id FROM etf ORDER BY id"),
    "prices": ("prices", "SELECT DISTINCT asset_id AS id FROM prices ORDER BY id"),
}


@router.get("/health", response_model=HealthOut, summary="Service status and stored kinds")
def health(reader: Reader) -> HealthOut:
    """Say the service is up and list the panel kinds its store holds (never a path)."""
    from flowpressure import __version__
    from flowpressure.data import KINDS

    def kinds(store: Store) -> list[str]:
        rows = store.con.sql(
            "SELECT table_name FROM information_schema.tables WHERE list_contains(?, table_name)",
            params=[list(KINDS)],
        ).fetchall()
        stored = {r[0] for r in rows}
        return [k for k in KINDS if k in stored]

    return HealthOut(status="ok", version=__version__, kinds=cached(reader, "kinds", kinds))


@router.get("/info", response_model=InfoOut, summary="What the store holds")
def info(reader: Reader) -> InfoOut:
    """Per stored kind: rows, distinct entities, first and last date, key columns."""
    found = cached(reader, "info", lambda store: store.info())
    return InfoOut(
        {
            kind: KindInfoOut(
                rows=v["rows"],
                entities=v["entities"],
                first_date=v["first_date"],
                last_date=v["last_date"],
                key=list(v["key"]),
            )
            for kind, v in found.items()
        }
    )


@router.get("/entities", response_model=EntitiesOut, summary="Ids of a stored kind")
def entities(
    reader: Reader,
    kind: Annotated[
        Literal["fund", "etf", "prices"],
        Query(description="fund or etf (fund_id), prices (asset_id)."),
    ],
) -> EntitiesOut:
    """Sorted distinct ids of one stored kind."""
    table, sql = ENTITY_SQL[kind]
    ids = cached(reader, ("entities", kind), lambda store: query(store, table, sql)["id"].to_list())
    return EntitiesOut(kind=kind, ids=ids)
