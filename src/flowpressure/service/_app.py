"""The FastAPI application: routes, the store reader's lifetime, body limit and error handling.

Errors never carry a traceback or a server path to the client:

- bad query or body → 422 ``{"detail": [{"loc", "msg", "type"}]}`` (pydantic);
- a value the library refuses (:class:`~flowpressure.FlowPressureError`) → 422 in the same
  shape, ``loc`` ending with the field it names, ``msg`` its message with any path removed;
- an unknown id or a kind the store does not hold → 404;
- the store busy beyond the reader's wait, or unreadable → 503 with ``Retry-After``;
- a body over the limit → 413;
- anything else → 500 ``{"detail": "internal error"}``; the traceback goes to the server log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from flowpressure import FlowPressureError, StoreError, __version__
from flowpressure.service._common import RETRY_AFTER, NotFoundError, ReaderHolder, scrub

if TYPE_CHECKING:
    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]
    ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = ["DEFAULT_MAX_BODY_BYTES", "create_app"]

#: Largest request body accepted by default (bytes).
DEFAULT_MAX_BODY_BYTES = 1_000_000

log = logging.getLogger("flowpressure.service")


async def _send_json(send: Send, status: int, payload: Any) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse request bodies larger than ``max_bytes`` with 413 (pure ASGI).

    The declared ``Content-Length`` is checked first; the body is then read and counted as
    it streams (a chunked body has no length), and replayed to the application once it is
    known to fit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_big = {"detail": f"request body larger than {self.max_bytes} bytes", "field": "body"}
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_json(
                        send, 400, {"detail": "invalid Content-Length", "field": "content-length"}
                    )
                    return
                if declared > self.max_bytes:
                    await _send_json(send, 413, too_big)
                    return
        chunks: list[Message] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                chunks.append(message)
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await _send_json(send, 413, too_big)
                return
            chunks.append(message)
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            if chunks:
                return chunks.pop(0)
            return await receive()

        await self.app(scope, replay, send)


class CatchAll:
    """Answer an unexpected exception with 500 ``{"detail": "internal error"}`` (pure ASGI).

    The traceback is logged on the ``flowpressure.service`` logger, never sent.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:
            log.exception("internal error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await _send_json(send, 500, {"detail": "internal error"})


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = [
        {
            "loc": list(e.get("loc", ())),
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # a body FastAPI cannot parse (not UTF-8): bad input, 422
        detail = [
            {"loc": ["body"], "msg": "the body is not valid UTF-8 JSON", "type": "json_invalid"}
        ]
        return JSONResponse({"detail": detail}, status_code=422)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def _flowpressure_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FlowPressureError)
    db: Path = request.app.state.db_path
    # Our own 404s echo the client's id as given; library messages lose any path.
    text = scrub(str(exc), db, any_path=not isinstance(exc, NotFoundError))
    payload = {"detail": text, "field": exc.field}
    if isinstance(exc, NotFoundError) or (isinstance(exc, StoreError) and exc.field == "kind"):
        return JSONResponse(payload, status_code=404)
    if isinstance(exc, StoreError):
        return JSONResponse(payload, status_code=503, headers={"Retry-After": str(RETRY_AFTER)})
    # A refusal is bad input like any other: the same 422 shape as pydantic's, field named.
    where = "body" if request.method in ("POST", "PUT", "PATCH") else "query"
    loc = [where, exc.field] if exc.field else [where]
    return JSONResponse(
        {"detail": [{"loc": loc, "msg": text, "type": "value_error"}]}, status_code=422
    )


def create_app(
    db: str | Path | None = None,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    read_wait: float = 10.0,
    validation: str | Path | None = None,
) -> FastAPI:
    """Build the HTTP service over a store: JSON endpoints, the dashboard and its files.

    Parameters
    ----------
    db
        The store file; ``None`` uses :func:`flowpressure.data.default_db_path`. It is opened
        read-only, on the first request, through a
        :class:`~flowpressure.data.StoreReader`: an ingest into the same file while the service
        runs goes through, and later requests see it without a restart. Results derived from
        the store (a fund's flows, the calendar) are kept until the store changes.
    max_body_bytes
        Largest request body accepted; a larger one is answered with 413.
    read_wait
        Seconds a request waits for a writer to finish before it is answered with 503.
    validation
        A folder laid out like ``../shared/data``: ``GET /v1/validation`` runs every check on it
        once (on the first request) and serves the table; without it that route answers 404.

    Returns
    -------
    fastapi.FastAPI
        Run it with any ASGI server (``flowpressure serve`` uses uvicorn). Routes:
        ``GET /``, ``/static/{name}``, ``/v1/health``, ``/v1/info``, ``/v1/entities``,
        ``/v1/flows/fund``, ``/v1/flows/etf``, ``POST /v1/rebalance``, ``GET
        /v1/pension``, ``/v1/index-demand``, ``/v1/multiplier``, ``/v1/price-change``,
        ``/v1/impact``, ``/v1/calendar``, ``/v1/validation``; the schema is at ``/openapi.json``.

    Examples
    --------
    The multiplier needs no store: $1 into a fund with mandate θ = 0.8 holding 80 shares at
    $1 lifts the price to $1.05, a multiplier of 1/(1 - θ) = 5.

    >>> import asyncio, httpx
    >>> async def get(app, url, **params):
    ...     transport = httpx.ASGITransport(app=app)
    ...     async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
    ...         return await client.get(url, params=params)
    >>> app = create_app("missing.duckdb")
    >>> r = asyncio.run(get(app, "/v1/multiplier", inflow=1, theta=0.8, shares=80, price=1))
    >>> r.status_code, r.json()["price_after"], r.json()["multiplier"]
    (200, 1.05, 5.0)

    Without its store the service answers 503, and never says where it looked:

    >>> r = asyncio.run(get(app, "/v1/health"))
    >>> r.status_code, r.headers["retry-after"], "missing.duckdb" in r.text
    (503, '2', False)
    """
    from flowpressure.data import default_db_path
    from flowpressure.service import (
        _routes_flows,
        _routes_mechanics,
        _routes_pressure,
        _routes_store,
        _routes_validation,
        _static,
    )

    if (
        isinstance(max_body_bytes, bool)
        or not isinstance(max_body_bytes, int)
        or max_body_bytes < 0
    ):
        from flowpressure import ConfigError

        raise ConfigError(field="max_body_bytes", expected="a byte count >= 0", got=max_body_bytes)
    path = Path(db) if db is not None else default_db_path()
    holder = ReaderHolder(path, read_wait)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        holder.close()

    app = FastAPI(
        title="flowpressure",
        version=__version__,
        description="Measure, simulate and explain rules-based capital flows and their price "
        "pressure. Money in currency units, rates and weights as fractions, dates ISO.",
        lifespan=lifespan,
    )
    app.state.db_path = path
    app.state.reader = holder
    app.state.validation_dir = Path(validation) if validation is not None else None
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(FlowPressureError, _flowpressure_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for module in (
        _routes_store,
        _routes_flows,
        _routes_mechanics,
        _routes_pressure,
        _routes_validation,
        _static,
    ):
        app.include_router(module.router)
    # Added last = outermost: the body limit runs before anything else.
    app.add_middleware(CatchAll)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    return app
