"""Source formats: public files whose columns differ from a panel's, read into the panel's columns.

A *format* turns one kind of public file (a CBOE option-chain download, the SPDR gold trust
archive, a FRED series file, an SEC filing extract, …) into the columns of a panel kind, in
DuckDB, without reading the file into Python. Each format lives in its own module of this
package (``_<name>.py``) and lists itself in a module constant ``FORMATS``; the package finds
them by itself, so adding a format touches no other file.

A file reaches a format in one of two ways:

- named: ``flowpressure ingest options FILE --format cboe`` (``fmt="cboe"``);
- inferred: a file that lacks the kind's required columns but carries exactly one format's
  *signature* columns is read in that format, and the scan says so (``inferred=True``), so a
  verb given the same file answers as it does from the store.

The generic reader (``fmt=None`` on a file that has the panel's columns) is not a format.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from flowpressure._errors import ConfigError

__all__ = [
    "FormatRead",
    "SourceFormat",
    "detect_format",
    "formats_for",
    "get_format",
]


@dataclass(frozen=True)
class FormatRead:
    """What a format made of a file.

    Attributes
    ----------
    relation
        The file's rows in the panel's column names (text or typed; validation parses them).
        Extra columns may follow; the store does not keep them.
    notes
        What the format inferred, corrected or set aside, e.g. ``{"units": "dollars",
        "rows_units_corrected": 12}``: JSON-safe values, shown by the CLI and stored with the
        ingest's provenance.
    """

    relation: duckdb.DuckDBPyRelation
    notes: Mapping[str, Any] = field(default_factory=dict)


Reader = Callable[[duckdb.DuckDBPyConnection, Path], FormatRead]


@dataclass(frozen=True)
class SourceFormat:
    """One public file format and how to read it as a panel kind.

    Parameters
    ----------
    name
        What ``--format`` takes, e.g. ``"cboe"``.
    kind
        The panel kind it produces (``options``, ``etf``, ``prices``, …; ``13f`` for holdings
        read from SEC 13F sources).
    description
        One line: the source and what the file holds.
    signature
        Columns (exact names) that, all present, identify a file of this format.
    read
        ``read(con, path) -> FormatRead``.
    """

    name: str
    kind: str
    description: str
    signature: tuple[str, ...]
    read: Reader


_REGISTRY: dict[tuple[str, str], SourceFormat] = {}
_LOADED = False


def _load() -> None:
    global _LOADED
    if _LOADED:
        return
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for fmt in getattr(module, "FORMATS", ()):
            key = (fmt.kind, fmt.name)
            if key in _REGISTRY:
                raise ConfigError(field="format", expected="one format per name", got=fmt.name)
            _REGISTRY[key] = fmt
    _LOADED = True


def formats_for(kind: str) -> list[SourceFormat]:
    """Return the formats that produce ``kind``, by name.

    Examples
    --------
    >>> [f.name for f in formats_for("no such kind")]
    []
    """
    _load()
    return sorted((f for (k, _), f in _REGISTRY.items() if k == kind), key=lambda f: f.name)


def get_format(kind: str, name: str) -> SourceFormat:
    """Return the format ``name`` of ``kind``.

    Raises
    ------
    ConfigError
        No such format for this kind; the message lists the ones there are.
    """
    _load()
    try:
        return _REGISTRY[(kind, name)]
    except KeyError:
        known = ", ".join(f.name for f in formats_for(kind)) or "none"
        raise ConfigError(
            field="format", expected=f"a format of kind {kind} ({known})", got=name
        ) from None


def detect_format(kind: str, columns: list[str]) -> SourceFormat | None:
    """Return the one format of ``kind`` whose signature ``columns`` carry, else ``None``.

    Two matching formats are ambiguous: a :class:`ConfigError` asks for ``--format``.
    """
    present = set(columns)
    hits = [f for f in formats_for(kind) if set(f.signature) <= present]
    if len(hits) > 1:
        raise ConfigError(
            f"the file's columns fit several {kind} formats "
            f"({', '.join(f.name for f in hits)}); name one with --format",
            field="format",
            expected="one format",
        )
    return hits[0] if hits else None
