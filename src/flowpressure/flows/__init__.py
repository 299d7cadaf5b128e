"""Flows layer: fund, ETF, holdings and aggregate flow measurement (issue "Flows"; not built yet)."""

__all__: list[str] = []
