"""Panel schemas: the one place where column names, keys, types and rules are written down.

Every panel is long (one row per key), keyed by entity and date, with money in currency units
and rates as fractions (DESIGN.md "Conventions"). A schema says which columns a panel must
have, which it may have, how each is typed and which rule its values obey; validation
(:func:`flowpressure.data.validate`) enforces it on any frame narwhals accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from flowpressure._errors import ConfigError

__all__ = [
    "KINDS",
    "SCHEMAS",
    "Column",
    "PanelSchema",
    "get_schema",
]

DType = Literal["str", "date", "float"]
Rule = Literal["positive", "nonnegative", "fraction", "return", "finite", "option_type"]
Frequency = Literal["daily", "period"]

#: What each rule means, in the words an error message uses after "expected".
RULE_TEXT: dict[str, str] = {
    "positive": "a finite number > 0",
    "nonnegative": "a finite number >= 0",
    "fraction": "a fraction in [0, 1]",
    "return": "a simple return > -1 (fractions: 0.05 = 5 %)",
    "finite": "a finite number",
    "option_type": "'call' or 'put'",
}


@dataclass(frozen=True)
class Column:
    """One column of a panel.

    Parameters
    ----------
    name
        Column name after any user mapping.
    dtype
        ``"str"`` (keys, labels), ``"date"`` (calendar or session date) or ``"float"``.
    required
        Whether the column must be present.
    rule
        The value rule checked for non-null values, see ``RULE_TEXT``.
    nullable
        Whether a present column may hold nulls (optional columns often may).
    """

    name: str
    dtype: DType
    required: bool = True
    rule: Rule | None = None
    nullable: bool = False


@dataclass(frozen=True)
class PanelSchema:
    """The contract of one panel kind.

    Parameters
    ----------
    kind
        Name used by the store and the CLI (``fund``, ``etf``, …).
    keys
        Columns that identify a row; no two rows may share them.
    columns
        Every column the project knows for this kind. Other columns pass through unchanged.
    frequency
        ``"daily"`` panels have session dates of an exchange calendar; ``"period"`` panels keep
        the period-end date as reported (monthly fund data, quarterly 13F) and are not checked
        against sessions.
    one_of
        Groups of columns of which at least one must be present (``ret`` or ``ret_total``).
    optional_keys
        Columns that join the key when present (13F put/call and SH/PRN).
    session_dates
        Date columns checked against the exchange calendar for daily panels.
    """

    kind: str
    keys: tuple[str, ...]
    columns: tuple[Column, ...]
    frequency: Frequency
    one_of: tuple[tuple[str, ...], ...] = ()
    optional_keys: tuple[str, ...] = ()
    session_dates: tuple[str, ...] = ("date",)
    description: str = ""

    def column(self, name: str) -> Column:
        """Return the column called ``name``.

        Raises
        ------
        ConfigError
            If the schema has no such column.
        """
        for col in self.columns:
            if col.name == name:
                return col
        raise ConfigError(field=name, expected=f"one of {[c.name for c in self.columns]}")

    @property
    def names(self) -> tuple[str, ...]:
        """Names of every column the schema knows, in order."""
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the columns that must be present."""
        return tuple(c.name for c in self.columns if c.required)


def _c(name: str, dtype: DType, rule: Rule | None = None, *, required: bool = True) -> Column:
    return Column(name, dtype, required=required, rule=rule, nullable=not required)


SCHEMAS: dict[str, PanelSchema] = {
    "fund": PanelSchema(
        kind="fund",
        keys=("fund_id", "date"),
        columns=(
            _c("fund_id", "str"),
            _c("date", "date"),
            _c("tna", "float", "positive"),
            _c("ret", "float", "return", required=False),
            _c("ret_total", "float", "return", required=False),
            _c("distribution", "float", "nonnegative", required=False),
            _c("category", "str", required=False),
        ),
        frequency="period",
        one_of=(("ret", "ret_total"),),
        description="fund TNA and returns per period (monthly data keeps its month-end dates)",
    ),
    "etf": PanelSchema(
        kind="etf",
        keys=("fund_id", "date"),
        columns=(
            _c("fund_id", "str"),
            _c("date", "date"),
            _c("shares_outstanding", "float", "nonnegative"),
            _c("nav", "float", "positive"),
            _c("distribution", "float", "nonnegative", required=False),
            _c("aum", "float", "nonnegative", required=False),
            _c("ret", "float", "return", required=False),
            _c("ret_total", "float", "return", required=False),
        ),
        frequency="daily",
        description="ETF shares outstanding and NAV per session; distribution per share on ex-date",
    ),
    "holdings": PanelSchema(
        kind="holdings",
        keys=("investor_id", "asset_id", "date"),
        columns=(
            _c("investor_id", "str"),
            _c("asset_id", "str"),
            _c("date", "date"),
            _c("shares", "float", "nonnegative"),
            _c("value", "float", "nonnegative", required=False),
            _c("put_call", "str", required=False),
            _c("sh_prn", "str", required=False),
        ),
        frequency="period",
        optional_keys=("put_call", "sh_prn"),
        description="positions per investor, asset and report date (13F: quarter ends)",
    ),
    "prices": PanelSchema(
        kind="prices",
        keys=("asset_id", "date"),
        columns=(
            _c("asset_id", "str"),
            _c("date", "date"),
            _c("close", "float", "positive"),
            _c("open", "float", "positive", required=False),
            _c("high", "float", "positive", required=False),
            _c("low", "float", "positive", required=False),
            _c("volume", "float", "nonnegative", required=False),
            _c("split_factor", "float", "positive", required=False),
            _c("dividend", "float", "nonnegative", required=False),
        ),
        frequency="daily",
        description="close (and optional volume, split factor, dividend) per asset and session",
    ),
    "index_events": PanelSchema(
        kind="index_events",
        keys=("asset_id", "effective_date"),
        columns=(
            _c("asset_id", "str"),
            _c("announce_date", "date"),
            _c("effective_date", "date"),
            _c("w_old", "float", "fraction"),
            _c("w_new", "float", "fraction"),
            _c("index_id", "str", required=False),
            _c("float_mcap", "float", "nonnegative", required=False),
            _c("passive_share", "float", "fraction", required=False),
        ),
        frequency="daily",
        optional_keys=("index_id",),
        session_dates=("announce_date", "effective_date"),
        description="index weight changes: an addition has w_old 0, a deletion w_new 0",
    ),
    "buybacks": PanelSchema(
        kind="buybacks",
        keys=("asset_id", "date"),
        columns=(
            _c("asset_id", "str"),
            _c("date", "date"),
            _c("repurchases", "float", "nonnegative"),
            _c("issuance", "float", "nonnegative", required=False),
            _c("shares_outstanding", "float", "positive", required=False),
            _c("market_cap", "float", "positive", required=False),
            _c("earnings_date", "date", required=False),
        ),
        frequency="period",
        description="repurchases (currency) per company and fiscal period end",
    ),
    "options": PanelSchema(
        kind="options",
        keys=("asset_id", "date", "expiry", "strike", "type"),
        columns=(
            _c("asset_id", "str"),
            _c("date", "date"),
            _c("expiry", "date"),
            _c("strike", "float", "positive"),
            _c("type", "str", "option_type"),
            _c("open_interest", "float", "nonnegative"),
            _c("iv", "float", "positive"),
            _c("multiplier", "float", "positive", required=False),
            _c("underlying_price", "float", "positive", required=False),
            _c("rate", "float", "finite", required=False),
            _c("gamma", "float", "nonnegative", required=False),
            _c("contract", "str", required=False),
            _c("snapshot", "str", required=False),
        ),
        frequency="daily",
        optional_keys=("contract", "snapshot"),
        description="option chain snapshots: open interest and implied vol per contract "
        "(optional: the source's gamma, the contract symbol, the snapshot it came from)",
    ),
    "fund_returns": PanelSchema(
        kind="fund_returns",
        keys=("fund_id", "date"),
        columns=(
            _c("fund_id", "str"),
            _c("date", "date"),
            _c("ret_total", "float", "return"),
            _c("series_id", "str", required=False),
        ),
        frequency="period",
        session_dates=(),
        description="total return per fund or share class and period end (N-PORT Item B.5); "
        "series_id groups the classes of one fund",
    ),
    "fund_flows_reported": PanelSchema(
        kind="fund_flows_reported",
        keys=("fund_id", "period_start", "date"),
        columns=(
            _c("fund_id", "str"),
            _c("period_start", "date"),
            _c("date", "date"),
            _c("sales", "float", "nonnegative"),
            _c("redemptions", "float", "nonnegative"),
            _c("reinvestments", "float", "nonnegative", required=False),
            _c("net_flow", "float", "finite", required=False),
            _c("redemption_credits", "float", "nonnegative", required=False),
            _c("tna", "float", "positive", required=False),
            _c("source", "str", required=False),
            _c("series_id", "str", required=False),
            _c("fund_name", "str", required=False),
        ),
        frequency="period",
        session_dates=(),
        description="gross flows a fund reports per period (N-PORT month, 24F-2NT fiscal year, "
        "N-CEN year): sales, redemptions (positive) and reinvestments; net_flow = sales + "
        "reinvestments - redemptions",
    ),
}

#: The panel kinds, in the order the CLI lists them.
KINDS: tuple[str, ...] = tuple(SCHEMAS)


def get_schema(kind: str) -> PanelSchema:
    """Return the schema of a panel kind.

    Raises
    ------
    ConfigError
        If ``kind`` is not one of :data:`KINDS`.

    Examples
    --------
    >>> get_schema("fund").keys
    ('fund_id', 'date')
    """
    try:
        return SCHEMAS[kind]
    except KeyError:
        raise ConfigError(field="kind", expected=f"one of {', '.join(KINDS)}", got=kind) from None
