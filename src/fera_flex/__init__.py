"""fera_flex: EV smart-charging flexibility for SCSPs and aggregators (FERA).

``import fera_flex`` is cheap: it compiles nothing and imports neither numba
nor the solvers. The public names below are loaded on first use.

Examples
--------
>>> import fera_flex
>>> issubclass(fera_flex.FeraFlexError, Exception)
True
"""

from importlib import import_module
from typing import Any

__version__ = "0.1.0.dev0"

# public name -> module that defines it (imported lazily, PEP 562)
_LAZY = {
    "ChargingPlan": "fera_flex.scheduling.plan",
    "ChargingProblem": "fera_flex.scheduling.problem",
    "FeraFlexError": "fera_flex.errors",
    "InputError": "fera_flex.errors",
    "ObjectiveOptions": "fera_flex.scheduling.objective",
    "PlanStatus": "fera_flex.scheduling.plan",
    "Profile": "fera_flex.timeseries",
    "ProfileBatch": "fera_flex.timeseries",
    "Scenario": "fera_flex.models.scenario",
    "SolverOptions": "fera_flex.scheduling.solver",
    "TimeGrid": "fera_flex.timeseries",
    "aggregate": "fera_flex.flexibility.aggregate",
    "disaggregate": "fera_flex.flexibility.disaggregate",
    "flexibility_offers": "fera_flex.flexibility.offers",
    "offers_many": "fera_flex.distributed",
    "schedule": "fera_flex.scheduling.schedule",
    "solve_many": "fera_flex.distributed",
    "sum_profiles": "fera_flex.timeseries",
    "replan": "fera_flex.scheduling.replan",
    "verify_plan": "fera_flex.scheduling.verify",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'fera_flex' has no attribute {name!r}") from None
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
