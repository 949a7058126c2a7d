"""A node's deliverable offer over a window, and what every offer shape shares.

:class:`NodeOffer` is the offer object of all three shapes (``box``,
``battery``, ``options``; see :mod:`fera_flex.flexibility.offers` and
:mod:`fera_flex.flexibility.battery`), with :meth:`NodeOffer.resampled`
(coarser ISPs, still deliverable) and :meth:`NodeOffer.to_fera`. The
private helpers here set an offer up: the node's set, the baseline plan and
load, the window, each slot's own room and the fractions an offer keeps.
"""

from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cached_property
from weakref import ref

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fera_flex.errors import InputError
from fera_flex.flexibility.aggregate import NodeFlexibility, aggregate
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
    fine : NodeOffer or None
        The offer on the problem's slots that a resampled offer came from
        (see :meth:`lifted`).
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
    fine: "NodeOffer | None" = field(default=None, repr=False, compare=False)

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

        An activation on the coarse ISPs fixes each ISP's mean power.

        - box: each bound is the mean of its slots' bounds; a coarse profile
          is delivered by the fine one that takes, in every slot of an ISP,
          the same fraction of the slot's range (in the fine box, same energy);
        - battery: the fine profile keeps the ISP's deviation from the
          baseline in each of its slots, so the power band is the slots'
          narrowest, and the fill level, linear within an ISP, stays inside
          the fine band when its value at each ISP end is at most the fine
          band's least over that ISP and the next;
        - options: each option is the mean of its slots (its fine profile
          delivers it).

        The kept fractions shrink by what the coarser band gives up.

        Raises
        ------
        InputError
            When ``step`` is not a whole multiple of the slot length, the
            window is not a whole number of ISPs, or its start is not on the
            clock of ``step`` (e.g. hourly ISPs starting at a quarter past).
        """
        step_s = int(step.total_seconds()) if isinstance(step, timedelta) else int(step)
        grid = self.grid
        if step_s <= 0 or step_s % grid.step_s:
            reason = f"must be a whole multiple of the slot length ({grid.step_s} s)"
            raise InputError("NodeOffer.resampled", "step", step, reason)
        factor = step_s // grid.step_s
        if grid.n % factor or grid.start_s % step_s:
            reason = (
                f"the window ({grid.n} slots of {grid.step_s} s from {grid.start.isoformat()}) "
                "must be whole ISPs on the clock of the step"
            )
            raise InputError("NodeOffer.resampled", "step", step, reason)
        if factor == 1:
            return self

        def blocks(values):
            return values.reshape(*values.shape[:-1], -1, factor)

        baseline = blocks(self.baseline_kw).mean(axis=-1)
        up, down = self.power_max_kw - self.baseline_kw, self.baseline_kw - self.power_min_kw
        changes = {}
        if self.shape == "battery":
            up_kw, down_kw = blocks(up).min(axis=-1), blocks(down).min(axis=-1)
            cumulative = np.cumsum(self.baseline_kw)[factor - 1 :: factor] * grid.dt_h
            fine_cumulative = np.cumsum(self.baseline_kw) * grid.dt_h
            high = _next_two_least(blocks(self.energy_max_kwh - fine_cumulative).min(axis=-1))
            low = _next_two_least(blocks(fine_cumulative - self.energy_min_kwh).min(axis=-1))
            changes = {"energy_min_kwh": cumulative - low, "energy_max_kwh": cumulative + high}
        else:
            up_kw, down_kw = blocks(up).mean(axis=-1), blocks(down).mean(axis=-1)
        if self.options_kw is not None:
            changes["options_kw"] = blocks(self.options_kw).mean(axis=-1)
        return replace(
            self,
            fine=self,
            grid=TimeGrid(grid.start, timedelta(seconds=step_s), grid.n // factor),
            baseline_kw=baseline,
            power_min_kw=baseline - down_kw,
            power_max_kw=baseline + up_kw,
            kept_up=self.kept_up * _retained(up_kw * factor, up),
            kept_down=self.kept_down * _retained(down_kw * factor, down),
            **changes,
        )

    def lifted(self, power_kw: ArrayLike) -> tuple[TimeGrid, NDArray[np.float64]]:
        """The activation on the problem's slots that delivers ``power_kw`` (one value per ISP).

        For an offer that was not resampled, ``power_kw`` itself. Otherwise
        the fine profile of :meth:`resampled`'s proof (for options: an option,
        or a point between the baseline and one, on the fine slots), ready to
        be disaggregated as a dispatch on the returned grid.

        Raises
        ------
        InputError
            When ``power_kw`` has the wrong length, is not finite, or lies
            outside the offer (out of the power range or the energy range, or,
            for options, on no segment from the baseline to an option).
        """
        power = np.asarray(power_kw, dtype=np.float64)
        where = f"NodeOffer {self.node_id!r}"
        if power.shape != self.baseline_kw.shape or not np.isfinite(power).all():
            reason = f"must be {self.baseline_kw.size} finite powers, one per ISP"
            raise InputError(where, "power_kw", power.tolist(), reason)
        tol = 1e-9 * max(1.0, float(np.abs(self.power_max_kw).max(initial=0.0)))
        outside = (power < self.power_min_kw - tol) | (power > self.power_max_kw + tol)
        if outside.any():
            isp = int(np.flatnonzero(outside)[0])
            reason = f"ISP {isp} is outside the offer's power range"
            raise InputError(where, "power_kw", power.tolist(), reason)
        if self.energy_min_kwh is not None:
            energy = np.cumsum(power) * self.grid.dt_h
            beyond = (energy < self.energy_min_kwh - tol) | (energy > self.energy_max_kwh + tol)
            if beyond.any():
                isp = int(np.flatnonzero(beyond)[0])
                reason = f"the energy to the end of ISP {isp} is outside the offer's energy range"
                raise InputError(where, "power_kw", power.tolist(), reason)
        if self.shape == "options":
            return self._lifted_option(power, where, tol)
        if self.fine is None:
            return self.grid, power
        fine = self.fine
        factor = fine.baseline_kw.size // power.size
        if self.shape == "battery":
            deviation = np.repeat(power - self.baseline_kw, factor)
            return fine.lifted(fine.baseline_kw + deviation)
        width = self.power_max_kw - self.power_min_kw
        share = np.divide(
            power - self.power_min_kw, width, out=np.zeros_like(power), where=width > 0
        )
        fine_width = fine.power_max_kw - fine.power_min_kw
        return fine.lifted(fine.power_min_kw + np.repeat(share, factor) * fine_width)

    def _lifted_option(self, power, where, tol):
        """An options offer's activation: a point from the baseline towards one option."""
        for k, option in enumerate(self.options_kw):
            step = option - self.baseline_kw
            reach = float(step @ step)
            factor = 0.0 if reach == 0 else float((power - self.baseline_kw) @ step) / reach
            on = 0.0 <= factor <= 1.0 + 1e-12
            if on and np.allclose(self.baseline_kw + factor * step, power, rtol=0, atol=tol):
                if self.fine is None:
                    return self.grid, power
                fine = self.fine
                return fine.grid, fine.baseline_kw + factor * (
                    fine.options_kw[k] - fine.baseline_kw
                )
        reason = "is neither an option nor between the baseline and one"
        raise InputError(where, "power_kw", power.tolist(), reason)


def _next_two_least(values: NDArray) -> NDArray[np.float64]:
    """``min(values[h], values[h + 1])`` per ISP (the last one: its own)."""
    return np.minimum(values, np.append(values[1:], np.inf))


def _retained(coarse: NDArray, fine: NDArray) -> float:
    total = float(fine.sum())
    return 1.0 if total <= 0 else float(coarse.sum()) / total


@dataclass(frozen=True)
class _Market:
    """What an offer of one node is made from (private).

    Attributes
    ----------
    problem : ChargingProblem
        The node's subtree (the whole problem for a root), its limit cut to
        its share of the limits above it (:mod:`fera_flex.flexibility.sharing`)
        and, where the baseline leaves a need short, that need lowered to
        what the baseline delivers (no session gets less than planned).
    node : int
        The node in ``problem``.
    net_kw : ndarray (n, T)
        The baseline's net power of ``problem``'s sessions [kW].
    baseline_kw : ndarray (T,)
        The node's baseline load [kW].
    first, stop : int
        The window's slots.
    plan : ChargingPlan
        The baseline plan of the whole problem.
    """

    problem: ChargingProblem
    node: int
    net_kw: NDArray[np.float64]
    baseline_kw: NDArray[np.float64]
    first: int
    stop: int
    plan: ChargingPlan

    @cached_property
    def flexibility(self) -> NodeFlexibility:
        """The node's set in ``problem`` (made when first asked for)."""
        return aggregate(self.problem, self.node)


def _market(problem, node: int, plan: ChargingPlan, window, share) -> _Market:
    """The market of one node's offer (see :class:`_Market`) with its ``share`` of the limits above.

    ``share``: the node's EV limit per slot cut to its share
    (:func:`~fera_flex.flexibility.sharing.upstream_shares_kw`), or None.
    """
    first, stop = _window(problem, window)
    net_kw, load = _baseline(plan)
    sessions = problem.sessions_under(node)
    market, at = problem.subtree(node), 0
    changes = {}
    if share is not None:
        capacity = market.node_capacity_kw.copy()
        capacity[at] = np.minimum(capacity[at], market.node_base_load_kw[at] + share)
        changes["node_capacity_kw"] = capacity
    delivered = problem.delivered_kwh(plan.charge_kw, plan.discharge_kw)[sessions]
    if (delivered < market.energy_min_kwh).any():
        changes["energy_min_kwh"] = np.minimum(market.energy_min_kwh, delivered)
        changes["energy_max_kwh"] = market.energy_max_kwh
    if changes:
        market = market.replace(**changes)
    return _Market(
        problem=market,
        node=at,
        net_kw=net_kw[sessions],
        baseline_kw=load[node],
        first=first,
        stop=stop,
        plan=plan,
    )


def _baseline_plan(problem: ChargingProblem, plan) -> ChargingPlan:
    """The plan an offer is made against: ``plan``, or ``schedule(problem)`` when None."""
    if plan is None:
        return schedule(problem)
    if not isinstance(plan, ChargingPlan) or plan.problem.grid != problem.grid:
        raise InputError(
            "offer", "plan", type(plan).__name__, "must be a plan on the problem's grid"
        )
    return plan


_BASELINES: dict[int, tuple] = {}
"""id(plan) -> (weak reference to the plan, its net power, its node loads)."""


def _baseline(plan: ChargingPlan) -> tuple[NDArray, NDArray]:
    """A plan's net power per session (n, T) and load through every node (m, T) [kW].

    Kept while the plan lives (plans are not hashable: by identity): the
    offers of every node of one plan share them.
    """
    key = id(plan)
    known = _BASELINES.get(key)
    if known is not None and known[0]() is plan:
        return known[1], known[2]
    net_kw = plan.charge_kw - plan.discharge_kw
    load = plan.problem.node_loads_kw(net_kw)
    _BASELINES[key] = (ref(plan, lambda _, key=key: _BASELINES.pop(key, None)), net_kw, load)
    return net_kw, load


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
