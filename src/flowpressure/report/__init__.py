"""HTML report, the main job of ``make demo`` (not built yet)."""

__all__: list[str] = []
