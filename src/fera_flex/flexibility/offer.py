"""A node's deliverable offer over a window, and what every offer shape shares.

:class:`NodeOffer` is the offer object of all three shapes (``box``,
``battery``, ``options``; see :mod:`fera_flex.flexibility.offers` and
:mod:`fera_flex.flexibility.battery`), with :meth:`NodeOffer.resampled`
(coarser ISPs, still deliverable) and :meth:`NodeOffer.to_fera`. The
private helpers here set an offer up: the node's set, the baseline plan and
load, the window, each slot's own room and the fractions an offer keeps.
"""

from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np
from numpy.typing import NDArray

from fera_flex.errors import InputError
from fera_flex.flexibility.aggregate import NodeFlexibility, aggregate
from fera_flex.flexibility.sharing import upstream_shared
from fera_flex.models.fera import FlexibilityOffer
from fera_flex.scheduling.plan import ChargingPlan
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.schedule import schedule
from fera_flex.timeseries import TimeGrid

__all__ = ["NodeOffer"]


@dataclass(frozen=True)
class NodeOffer:
    """A deliverable offer of one node over a window.

    Attributes
    ----------
    node_id : str
    grid : TimeGrid
        The window's slots (the offer's ISPs).
    window : (int, int)
        First and stop slot of the window in the problem's grid.
    shape : str
        ``"box"``, ``"battery"`` or ``"options"``.
    baseline_kw, power_min_kw, power_max_kw : ndarray (W,)
        The planned node load and the offer's power range per slot [kW] (for
        options: the range the options span).
    kept_up, kept_down : float
        Up and down power of the offer as fractions of the exact per-slot
        extremes over the window (1 when there is no room at all).
    options_kw : ndarray (k, W) or None
        The alternative profiles of an options offer.
    option_cost_eur : ndarray (k,) or None
        Each option's opportunity cost against the baseline [EUR].
    energy_min_kwh, energy_max_kwh : ndarray (W,) or None
        A battery offer's bounds on the node's energy from the window's start
        to the end of each slot [kWh]; any profile within the power range
        and these bounds is deliverable.
    """

    node_id: str
    grid: TimeGrid
    window: tuple[int, int]
    shape: str
    baseline_kw: NDArray[np.float64]
    power_min_kw: NDArray[np.float64]
    power_max_kw: NDArray[np.float64]
    kept_up: float
    kept_down: float
    options_kw: NDArray[np.float64] | None = None
    option_cost_eur: NDArray[np.float64] | None = None
    energy_min_kwh: NDArray[np.float64] | None = None
    energy_max_kwh: NDArray[np.float64] | None = None

    def to_fera(self, offer_id: str) -> FlexibilityOffer:
        """The offer as a FERA :class:`~fera_flex.models.fera.FlexibilityOffer`."""

        def listed(values):
            return None if values is None else values.tolist()

        return FlexibilityOffer(
            id=offer_id,
            node_id=self.node_id,
            start=self.grid.start,
            step_s=self.grid.step_s,
            shape=self.shape,
            baseline_kw=self.baseline_kw.tolist(),
            power_min_kw=self.power_min_kw.tolist(),
            power_max_kw=self.power_max_kw.tolist(),
            energy_min_kwh=listed(self.energy_min_kwh),
            energy_max_kwh=listed(self.energy_max_kwh),
            options_kw=listed(self.options_kw),
            option_prices=listed(self.option_cost_eur),
            currency=None if self.option_cost_eur is None else "EUR",
        )

    def resampled(self, step: timedelta | int) -> "NodeOffer":
        """The offer on ISPs of ``step`` (a whole multiple of its slot length), still deliverable.

        An activation on the coarse ISPs fixes each ISP's mean power; every
        power is the mean of its slots' values. A coarse box or battery
        profile ``y`` is delivered by the fine profile that takes, in every
        slot of an ISP, the same fraction of the slot's own range
        (``lo + f (hi - lo)``): it lies in the fine box and has the same
        energy per ISP, so the battery's energy bounds (taken at the ISP
        ends) hold too. An option is delivered by its own fine profile.

        Raises
        ------
        InputError
            When ``step`` is not a whole multiple of the slot length, the
            window is not a whole number of ISPs, or its start is not on the
            clock of ``step`` (e.g. hourly ISPs starting at a quarter past).
        """
        step_s = int(step.total_seconds()) if isinstance(step, timedelta) else int(step)
        grid = self.grid
        factor = step_s // grid.step_s
        if step_s <= 0 or step_s % grid.step_s:
            reason = f"must be a whole multiple of the slot length ({grid.step_s} s)"
            raise InputError("NodeOffer.resampled", "step", step, reason)
        if grid.n % factor or grid.start_s % step_s:
            reason = (
                f"the window ({grid.n} slots of {grid.step_s} s from {grid.start.isoformat()}) "
                "must be whole ISPs on the clock of the step"
            )
            raise InputError("NodeOffer.resampled", "step", step, reason)
        if factor == 1:
            return self

        def mean(values):
            if values is None:
                return None
            return values.reshape(*values.shape[:-1], -1, factor).mean(axis=-1)

        def ends(values):
            return None if values is None else values[factor - 1 :: factor].copy()

        return replace(
            self,
            grid=TimeGrid(grid.start, timedelta(seconds=step_s), grid.n // factor),
            baseline_kw=mean(self.baseline_kw),
            power_min_kw=mean(self.power_min_kw),
            power_max_kw=mean(self.power_max_kw),
            options_kw=mean(self.options_kw),
            energy_min_kwh=ends(self.energy_min_kwh),
            energy_max_kwh=ends(self.energy_max_kwh),
        )


def _setting(problem, node, plan, window, rivals):
    """What an offer is made from (see :mod:`fera_flex.flexibility.sharing` for ``rivals``).

    Returns the problem with the node's share of every upstream limit, the
    node's set in it, the baseline plan, the node's baseline load (T,) [kW]
    and the window's first and stop slot.
    """
    if plan is None:
        plan = schedule(problem)
    if not isinstance(plan, ChargingPlan) or plan.problem.grid != problem.grid:
        raise InputError(
            "offer", "plan", type(plan).__name__, "must be a plan on the problem's grid"
        )
    index = problem.node_index(node)
    rival_indices = [problem.node_index(rival) for rival in rivals]
    load = problem.node_loads_kw(plan.charge_kw - plan.discharge_kw)
    shared = upstream_shared(problem, load, index, rival_indices)
    first, stop = _window(problem, window)
    return shared, aggregate(shared, index), plan, load[index], first, stop


def _window(problem: ChargingProblem, window) -> tuple[int, int]:
    """An offer window as ``(first, stop)`` slots of the problem's grid (default: the horizon)."""
    first, stop = (0, problem.n_slots) if window is None else window
    if not (isinstance(first, (int, np.integer)) and isinstance(stop, (int, np.integer))):
        raise InputError("offer", "window", window, "must be (first_slot, stop_slot) integers")
    if not 0 <= first < stop <= problem.n_slots:
        raise InputError(
            "offer", "window", window, f"must satisfy 0 <= first < stop <= {problem.n_slots}"
        )
    return int(first), int(stop)


def _rooms(flexibility: NodeFlexibility, baseline: NDArray, first: int, stop: int):
    """Each window slot's own up and down room around the baseline [kW], (T,) twice (0 outside).

    The set's per-slot extremes ``b({t})`` / ``p({t})`` over the slot length,
    which an offer's kept fractions are measured against.
    """
    least, most = flexibility.slot_power_range_kw(first, stop)
    up, down = np.zeros(baseline.size), np.zeros(baseline.size)
    up[first:stop] = np.maximum(most - baseline[first:stop], 0.0)
    down[first:stop] = np.maximum(baseline[first:stop] - least, 0.0)
    return up, down


def _kept(offered: NDArray, room: NDArray) -> float:
    total = float(room.sum())
    return 1.0 if total <= 0 else float(np.minimum(offered, room).sum() / total)


def _window_grid(problem: ChargingProblem, first: int, stop: int) -> TimeGrid:
    grid = problem.grid
    return TimeGrid(grid.start + timedelta(seconds=first * grid.step_s), grid.step_s, stop - first)
