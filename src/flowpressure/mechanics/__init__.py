"""Mechanics layer: rebalancing, index events, buybacks, vol targeting, CTA (not built yet)."""

__all__: list[str] = []
