"""HTTP service: JSON endpoints over a store, and the dashboard (FastAPI; extra ``service``).

:func:`create_app` builds the application; ``flowpressure serve`` runs it with uvicorn on
127.0.0.1. The store is opened read-only and shared with ingests (a new ingest shows without
a restart). Every endpoint validates its input with pydantic; errors name the field and never
carry a traceback or a server path.
"""

from __future__ import annotations

from flowpressure.service._app import DEFAULT_MAX_BODY_BYTES, create_app

__all__ = ["DEFAULT_MAX_BODY_BYTES", "create_app"]
