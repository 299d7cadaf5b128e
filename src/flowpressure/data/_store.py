"""The DuckDB store: one file, one table per panel kind, a provenance table, atomic ingests.

Every ingest runs in one transaction: scan the file, validate it where it lives, check its
keys against what is stored, insert it ordered by key and date, record its provenance, commit.
A process killed at any point before the commit leaves the database exactly as it was (DuckDB
rolls back an uncommitted transaction when it next opens the file).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from flowpressure._errors import (
    ConfigError,
    FlowPressureError,
    OverlapError,
    StoreError,
    format_key,
)
from flowpressure.data._calendar import DEFAULT_CALENDAR
from flowpressure.data._loaders import Scan, quote_ident, scan_source
from flowpressure.data._locking import connect
from flowpressure.data._schema import KINDS, PanelSchema, get_schema
from flowpressure.data._validate import validate

__all__ = [
    "ABSENT_MEANS",
    "DB_ENV",
    "DEFAULT_DB",
    "INGEST_KINDS",
    "IngestResult",
    "Store",
    "default_db_path",
]

#: Environment variable that names the store when no path is given.
DB_ENV = "FLOWPRESSURE_DB"
#: The store used when neither a path nor ``FLOWPRESSURE_DB`` is given (in the working directory).
DEFAULT_DB = "flowpressure.duckdb"
#: What ``ingest`` accepts: the panel kinds plus ``13f`` (an SEC Form 13F data-set zip).
INGEST_KINDS: tuple[str, ...] = (*KINDS, "13f")

_SQL_TYPES = {"str": "VARCHAR", "date": "DATE", "float": "DOUBLE"}
#: Values that optional key columns take when a file does not have them.
KEY_DEFAULTS: dict[str, str] = {
    "put_call": "",
    "sh_prn": "SH",
    "index_id": "",
    "contract": "",
    "snapshot": "",
}

#: What a missing value of an optional column means, per kind: no corporate action. The store
#: keeps what the file said (an absent column is stored as null) and reads it back with these,
#: so a verb answers the same from a file and from the store.
ABSENT_MEANS: dict[str, dict[str, float]] = {
    "prices": {"split_factor": 1.0, "dividend": 0.0},
    "etf": {"distribution": 0.0},
    "fund": {"distribution": 0.0},
}

Progress = Callable[[str], None]


def default_db_path() -> Path:
    """Return the store path: ``$FLOWPRESSURE_DB`` if set, else ``./flowpressure.duckdb``.

    Examples
    --------
    >>> import os
    >>> os.environ.pop("FLOWPRESSURE_DB", None) and None
    >>> default_db_path().name
    'flowpressure.duckdb'
    """
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)


@dataclass(frozen=True)
class IngestResult:
    """What one ingest did.

    Attributes
    ----------
    kind, source, sha256
        The panel kind, the file and its SHA-256.
    status
        ``"ingested"``, or ``"unchanged"`` when the same file was ingested before.
    rows
        Rows inserted.
    replaced
        Stored rows deleted because the file's keys overlapped them (``replace=True``).
    ignored_columns
        File columns the schema does not know; they are not stored.
    diagnostics
        Counts a loader reports (13F: merged lines, amendments applied, …).
    format
        The source format that read the file (``None``: the panel's own columns).
    notes
        What the format inferred or corrected (``format_inferred``, units, …), JSON-safe.
    """

    kind: str
    source: str
    sha256: str
    status: str
    rows: int
    replaced: int = 0
    ignored_columns: tuple[str, ...] = ()
    diagnostics: dict[str, int] = field(default_factory=dict)
    format: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        out = asdict(self)
        out["ignored_columns"] = list(self.ignored_columns)
        return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _table_kind(kind: str) -> str:
    return "holdings" if kind == "13f" else kind


class Store:
    """A DuckDB database holding validated panels.

    Parameters
    ----------
    path
        Database file; ``None`` uses :func:`default_db_path`. ``":memory:"`` is allowed.
    read_only
        Open without write access (several readers may share the file).
    memory_limit
        DuckDB's memory cap, e.g. ``"2GB"``; past it DuckDB spills to disk, so files larger
        than memory ingest without running out of it. ``None`` keeps DuckDB's default (80 %
        of RAM).
    lock_wait
        Seconds to wait while another process holds the file (DuckDB allows one writer or
        many readers). A writer that waits asks cooperating readers, such as the service's
        :class:`StoreReader`, to let go; see :mod:`flowpressure.data._locking`.

    Examples
    --------
    >>> import polars as pl, tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     f = pathlib.Path(tmp) / "funds.csv"
    ...     pl.DataFrame({"fund_id": ["A", "A"], "date": ["2024-01-31", "2024-02-29"],
    ...                   "tna": [100.0, 102.0], "ret": [0.01, 0.01]}).write_csv(f)
    ...     with Store(pathlib.Path(tmp) / "fp.duckdb") as store:
    ...         first = store.ingest("fund", f)
    ...         again = store.ingest("fund", f)
    ...         info = store.info()
    >>> first.status, first.rows, again.status, info["fund"]["rows"]
    ('ingested', 2, 'unchanged', 2)
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        read_only: bool = False,
        memory_limit: str | None = None,
        lock_wait: float = 60.0,
    ) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.read_only = read_only
        target = str(self.path)
        if target != ":memory:":
            if read_only and not self.path.exists():
                raise StoreError(field="db", expected="an existing store file", got=target)
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, str | bool | int | float | list[str]] = {}
        if memory_limit:
            config["memory_limit"] = memory_limit
        try:
            if target == ":memory:":
                self.con = duckdb.connect(target, config=config)
            else:
                self.con = connect(self.path, read_only=read_only, config=config, wait=lock_wait)
        except duckdb.Error as exc:
            raise StoreError(
                f"cannot open store {target!r}: {str(exc).splitlines()[0]}",
                field="db",
                expected="a DuckDB file this process can open",
            ) from None
        # DuckDB draws its own progress bar on long queries; library code never prints.
        self.con.execute("SET enable_progress_bar = false")
        if not read_only:
            self._ensure_provenance()

    @classmethod
    def _over(cls, con: duckdb.DuckDBPyConnection, path: Path) -> Store:
        """Wrap an open connection (or cursor) that someone else manages as a read-only Store."""
        store = cls.__new__(cls)
        store.path = path
        store.read_only = True
        store.con = con
        return store

    # context management -------------------------------------------------------------
    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

    # schema ---------------------------------------------------------------------------
    def _ensure_provenance(self) -> None:
        self.con.execute(
            """
            CREATE TABLE IF NOT EXISTS _provenance (
                ingest_id INTEGER PRIMARY KEY,
                kind VARCHAR NOT NULL,
                source VARCHAR NOT NULL,
                sha256 VARCHAR NOT NULL,
                rows BIGINT NOT NULL,
                replaced BIGINT NOT NULL,
                ingested_at TIMESTAMP NOT NULL,
                version VARCHAR NOT NULL,
                options VARCHAR NOT NULL
            )
            """
        )

    @staticmethod
    def _key_columns(schema: PanelSchema) -> list[str]:
        return [*schema.keys, *schema.optional_keys]

    def _ensure_table(self, schema: PanelSchema) -> None:
        keys = self._key_columns(schema)
        cols = []
        for col in schema.columns:
            null = " NOT NULL" if col.name in keys or col.required else ""
            cols.append(f"{quote_ident(col.name)} {_SQL_TYPES[col.dtype]}{null}")
        cols.append("_ingest_id INTEGER NOT NULL")
        self.con.execute(f"CREATE TABLE IF NOT EXISTS {schema.kind} ({', '.join(cols)})")

    def has_kind(self, kind: str) -> bool:
        """Return whether a table for ``kind`` exists in the store."""
        rows = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [kind]
        ).fetchall()
        return bool(rows[0][0])

    # ingest ---------------------------------------------------------------------------
    def ingest(
        self,
        kind: str,
        source: str | Path,
        *,
        replace: bool = False,
        mapping: Mapping[str, str] | None = None,
        constants: Mapping[str, str] | None = None,
        delimiter: str | None = None,
        scale: Mapping[str, float] | None = None,
        calendar: str = DEFAULT_CALENDAR,
        fmt: str | None = None,
        progress: Progress | None = None,
        before_commit: Callable[[], None] | None = None,
    ) -> IngestResult:
        """Validate a file and add it to the store in one transaction.

        Parameters
        ----------
        kind
            One of :data:`INGEST_KINDS`; ``13f`` is an SEC Form 13F data-set zip, stored as
            holdings.
        source
            CSV or Parquet file (or the 13F zip).
        replace
            Delete stored rows whose keys the file has, instead of refusing the file.
        mapping, constants, delimiter
            Passed to :func:`flowpressure.data.scan_file` (not used for ``13f``).
        scale
            ``{panel column: factor}`` applied after validation, for files in other units,
            e.g. ``{"aum": 1e6}`` for assets in millions (the store keeps currency units).
        calendar
            Exchange calendar for the session check of daily panels.
        fmt
            Source format of the file (:mod:`flowpressure.data.formats`), e.g. ``"cboe"``;
            ``None`` reads the panel's own columns, or a format recognised by its columns.
            For ``13f`` a ``.zip`` without a format is the SEC Form 13F data set.
        progress
            Called with the name of each stage as it starts.
        before_commit
            Called inside the transaction after every row is written, before the commit
            (a hook for tests that interrupt an ingest).

        Returns
        -------
        IngestResult
            ``status="unchanged"`` when a file with the same SHA-256 was already ingested as
            this kind: ingesting twice changes nothing.

        Raises
        ------
        OverlapError
            Keys of the file are stored already from another file and ``replace`` is false;
            the message names the first overlapping key and the file it came from.
        SchemaError, DataError, ConfigError
            From scanning and validation; nothing is written.
        """
        if self.read_only:
            raise StoreError(field="db", expected="a store opened for writing", got=str(self.path))
        if kind not in INGEST_KINDS:
            raise ConfigError(field="kind", expected=f"one of {', '.join(INGEST_KINDS)}", got=kind)
        file = Path(source)
        if not file.is_file():
            raise ConfigError(field="file", expected="an existing file", got=str(file))
        say = progress or (lambda _stage: None)
        say("hashing")
        digest = _sha256(file)
        schema = get_schema(_table_kind(kind))
        # The same bytes read the same way are the same rows: ingesting them again is a no-op.
        options = json.dumps(
            {
                "mapping": dict(mapping or {}),
                "constants": dict(constants or {}),
                "delimiter": delimiter,
                "scale": {k: float(v) for k, v in (scale or {}).items()},
                "calendar": calendar,
                **({"format": fmt} if fmt is not None else {}),
            },
            sort_keys=True,
        )
        seen = self.con.execute(
            "SELECT rows FROM _provenance WHERE kind = ? AND sha256 = ? AND options = ? LIMIT 1",
            [kind, digest, options],
        ).fetchall()
        if seen:
            return IngestResult(kind, str(file), digest, "unchanged", 0)

        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            result = self._ingest_in_transaction(
                kind,
                file,
                digest,
                options,
                schema,
                replace,
                mapping,
                constants,
                delimiter,
                scale,
                calendar,
                fmt,
                say,
            )
            if before_commit is not None:
                before_commit()
            say("committing")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            temps = con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE temporary AND "
                "(table_name IN ('_stage', '_clean', '_stage_13f') "
                "OR table_name LIKE '_fp_validated_%')"
            ).fetchall()
            for (name,) in temps:
                con.execute(f"DROP TABLE IF EXISTS temp.{quote_ident(name)}")
            con.execute("DROP VIEW IF EXISTS temp._clean_view")
        return result

    def _ingest_in_transaction(
        self,
        kind: str,
        file: Path,
        digest: str,
        options: str,
        schema: PanelSchema,
        replace: bool,
        mapping: Mapping[str, str] | None,
        constants: Mapping[str, str] | None,
        delimiter: str | None,
        scale: Mapping[str, float] | None,
        calendar: str,
        fmt: str | None,
        say: Progress,
    ) -> IngestResult:
        con = self.con
        diagnostics: dict[str, int] = {}
        scan: Scan | None = None
        say("reading")
        if kind == "13f" and fmt is None and file.suffix.lower() == ".zip":
            from flowpressure.data._sec13f import load_13f

            diag = load_13f(file, con, table="_stage_13f")
            diagnostics = {k: int(v) for k, v in asdict(diag).items() if isinstance(v, int)}
            staged = con.table("_stage_13f")
        else:
            scan = scan_source(
                con,
                file,
                kind,
                mapping=mapping,
                constants=constants,
                delimiter=delimiter,
                fmt=fmt,
            )
            con.execute(f"CREATE TEMP TABLE _stage AS {scan.relation.sql_query()}")
            staged = con.table("_stage")
        say("validating")
        try:
            checked = validate(staged, schema.kind, calendar=calendar)
        except FlowPressureError as err:
            if scan is not None:
                scan.place(err)
            raise
        checked.create_view("_clean_view", replace=True)
        known = [c.name for c in schema.columns]
        present = [c for c in checked.columns if c in known]
        # The 13F loader's descriptive columns (issuer name, accession) are expected extras.
        ignored = (
            ()
            if kind == "13f" or (scan is not None and scan.format is not None)
            else tuple(c for c in checked.columns if c not in known)
        )
        keys = self._key_columns(schema)
        factors = dict(scale or {})
        for name, factor in factors.items():
            if name not in present or schema.column(name).dtype != "float":
                raise ConfigError(field="scale", expected="a number column of the file", got=name)
            if not (isinstance(factor, int | float) and factor > 0 and factor != float("inf")):
                raise ConfigError(field="scale", expected="a finite factor > 0", got=factor)
        select = []
        for col in schema.columns:
            if col.name in factors:
                q = quote_ident(col.name)
                select.append(f"{q} * {float(factors[col.name])!r} AS {q}")
            elif col.name in present:
                select.append(quote_ident(col.name))
            elif col.name in KEY_DEFAULTS and col.name in keys:
                select.append(f"'{KEY_DEFAULTS[col.name]}' AS {quote_ident(col.name)}")
            else:
                select.append(f"NULL::{_SQL_TYPES[col.dtype]} AS {quote_ident(col.name)}")
        con.execute(f"CREATE TEMP TABLE _clean AS SELECT {', '.join(select)} FROM _clean_view")

        self._ensure_table(schema)
        table = schema.kind
        say("checking overlap")
        on = " AND ".join(f"t.{quote_ident(k)} = c.{quote_ident(k)}" for k in keys)
        overlap_sql = f"FROM _clean c JOIN {table} t ON {on}"
        n_overlap = int(con.execute(f"SELECT count(*) {overlap_sql}").fetchall()[0][0])
        if n_overlap and not replace:
            key_list = ", ".join(f"c.{quote_ident(k)}" for k in keys)
            first = con.execute(
                f"SELECT {key_list}, p.source {overlap_sql} "
                f"JOIN _provenance p ON p.ingest_id = t._ingest_id ORDER BY {key_list} LIMIT 1"
            ).fetchall()[0]
            key = dict(zip(keys, first[: len(keys)], strict=True))
            raise OverlapError(
                f"{file.name}: key {format_key(key)} is already stored from "
                f"{Path(str(first[-1])).name} ({n_overlap - 1} other overlapping rows); "
                "ingest with --replace (replace=True) to overwrite them",
                field=", ".join(keys),
                key=key,
                expected="keys not yet in the store",
                others=n_overlap - 1,
            )
        replaced = 0
        if n_overlap:
            say("replacing")
            where = " AND ".join(f"t.{quote_ident(k)} = c.{quote_ident(k)}" for k in keys)
            replaced = n_overlap
            con.execute(
                f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM _clean c WHERE {where})"
            )

        say("writing")
        next_id = con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM _provenance").fetchall()
        ingest_id = int(next_id[0][0])
        names = ", ".join(quote_ident(c.name) for c in schema.columns)
        order = ", ".join(quote_ident(k) for k in keys if k != "date")
        order = f"{order}, date" if "date" in keys else order
        con.execute(
            f"INSERT INTO {table} ({names}, _ingest_id) "
            f"SELECT {names}, {ingest_id} FROM _clean ORDER BY {order}"
        )
        rows = int(con.execute("SELECT count(*) FROM _clean").fetchall()[0][0])
        from flowpressure import __version__

        con.execute(
            "INSERT INTO _provenance VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                ingest_id,
                kind,
                str(file.resolve()),
                digest,
                rows,
                replaced,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
                __version__,
                options,
            ],
        )
        return IngestResult(
            kind,
            str(file),
            digest,
            "ingested",
            rows,
            replaced,
            ignored,
            diagnostics,
            scan.format if scan is not None else None,
            dict(scan.describe()) if scan is not None else {},
        )

    # reading --------------------------------------------------------------------------
    def table(self, kind: str) -> duckdb.DuckDBPyRelation:
        """Return the stored panel of ``kind`` as a DuckDB relation (without ``_ingest_id``).

        Raises
        ------
        StoreError
            Nothing of that kind is stored.
        """
        schema = get_schema(_table_kind(kind))
        if not self.has_kind(schema.kind):
            raise StoreError(
                f"the store {str(self.path)!r} holds no {schema.kind} panel; "
                f"ingest one with: flowpressure ingest {schema.kind} FILE",
                field="kind",
                expected="a stored kind",
                got=kind,
            )
        fills = ABSENT_MEANS.get(schema.kind, {})
        names = ", ".join(
            f"coalesce({quote_ident(c.name)}, {fills[c.name]!r}) AS {quote_ident(c.name)}"
            if c.name in fills
            else quote_ident(c.name)
            for c in schema.columns
        )
        return self.con.sql(f"SELECT {names} FROM {schema.kind}")

    def provenance(self) -> list[dict[str, Any]]:
        """Return every ingest recorded, oldest first."""
        if not self.has_kind("_provenance"):
            return []
        rel = self.con.sql("SELECT * FROM _provenance ORDER BY ingest_id")
        cols = rel.columns
        return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]

    def info(self) -> dict[str, dict[str, Any]]:
        """Summarise each stored kind: rows, entities, date range, key and ingests.

        Returns
        -------
        dict
            ``{kind: {"rows", "entities", "first_date", "last_date", "key", "entity_ids",
            "ingests"}}`` for each kind with a table; dates as ISO strings.
        """
        out: dict[str, dict[str, Any]] = {}
        prov = self.provenance()
        for kind in KINDS:
            if not self.has_kind(kind):
                continue
            schema = get_schema(kind)
            entity = quote_ident(schema.keys[0])
            date_col = "date" if "date" in schema.names else schema.session_dates[-1]
            d = quote_ident(date_col)
            row = self.con.execute(
                f"SELECT count(*), count(DISTINCT {entity}), min({d}), max({d}), "
                f"min({entity}), max({entity}) FROM {kind}"
            ).fetchall()[0]
            out[kind] = {
                "rows": int(row[0]),
                "entities": int(row[1]),
                "first_date": row[2].isoformat() if row[2] is not None else None,
                "last_date": row[3].isoformat() if row[3] is not None else None,
                "date_column": date_col,
                "key": self._key_columns(schema),
                "entity_ids": [row[4], row[5]],
                "ingests": [
                    {
                        "ingest_id": p["ingest_id"],
                        "kind": p["kind"],
                        "source": p["source"],
                        "sha256": p["sha256"],
                        "rows": p["rows"],
                        "replaced": p["replaced"],
                        "ingested_at": p["ingested_at"].isoformat(timespec="seconds"),
                    }
                    for p in prov
                    if _table_kind(p["kind"]) == kind
                ],
            }
        return out
