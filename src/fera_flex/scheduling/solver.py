"""The contract between the scheduling core and its solver backends.

A backend is a function ``solve_lp(lp: StandardLP, options: SolverOptions)
-> LPSolution``. It solves the standard-form model built by
:func:`fera_flex.scheduling._lp.build_lp` and nothing else, so backends stay
thin and interchangeable. Backends are registered by name in
:data:`BACKENDS` and imported only when used.

Row duals follow one convention for every backend: ``row_dual[r]`` is the
rate of change of the optimal objective per unit increase of the bound of
row ``r`` that is active (0 for inactive rows). For a minimisation with a
binding upper bound it is <= 0.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from importlib import import_module
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fera_flex.errors import InputError

__all__ = ["BACKENDS", "LPSolution", "SolveStatus", "SolverOptions", "get_backend"]


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


BACKENDS: Mapping[str, str] = MappingProxyType(
    {
        "highs": "fera_flex.scheduling.backends.highs",
        "cvxpy": "fera_flex.scheduling.backends.cvxpy",
    }
)
"""Backend name -> module defining ``solve_lp``."""


def get_backend(name: str) -> Callable[..., LPSolution]:
    """The ``solve_lp`` function of a backend.

    Raises
    ------
    InputError
        For an unknown name, listing the known ones.
    """
    if name not in BACKENDS:
        raise InputError(
            "schedule", "method", name, f"unknown backend; choose from {sorted(BACKENDS)}"
        )
    return import_module(BACKENDS[name]).solve_lp
