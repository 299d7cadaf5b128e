"""HTTP service and dashboard (FastAPI; not built yet)."""

__all__: list[str] = []
