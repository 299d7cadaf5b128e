"""Pressure layer: absorption, impact, multiplier, event studies, flow calendar (not built yet)."""

__all__: list[str] = []
