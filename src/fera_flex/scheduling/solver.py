"""The contract between the scheduling core and its solver backends.

A backend sees the problem, not a solver model. It is an object with

- ``name``: its registry name;
- ``supports(problem, objective, options, **backend_args) -> None | str``:
  None when it can solve the problem, else the reason it cannot;
- ``solve(problem, stage, objective, options, start_power=None,
  **backend_args) -> StageResult``: one energy stage
  (:class:`~fera_flex.scheduling.standard_form.Stage`) of the problem solved
  into per-session power, the stage's measured values, duals, status and
  timings. It never raises for a numerical failure: that is status ERROR.

:func:`fera_flex.scheduling.schedule.schedule` owns what every backend
shares: the lexicographic stages, the safety repair, the final independent
verification and the plan. The LP backends (``highs``, ``cvxpy``) are
:class:`~fera_flex.scheduling.backends.lp.LPBackend` adapters around a
``solve_lp(lp, options) -> LPSolution`` function for the standard form of
:mod:`fera_flex.scheduling.standard_form`. Backends are registered by name in
:data:`BACKENDS` and imported only when used; ``method="auto"`` takes the
first of :data:`AUTO_ORDER` that supports the problem.

LP row duals follow one convention for every solver: ``row_dual[r]`` is the
rate of change of the optimal objective per unit increase of the bound of
row ``r`` that is active (0 for inactive rows). For a minimisation with a
binding upper bound it is <= 0.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from importlib import import_module
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fera_flex.errors import InputError

__all__ = [
    "AUTO_ORDER",
    "BACKENDS",
    "LPSolution",
    "SolveStatus",
    "SolverOptions",
    "StageResult",
    "choose_backend",
    "get_backend",
    "in_eur",
]


def in_eur(values: Any, eur_per_unit: float) -> NDArray[np.float64]:
    """Values in a solver's money unit converted to EUR: 0 stays 0, beyond the float range is inf.

    Prices near the float maximum make ``eur_per_unit`` itself infinite; a zero
    dual then means "no price", not ``0 * inf = nan``.
    """
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(values == 0, 0.0, values * eur_per_unit)


class SolveStatus(Enum):
    """Outcome of one solver call."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    TIME_LIMIT = "time_limit"
    ERROR = "error"


@dataclass(frozen=True)
class SolverOptions:
    """Options every backend understands, plus backend-specific extras.

    Parameters
    ----------
    time_limit_s : float, optional
        Wall-clock limit per solver call [s].
    mip_rel_gap : float
        Relative optimality gap at which a MILP stops.
    solver : str, optional
        For ``cvxpy``: the cvxpy solver name (HIGHS by default).
    extra : mapping
        Backend-specific options passed through (e.g. HiGHS option names).
    """

    time_limit_s: float | None = None
    mip_rel_gap: float = 1e-4
    solver: str | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.time_limit_s is not None and (
            not isinstance(self.time_limit_s, (int, float)) or not self.time_limit_s > 0
        ):
            raise InputError("SolverOptions", "time_limit_s", self.time_limit_s, "must be > 0")
        if not isinstance(self.mip_rel_gap, (int, float)) or not 0 <= self.mip_rel_gap < 1:
            raise InputError("SolverOptions", "mip_rel_gap", self.mip_rel_gap, "must be in [0, 1)")


@dataclass(frozen=True)
class LPSolution:
    """What a backend returns for one solve.

    Attributes
    ----------
    status : SolveStatus
        Outcome.
    x : ndarray or None
        Column values (None when there is no solution at all).
    row_dual : ndarray or None
        Row duals in the convention of the module documentation, when the
        backend has them (LPs solved to optimality).
    objective : float
        ``cost @ x + offset`` (nan without solution).
    build_s, solve_s : float
        Time spent building the solver's model and solving it [s].
    message : str
        The solver's own status text.
    """

    status: SolveStatus
    x: NDArray[np.float64] | None
    row_dual: NDArray[np.float64] | None
    objective: float
    build_s: float
    solve_s: float
    message: str = ""


@dataclass(frozen=True)
class StageResult:
    """What a backend returns for one energy stage of a problem.

    Attributes
    ----------
    status : SolveStatus
        Outcome.
    charge_kw, discharge_kw : ndarray, shape (n, T), or None
        Power per session and slot [kW] (None without a solution).
    objective : float
        The stage's goal value: kWh (MAX_ENERGY, TRACK), a fraction (FAIR)
        or EUR (ECONOMIC); nan without a solution.
    total_unmet_kwh, max_relative_shortfall, total_deviation_kwh : float
        What the solution has of each, for the bounds of later stages.
    node_import_price_eur_per_kwh, node_export_price_eur_per_kwh : ndarray (m, T) or None
        Shadow prices of the node import and export limits [EUR/kWh], >= 0:
        what one more kWh of room would save (ECONOMIC stages with duals).
    session_energy_price_eur_per_kwh : ndarray (n,) or None
        Marginal cost of one more kWh for each session [EUR/kWh].
    build_s, solve_s : float
        Model building and solving time [s].
    message : str
        The solver's own status text.
    goal : str
        The goal (``StageGoal.value``) of the stage solved.
    """

    status: SolveStatus
    charge_kw: NDArray[np.float64] | None
    discharge_kw: NDArray[np.float64] | None
    objective: float = float("nan")
    total_unmet_kwh: float = float("nan")
    max_relative_shortfall: float = float("nan")
    total_deviation_kwh: float = float("nan")
    node_import_price_eur_per_kwh: NDArray[np.float64] | None = None
    node_export_price_eur_per_kwh: NDArray[np.float64] | None = None
    session_energy_price_eur_per_kwh: NDArray[np.float64] | None = None
    build_s: float = 0.0
    solve_s: float = 0.0
    message: str = ""
    goal: str = ""


BACKENDS: Mapping[str, str] = MappingProxyType(
    {
        "flow": "fera_flex.scheduling.backends.flow",
        "highs": "fera_flex.scheduling.backends.highs",
        "cvxpy": "fera_flex.scheduling.backends.cvxpy",
    }
)
"""Backend name -> module defining ``BACKEND``."""

AUTO_ORDER: tuple[str, ...] = ("flow", "highs", "cvxpy")
"""Backends ``method="auto"`` tries, fastest first."""


def get_backend(name: str) -> Any:
    """The backend object registered under ``name``.

    Raises
    ------
    InputError
        For an unknown name, listing the known ones.
    """
    if name not in BACKENDS:
        raise InputError(
            "schedule", "method", name, f"unknown backend; choose from {['auto', *BACKENDS]}"
        )
    return import_module(BACKENDS[name]).BACKEND


def choose_backend(method: str, problem, objective, options, **backend_args) -> tuple[Any, str]:
    """The backend for ``method`` and why it was chosen.

    Raises
    ------
    InputError
        For an unknown method, or a named backend that does not support the problem.
    """
    if method != "auto":
        backend = get_backend(method)
        reason = backend.supports(problem, objective, options, **backend_args)
        if reason is not None:
            raise InputError("schedule", "method", method, reason)
        return backend, f"{method}: requested"
    refused = []
    for name in AUTO_ORDER:
        backend = get_backend(name)
        reason = backend.supports(problem, objective, options, **backend_args)
        if reason is None:
            why = "the fastest backend that supports the problem"
            return backend, f"{name}: {why}" + (f" ({'; '.join(refused)})" if refused else "")
        refused.append(f"{name}: {reason}")
    raise InputError("schedule", "method", "auto", "no backend supports it: " + "; ".join(refused))
