"""Rebalancing rules, costs and targets: the specs users write, checked and turned into arrays."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from flowpressure._errors import ConfigError

__all__ = [
    "RebalanceCosts",
    "RebalanceRule",
    "cost_rates",
    "half_widths",
    "parse_rule",
    "parse_targets",
]

F64 = NDArray[np.float64]

#: Targets of a portfolio must sum to one within this.
SUM_TOL = 1e-9

_SCHEDULES = {
    "D": "daily",
    "M": "monthly",
    "Q": "quarterly",
    "Y": "annual",
}
_ALIASES = {
    "d": "D",
    "daily": "D",
    "m": "M",
    "month": "M",
    "monthly": "M",
    "q": "Q",
    "quarter": "Q",
    "quarterly": "Q",
    "y": "Y",
    "a": "Y",
    "year": "Y",
    "yearly": "Y",
    "annual": "Y",
    "annually": "Y",
}

BandLike = float | Sequence[float] | Mapping[str, float] | NDArray[np.float64] | None
BpsLike = float | Sequence[float] | Mapping[str, float]


def _check_choice(value: str, field: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(field=field, expected=" or ".join(choices), got=value)


@dataclass(frozen=True)
class RebalanceRule:
    r"""When a portfolio is checked and what it trades.

    A rule is a *schedule* (when to look) and an optional *band* (trade only when a weight
    is outside it). Without a band every scheduled date trades (a calendar rule); a daily
    schedule with a band is a threshold rule; a monthly schedule with a band is
    "check monthly, trade only outside the band".

    Parameters
    ----------
    schedule
        ``"D"`` every session, or ``"M"``, ``"Q"``, ``"Y"``: the last session of each month,
        quarter or year of the exchange calendar. Ignored when ``every`` is given.
    every
        Check every ``every`` trading days (rows of the data) after the first.
    band
        Band width, a fraction (0.05 = 5 points for an absolute band): one number, one per
        asset (a sequence in target order or a mapping by ``asset_id``), or an array that
        broadcasts to (portfolios, assets) to sweep widths. Must be > 0.
    band_kind
        ``"absolute"`` :math:`|w - w^*| > b`, ``"relative"`` :math:`|w / w^* - 1| > b`, or
        ``"hybrid"`` :math:`|w - w^*| > \max(b\,w^*, floor)`.
    floor
        Absolute floor of a hybrid band.
    to
        ``"target"`` trades back to the targets, ``"edge"`` only to the band's edge (the
        nearest weights inside every band).
    trade
        ``"all"`` rebalances every asset; ``"outside"`` trades only the assets outside their
        band: they go to their target (or edge), and the net amount this frees or needs is
        taken from or given to the assets inside their band toward their targets (a purchase
        goes to the underweight ones first), so those only ever move toward target.

    Notes
    -----
    A weight on the band's edge counts as outside: the comparison is
    :math:`|w - w^*| > h - 10^{-12}` (DESIGN.md "Contract conventions").

    Examples
    --------
    >>> RebalanceRule.threshold(0.05).describe()
    'threshold: absolute band 0.05, checked daily, to target'
    >>> RebalanceRule.calendar("Q", band=0.05).describe()
    'quarterly with absolute band 0.05, to target'
    """

    schedule: str = "M"
    every: int | None = None
    band: BandLike = None
    band_kind: str = "absolute"
    floor: float = 0.0
    to: str = "target"
    trade: str = "all"

    def __post_init__(self) -> None:
        _check_choice(self.schedule, "schedule", tuple(_SCHEDULES))
        if self.every is not None and (
            isinstance(self.every, bool) or not isinstance(self.every, int) or self.every < 1
        ):
            raise ConfigError(
                field="every", expected="a whole number of trading days >= 1", got=self.every
            )
        _check_choice(self.band_kind, "band_kind", ("absolute", "relative", "hybrid"))
        _check_choice(self.to, "to", ("target", "edge"))
        _check_choice(self.trade, "trade", ("all", "outside"))
        if not (math.isfinite(self.floor) and self.floor >= 0.0):
            raise ConfigError(field="floor", expected="an absolute floor >= 0", got=self.floor)
        if self.band is None:
            for name, value, default in (("to", self.to, "target"), ("trade", self.trade, "all")):
                if value != default:
                    raise ConfigError(
                        field=name,
                        expected=f"a band: {name}={value!r} only applies to a rule with a band",
                        got=value,
                    )
        else:
            _band_values(self.band)

    @classmethod
    def calendar(
        cls,
        freq: str = "M",
        *,
        band: BandLike = None,
        band_kind: str = "absolute",
        floor: float = 0.0,
        to: str = "target",
        trade: str = "all",
    ) -> RebalanceRule:
        """Trade at the last session of each month/quarter/year (within the band if given)."""
        return cls(_schedule(freq), None, band, band_kind, floor, to, trade)

    @classmethod
    def every_n(
        cls,
        n: int,
        *,
        band: BandLike = None,
        band_kind: str = "absolute",
        floor: float = 0.0,
        to: str = "target",
        trade: str = "all",
    ) -> RebalanceRule:
        """Trade every ``n`` trading days (only outside the band if given)."""
        return cls("D", n, band, band_kind, floor, to, trade)

    @classmethod
    def threshold(
        cls,
        band: BandLike,
        *,
        kind: str = "absolute",
        floor: float = 0.0,
        to: str = "target",
        trade: str = "all",
        schedule: str = "D",
    ) -> RebalanceRule:
        """Check every session (or ``schedule``) and trade when a weight leaves its band."""
        if band is None:
            raise ConfigError(field="band", expected="a band width > 0 for a threshold rule")
        return cls(_schedule(schedule), None, band, kind, floor, to, trade)

    def describe(self) -> str:
        """One line saying what the rule does."""
        when = f"every {self.every} trading days" if self.every else _SCHEDULES[self.schedule]
        if self.band is None:
            return when
        width = self.band if isinstance(self.band, int | float) else "per asset"
        band = f"{self.band_kind} band {width}"
        if self.band_kind == "hybrid":
            band += f" (floor {self.floor})"
        tail = f"to {self.to}" + (", only assets outside" if self.trade == "outside" else "")
        if self.schedule == "D" and not self.every:
            return f"threshold: {band}, checked daily, {tail}"
        return f"{when} with {band}, {tail}"


def _schedule(freq: str) -> str:
    key = _ALIASES.get(str(freq).lower(), str(freq))
    _check_choice(key, "schedule", tuple(_SCHEDULES))
    return key


def _band_values(band: Any) -> F64:
    if isinstance(band, Mapping):
        values = np.array([float(v) for v in band.values()], dtype=np.float64)
    else:
        try:
            values = np.atleast_1d(np.asarray(band, dtype=np.float64))
        except (TypeError, ValueError):
            raise ConfigError(
                field="band", expected="a number, per-asset numbers or an array", got=band
            ) from None
    bad = values[~(np.isfinite(values) & (values > 0.0))]
    if bad.size:
        raise ConfigError(
            field="band",
            expected="a band width > 0 (a fraction: 0.05 = 5 points)",
            got=float(bad[0]),
            others=bad.size - 1,
        )
    return values


def parse_rule(rule: RebalanceRule | str) -> RebalanceRule:
    """Accept a rule or a calendar name (``"monthly"``, ``"Q"``, ``"annual"``, ``"daily"``).

    Examples
    --------
    >>> parse_rule("quarterly").schedule
    'Q'
    """
    if isinstance(rule, RebalanceRule):
        return rule
    if isinstance(rule, str):
        if rule.lower() == "threshold":
            raise ConfigError(
                field="rule",
                expected="RebalanceRule.threshold(band): a threshold rule needs a band width",
                got=rule,
            )
        key = _ALIASES.get(rule.lower())
        if key is not None:
            return RebalanceRule(key)
    raise ConfigError(
        field="rule",
        expected="a RebalanceRule or one of daily, monthly, quarterly, annual",
        got=rule,
    )


def _per_asset(
    value: Any, assets: Sequence[str], field: str
) -> F64:  # a number, a sequence in asset order or a mapping by asset_id
    n = len(assets)
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(assets))
        if unknown:
            raise ConfigError(
                field=field,
                key={"asset_id": unknown[0]},
                expected=f"an asset of the targets ({', '.join(assets)})",
            )
        missing = [a for a in assets if a not in value]
        if missing:
            raise ConfigError(
                field=field,
                key={"asset_id": missing[0]},
                expected="a value for every asset of the targets",
                others=len(missing) - 1,
            )
        return np.array([float(value[a]) for a in assets], dtype=np.float64)
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise ConfigError(
            field=field,
            expected=f"one number, a mapping by asset_id or {n} numbers in target order",
            got=f"shape {arr.shape}",
        )
    return arr


def half_widths(rule: RebalanceRule, assets: Sequence[str], targets: F64) -> F64:
    r"""Band half-width of every (portfolio, asset): :math:`b`, :math:`b|w^*|` or the hybrid.

    Returns ``inf`` everywhere for a rule without a band.

    Examples
    --------
    >>> rule = RebalanceRule.threshold(0.2, kind="hybrid", floor=0.05)
    >>> half_widths(rule, ["EQ", "BOND"], np.array([[0.6, 0.4]])).round(12).tolist()
    [[0.12, 0.08]]
    """
    n_p, n = targets.shape
    if rule.band is None:
        return np.full((n_p, n), np.inf)
    band: Any = rule.band
    if isinstance(band, Mapping) or np.ndim(band) <= 1:
        width = np.broadcast_to(_per_asset(band, assets, "band"), (n_p, n))
    else:
        arr = np.asarray(band, dtype=np.float64)
        try:
            width = np.broadcast_to(arr, (n_p, n))
        except ValueError:
            raise ConfigError(
                field="band",
                expected=f"an array that broadcasts to (portfolios, assets) = {(n_p, n)}",
                got=f"shape {arr.shape}",
            ) from None
    _band_values(width)
    if rule.band_kind == "absolute":
        return np.array(width, dtype=np.float64)  # a writable copy of the broadcast view
    scaled = width * np.abs(targets)
    if rule.band_kind == "hybrid":
        scaled = np.maximum(scaled, rule.floor)
    return np.array(scaled, dtype=np.float64)


@dataclass(frozen=True)
class RebalanceCosts:
    """Trading costs and taxes of a rebalancing policy.

    Parameters
    ----------
    bps
        Proportional cost in basis points of the dollars traded: one number, one per asset
        (sequence in target order) or a mapping by ``asset_id``.
    fixed
        Cost per rebalance, in currency units (not charged on flows).
    tax_rate
        Tax rate on realised capital gains (average-cost basis, losses carried forward).
    deduct_taxes
        Pay the tax out of the portfolio at the rebalance; by default it is only reported.

    Examples
    --------
    >>> RebalanceCosts(bps=5, fixed=10.0).fixed
    10.0
    """

    bps: BpsLike = 0.0
    fixed: float = 0.0
    tax_rate: float = 0.0
    deduct_taxes: bool = False

    def __post_init__(self) -> None:
        values = (
            list(self.bps.values())
            if isinstance(self.bps, Mapping)
            else np.atleast_1d(np.asarray(self.bps, dtype=np.float64)).tolist()
        )
        bad = [v for v in values if not (math.isfinite(float(v)) and float(v) >= 0.0)]
        if bad:
            raise ConfigError(field="bps", expected="a cost in basis points >= 0", got=bad[0])
        if not (math.isfinite(self.fixed) and self.fixed >= 0.0):
            raise ConfigError(field="fixed", expected="a cost per rebalance >= 0", got=self.fixed)
        if not (math.isfinite(self.tax_rate) and 0.0 <= self.tax_rate < 1.0):
            raise ConfigError(
                field="tax_rate", expected="a fraction in [0, 1) (0.2 = 20 %)", got=self.tax_rate
            )


def cost_rates(costs: RebalanceCosts, assets: Sequence[str]) -> F64:
    """Proportional cost per dollar traded of each asset (bps / 10,000).

    Examples
    --------
    >>> cost_rates(RebalanceCosts(bps={"EQ": 5, "BOND": 2}), ["EQ", "BOND"]).tolist()
    [0.0005, 0.0002]
    """
    return np.ascontiguousarray(_per_asset(costs.bps, assets, "bps") / 1e4)


def parse_targets(
    targets: Any, available: Sequence[str] | None, allow_short: bool = False
) -> tuple[list[str], F64]:
    """Read one set of target weights or many, as ``(asset_ids, matrix (portfolios, assets))``.

    ``targets`` is a mapping ``{asset_id: weight}`` (one portfolio), a mapping
    ``{asset_id: sequence of weights}`` (one portfolio per position) or a wide frame with one
    column per asset and one row per portfolio.

    Raises
    ------
    ConfigError
        An asset not in ``available`` (when given), weights not summing to 1, a negative
        weight without ``allow_short``, or a non-finite weight.

    Examples
    --------
    >>> parse_targets({"EQ": [0.6, 0.5], "BOND": [0.4, 0.5]}, ["BOND", "EQ"])[1].tolist()
    [[0.6, 0.4], [0.5, 0.5]]
    """
    if isinstance(targets, Mapping):
        ids = [str(k) for k in targets]
        columns = [np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in targets.values()]
    else:
        try:
            import narwhals as nw

            frame = nw.from_native(targets, eager_only=True)
        except TypeError:
            raise ConfigError(
                field="targets",
                expected="a mapping {asset_id: weight} or a wide frame (one column per asset)",
                got=type(targets).__name__,
            ) from None
        ids = [str(c) for c in frame.columns]
        columns = [frame[c].to_numpy().astype(np.float64) for c in frame.columns]
    if not ids:
        raise ConfigError(field="targets", expected="at least one asset")
    sizes = {c.shape for c in columns}
    if len(sizes) != 1 or len(next(iter(sizes))) != 1:
        raise ConfigError(
            field="targets", expected="the same number of weights for every asset", got=sizes
        )
    unknown = [a for a in ids if available is not None and a not in set(available)]
    if unknown and available is not None:
        shown = ", ".join(list(available)[:8]) + (", ..." if len(available) > 8 else "")
        raise ConfigError(
            field="targets",
            key={"asset_id": unknown[0]},
            expected=f"an asset_id of the prices panel ({shown})",
            others=len(unknown) - 1,
        )
    matrix = np.ascontiguousarray(np.stack(columns, axis=1))
    bad = np.argwhere(~np.isfinite(matrix))
    if bad.size:
        p, i = bad[0]
        raise ConfigError(
            field="targets",
            key={"portfolio": int(p), "asset_id": ids[i]},
            expected="a finite weight",
            got=float(matrix[p, i]),
        )
    if not allow_short:
        neg = np.argwhere(matrix < 0.0)
        if neg.size:
            p, i = neg[0]
            raise ConfigError(
                field="targets",
                key={"portfolio": int(p), "asset_id": ids[i]},
                expected="a weight >= 0 (pass allow_short=True for short positions)",
                got=float(matrix[p, i]),
                others=len(neg) - 1,
            )
    sums = matrix.sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1.0) > SUM_TOL)
    if off.size:
        p = int(off[0])
        raise ConfigError(
            field="targets",
            key={"portfolio": p},
            expected="weights summing to 1 (fractions: 0.6, not 60)",
            got=float(sums[p]),
            others=off.size - 1,
        )
    return ids, matrix
