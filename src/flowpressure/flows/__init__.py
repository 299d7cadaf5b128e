"""Flows layer: fund, ETF, holdings and aggregate flow measurement (not built yet)."""

__all__: list[str] = []
