"""13F units: whether a filing's VALUE is in dollars or thousands, from its implied prices.

The SEC's rule (thousands before 2023-01-03, dollars after) is not what every filer did, and
some data sets converted a filing twice. The evidence is in the filing itself: a price per
share is value / shares, and prices cluster between a dollar and a few thousand dollars.
Used by the SEC data-set loader (:mod:`flowpressure.data._sec13f`) and the 13F source formats.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

__all__ = ["PRICE_RANGE", "choose_units"]

#: Plausible price of one share, in dollars (low, high): the evidence for a filing's units.
PRICE_RANGE = (1.0, 5000.0)


def choose_units(
    con: duckdb.DuckDBPyConnection,
    source: str,
    filing: Sequence[str],
    *,
    table: str,
    preferred: str,
    candidates: Sequence[float] = (1.0, 1000.0),
    value: str = "value",
    shares: str = "shares",
    share_line: str = "TRUE",
) -> None:
    r"""Choose each filing's units from its implied prices; write one row per filing to ``table``.

    A 13F VALUE is in dollars or in thousands of dollars, and filers do not always say which
    (or say it wrongly). The median implied price of a filing's share lines,
    :math:`m_f = \operatorname{median}(\text{value} / \text{shares})`, tells: a factor
    :math:`u` is plausible when :math:`m_f u` lies in :data:`PRICE_RANGE`. The preferred
    factor (the date rule) is kept when plausible; otherwise the one plausible candidate is
    taken; when none is, the preferred factor stays and the filing is ``implausible``.

    Parameters
    ----------
    con
        The connection holding ``source``.
    source
        A table name or a parenthesised query with the line columns.
    filing
        The columns that identify a filing (an accession number, or (CIK, period)).
    table
        TEMP table to create or replace, with the ``filing`` columns, ``median_price`` (in
        the source's units), ``n_lines``, ``unit_factor`` (the factor chosen),
        ``preferred_factor`` and ``evidence``: ``"plausible"``, ``"ambiguous"`` (another
        candidate is plausible too), ``"corrected"``, ``"implausible"`` or ``"no_evidence"``
        (no share line with shares > 0).
    preferred
        SQL expression of the preferred factor of a line (constant within a filing).
    candidates
        The factors a filing may take (the preferred ones among them).
    value, shares
        SQL expressions of a line's value and share count.
    share_line
        SQL condition of the lines that are evidence (share lines, not options or PRN).

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE l AS SELECT * FROM (VALUES "
    ...     "('A', 27010.0, 1000.0), ('A', 1500.0, 10.0), ('B', 27.0, 1000.0)) t(f, v, n)")
    >>> choose_units(con, "l", ["f"], table="u", preferred="1000.0", value="v", shares="n")
    >>> con.sql("SELECT f, unit_factor, evidence FROM u ORDER BY f").fetchall()
    [('A', 1.0, 'corrected'), ('B', 1000.0, 'plausible')]
    """
    lo, hi = PRICE_RANGE
    keys = ", ".join(filing)

    def ok(factor: str) -> str:
        return f"(median_price * {factor} BETWEEN {lo!r} AND {hi!r})"

    alts = [float(c) for c in candidates]
    plausible_alts = " + ".join(
        f"CASE WHEN {ok(repr(c))} AND {c!r} <> preferred_factor THEN 1 ELSE 0 END" for c in alts
    )
    first_alt = " ".join(
        f"WHEN {ok(repr(c))} AND {c!r} <> preferred_factor THEN {c!r}" for c in alts
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE "{table}" AS
        WITH e AS (
            SELECT {keys},
                median(({value}) / ({shares})) FILTER (WHERE {share_line} AND ({shares}) > 0)
                    AS median_price,
                count(*) AS n_lines,
                any_value(({preferred})::DOUBLE) AS preferred_factor
            FROM {source} GROUP BY {keys}
        ),
        c AS (SELECT *, ({plausible_alts}) AS n_alts FROM e)
        SELECT {keys}, median_price, n_lines, preferred_factor,
            CASE WHEN median_price IS NULL OR {ok("preferred_factor")} OR n_alts <> 1
                 THEN preferred_factor ELSE CASE {first_alt} END END AS unit_factor,
            CASE WHEN median_price IS NULL THEN 'no_evidence'
                 WHEN {ok("preferred_factor")} AND n_alts > 0 THEN 'ambiguous'
                 WHEN {ok("preferred_factor")} THEN 'plausible'
                 WHEN n_alts = 1 THEN 'corrected'
                 ELSE 'implausible' END AS evidence
        FROM c
    """)
