"""CLI verbs of the mechanics layer: index-demand, buyback, vol-target, cta and gex.

Each verb lives in its own ``_mechanics_*.py`` module; every one reads a file, the embedded
sample (``sample``) or a stored panel (``--db``), prints a Rich table, or JSON with ``--json``.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's verbs to ``app``."""
    from flowpressure.cli import (
        _mechanics_buyback,
        _mechanics_cta,
        _mechanics_gex,
        _mechanics_index,
        _mechanics_vol,
    )

    for module in (
        _mechanics_index,
        _mechanics_buyback,
        _mechanics_vol,
        _mechanics_cta,
        _mechanics_gex,
    ):
        module.register(app)
