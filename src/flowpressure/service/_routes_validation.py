"""``GET /v1/validation``: the validation table (each model against real outcomes)."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field

from flowpressure.service._common import NotFoundError
from flowpressure.service._models import ErrorOut, Model
from flowpressure.validate import CHECKS, VERDICTS

router = APIRouter(prefix="/v1", tags=["validation"])

_LOCK = threading.Lock()


class CheckOut(Model):
    """One check: what was compared, the figure, the reference and the verdict."""

    check: str = Field(description="Check name (" + ", ".join(CHECKS) + ").")
    data: str = Field(description="The data used, with its sample size.")
    figure: str = Field(description="The headline figure(s), in words.")
    reference: str = Field(description="What the figure is judged against.")
    verdict: str = Field(description="One of " + ", ".join(VERDICTS) + ".")
    method: str = Field(description="How the figure was computed.")
    n: int = Field(description="Sample size of the headline figure.")
    notes: list[str] = Field(description="Caveats.")
    figures: dict[str, Any] = Field(description="Every number behind the figure, by name.")


class ValidationOut(Model):
    """The validation table, in check order (empty when no data folder is configured)."""

    configured: bool = Field(
        description="Whether the service was started with a data folder (serve --validation DIR)."
    )
    checks: list[CheckOut] = Field(description="One row per check.")


def _results(request: Request, names: list[str]) -> list[dict[str, Any]] | None:
    """Results of ``names`` in table order, each check run once and kept for the app's life."""
    folder = getattr(request.app.state, "validation_dir", None)
    if folder is None:
        return None
    with _LOCK:
        done: dict[str, dict[str, Any]] = getattr(request.app.state, "validation_results", {})
        request.app.state.validation_results = done
        for name in names:
            if name not in done:
                from flowpressure.validate import run_check

                done[name] = run_check(name, folder).to_dict()
        return [done[name] for name in names]


@router.get(
    "/validation",
    response_model=ValidationOut,
    summary="Each model checked against real outcomes",
    responses={404: {"model": ErrorOut, "description": "An unknown check name."}},
)
def validation(
    request: Request,
    check: Annotated[list[str] | None, Query(description="Checks to show (default: all).")] = None,
) -> ValidationOut:
    """Run the checks on the configured folder (each once, then kept) and return the rows."""
    unknown = [c for c in check or [] if c not in CHECKS]
    if unknown:
        raise NotFoundError(
            f"unknown check {unknown[0]!r}; expected one of " + ", ".join(CHECKS),
            field="check",
        )
    names = [c for c in CHECKS if c in check] if check else list(CHECKS)
    found = _results(request, names)
    rows = found if found is not None else []
    keys = CheckOut.model_fields
    return ValidationOut(
        configured=found is not None,
        checks=[CheckOut(**{k: r[k] for k in keys}) for r in rows],
    )
