"""What one S2 Resource Manager describes: the battery offer of a node, or of one session.

An :class:`S2Resource` is a battery offer (:func:`fera_flex.flexibility.battery_offer`)
with what S2 needs beside it: the problem a dispatch is disaggregated on,
the fill level at the window's start and the CommodityQuantity of its power.

- **A node** (:meth:`S2Resource.of_node`): the offer as made, e.g. by
  :func:`~fera_flex.flexibility.flexibility_offers` with ``shape="battery"``
  (offers of several nodes made together are jointly deliverable). The fill
  level is the energy the node's subtree draws from the window's start, so
  it starts at 0; the power is the subtree's net EV load, sent as
  ``ELECTRIC.POWER.3_PHASE_SYMMETRIC`` unless told otherwise (S2 has no
  quantity for an aggregate of loads on different phases; the node's phase
  limits are inside the offer already).
- **A session** (:meth:`S2Resource.of_session`): the battery offer of its
  node in the *session's problem*: the problem with only that session, every
  other one held at its baseline power (their load added to the nodes' base
  load and taken off the target bands; a shared EVSE's rating and the phase
  currents they leave become the session's own power limit). An
  activation of the session is then delivered with every other session at
  its baseline, so it is deliverable in the whole problem; disaggregate it
  on the session's problem (:attr:`S2Resource.problem`). The window is made
  of slots the session is plugged in for entirely (where an S2 fill rate is
  its power); the fill level is the energy it has drawn from the grid since
  plug-in. Before the window the session keeps its baseline (what it has
  drawn so far, when the window starts now), so the fill level starts at
  what the baseline drew, and an activation is compensated only after the
  window: for a window that runs to the departure, the offer's last energy
  band is the need (``energy_min_kwh / charge_efficiency``, less the draw
  before the window) up to the most it may take. The power
  is ``ELECTRIC.POWER.3_PHASE_SYMMETRIC`` for a three-phase session and the
  phase's own ``ELECTRIC.POWER.L1`` / ``L2`` / ``L3`` for a single-phase one
  (S2 gives an operation mode one electric power range, so a session on two
  phases cannot be described). Each session's offer holds every other
  session at its baseline: offers of several sessions, or of a session and
  its node, are alternatives, not to be activated together.

Resources and exports compare by identity (they hold arrays) and pickle.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from fera_flex.errors import InputError
from fera_flex.flexibility import NodeOffer, battery_offer
from fera_flex.scheduling.plan import ChargingPlan
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.schedule import schedule
from fera_flex.standards.s2._wire import ELECTRIC_QUANTITIES, MAX_ELEMENTS

__all__ = ["S2Resource"]

_THREE_PHASE = "ELECTRIC.POWER.3_PHASE_SYMMETRIC"


@dataclass(frozen=True, eq=False)
class S2Resource:
    """A battery offer of a node or a session, as one S2 resource (see the module documentation).

    Attributes
    ----------
    kind : {"node", "session"}
    resource_id : str
        The node id or the session id.
    problem : ChargingProblem
        The problem to disaggregate a dispatch on: the node's problem, or the
        session's own problem (the other sessions at their baseline).
    offer : NodeOffer
        The battery offer (on the problem's slots or resampled ISPs).
    fill_start_kwh : float
        The fill level at the window's start [kWh]: 0 for a node, the energy
        drawn since plug-in for a session.
    commodity_quantity : str
        The S2 CommodityQuantity of the power, e.g. ``"ELECTRIC.POWER.3_PHASE_SYMMETRIC"``.
    """

    kind: str
    resource_id: str
    problem: ChargingProblem
    offer: NodeOffer
    fill_start_kwh: float
    commodity_quantity: str

    def stretches(self) -> list[tuple[int, int]]:
        """``(first, stop)`` ISPs of each run of equal power bands, in order."""
        bands = np.column_stack([self.offer.power_min_kw, self.offer.power_max_kw])
        starts = [0, *(np.flatnonzero((bands[1:] != bands[:-1]).any(axis=1)) + 1).tolist()]
        return list(zip(starts, [*starts[1:], len(bands)], strict=True))

    @classmethod
    def of_node(
        cls,
        problem: ChargingProblem,
        offer: NodeOffer,
        commodity_quantity: str = _THREE_PHASE,
    ) -> "S2Resource":
        """A node's battery offer on ``problem`` as an S2 resource.

        Raises
        ------
        InputError
            For an offer that is not a battery offer of ``problem``, has more
            ISPs than S2 allows in a profile (288), or a CommodityQuantity
            that is not electric power.
        """
        where = "S2Resource.of_node"
        _check_offer(problem, offer, where)
        if commodity_quantity not in ELECTRIC_QUANTITIES:
            raise InputError(
                where,
                "commodity_quantity",
                commodity_quantity,
                f"must be an electric power quantity: {', '.join(ELECTRIC_QUANTITIES)}",
            )
        return cls("node", offer.node_id, problem, offer, 0.0, commodity_quantity)

    @classmethod
    def of_session(
        cls,
        problem: ChargingProblem,
        session: int | str,
        plan: ChargingPlan | None = None,
        window: tuple[int, int] | None = None,
    ) -> "S2Resource":
        """One session's battery offer as an S2 resource, the other sessions at their baseline.

        Parameters
        ----------
        problem : ChargingProblem
        session : int or str
            The session's index or id.
        plan : ChargingPlan, optional
            The baseline (scheduled when omitted).
        window : (int, int), optional
            First and stop slot; slots the session is plugged in for
            entirely (all of them when omitted).

        Raises
        ------
        InputError
            For an unknown session, one on two phases, a plan of another
            problem, a window with a slot the session is not plugged in for
            entirely, more than 288 slots, or a phase-current limit that the
            other sessions' discharge would make a minimum charging rate.
        """
        where = "S2Resource.of_session"
        if not isinstance(problem, ChargingProblem):
            kind = type(problem).__name__
            raise InputError(where, "problem", kind, "must be a ChargingProblem")
        index = _session_index(problem, session, where)
        if plan is None:
            plan = schedule(problem)
        if not isinstance(plan, ChargingPlan) or plan.problem.grid != problem.grid:
            kind = type(plan).__name__
            raise InputError(where, "plan", kind, "must be a plan on the problem's grid")
        full = np.flatnonzero(problem.presence[index] == 1.0)
        if full.size == 0:
            raise InputError(where, "session", session, "is not plugged in for a whole slot")
        first, stop = (int(full[0]), int(full[-1]) + 1) if window is None else _pair(window)
        inside = problem.presence[index, max(first, 0) : stop] == 1.0
        if not 0 <= first < stop <= problem.n_slots or not inside.all():
            raise InputError(
                where,
                "window",
                window,
                f"must be slots session {problem.session_ids[index]!r} is plugged in for "
                f"entirely ({int(full[0])}..{int(full[-1])})",
            )
        quantity = _session_quantity(problem, index, where)
        own, baseline = _session_problem(problem, plan, index, first, where)
        offer = battery_offer(own, int(problem.node_of_session[index]), baseline, (first, stop))
        _check_offer(own, offer, where)
        net = plan.charge_kw[index] - plan.discharge_kw[index]
        drawn = float((net * problem.slot_energy_h[index])[:first].sum())
        return cls("session", problem.session_ids[index], own, offer, drawn, quantity)


def _check_offer(problem: ChargingProblem, offer: Any, where: str) -> None:
    """A battery offer made on ``problem`` (or resampled from one), short enough for S2."""
    if not isinstance(offer, NodeOffer) or offer.shape != "battery":
        kind = getattr(offer, "shape", type(offer).__name__)
        raise InputError(where, "offer", kind, "must be a battery offer (NodeOffer)")
    base = offer.fine or offer
    grid = problem.grid
    first, stop = base.window
    if (
        not isinstance(problem, ChargingProblem)
        or offer.node_id not in problem.node_ids
        or base.grid.step_s != grid.step_s
        or base.grid.start_s != grid.start_s + first * grid.step_s
        or stop > grid.n
    ):
        raise InputError(where, "problem", type(problem).__name__, "must be the offer's problem")
    if offer.grid.n > MAX_ELEMENTS:
        raise InputError(
            where,
            "offer",
            f"{offer.grid.n} ISPs",
            f"S2 profiles hold at most {MAX_ELEMENTS} elements: use a shorter window "
            "or coarser ISPs (NodeOffer.resampled)",
        )


def _pair(window: Any) -> tuple[int, int]:
    """``(first, stop)`` of a window given as two integers, else (-1, -1): no window."""
    pair = isinstance(window, (tuple, list)) and len(window) == 2
    if pair and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in window):
        return int(window[0]), int(window[1])
    return -1, -1


def _session_index(problem: ChargingProblem, session: Any, where: str) -> int:
    if isinstance(session, str) and session in problem.session_ids:
        return problem.session_ids.index(session)
    integer = isinstance(session, (int, np.integer)) and not isinstance(session, bool)
    if integer and 0 <= session < problem.n_sessions:
        return int(session)
    raise InputError(where, "session", session, "no such session index or id")


def _session_quantity(problem: ChargingProblem, index: int, where: str) -> str:
    """3-phase symmetric for three phases, the phase itself for one; two are refused."""
    phases = np.flatnonzero(problem.session_phases[index])
    if phases.size == 3:
        return _THREE_PHASE
    if phases.size == 1:
        return f"ELECTRIC.POWER.L{int(phases[0]) + 1}"
    raise InputError(
        where,
        "session",
        problem.session_ids[index],
        "draws on two phases: S2 gives an operation mode one electric power range",
    )


def _session_problem(
    problem: ChargingProblem, plan: ChargingPlan, index: int, first: int, where: str
) -> tuple[ChargingProblem, ChargingPlan]:
    """The problem of one session with every other one fixed at its baseline, and its baseline.

    The others' net load is added to the base load of their nodes (so node
    import and export limits hold for the sum) and taken off every target
    band it passes; what they leave of a shared EVSE's rating and of every
    phase-current limit above the session (on the phases the session draws
    on, a session on ``k`` phases drawing ``1 / k`` on each) becomes the
    session's power limit, and the phase limits are dropped. Before the
    window (``first``) the session's node is held at the session's baseline
    by its target band, which the offer treats as a limit: what it has drawn
    when the window starts is its fill level then.
    """
    net = plan.charge_kw - plan.discharge_kw
    others = net.copy()
    others[index] = 0.0
    direct = np.zeros((problem.n_nodes, problem.n_slots))
    np.add.at(direct, problem.node_of_session, others)
    through = problem.node_loads_kw(others)
    cap = problem.power_max_kw[index].copy()
    evse = problem.evse_of_session[index]
    if evse >= 0:
        sharing = problem.evse_of_session == evse
        cap = np.minimum(cap, problem.evse_power_max_kw[evse] - others[sharing].sum(axis=0))
    path = problem.ancestors()[problem.node_of_session[index]]
    limited = [n for n in path[path >= 0] if np.isfinite(problem.phase_current_max_a[n]).any()]
    if limited:
        phases = problem.session_phases
        count = phases[index].sum()
        up_kw, down_kw = problem.node_phase_room_kw()
        for phase in np.flatnonzero(phases[index]):
            on_phase = np.where(phases[:, phase, None], others / phases.sum(axis=1)[:, None], 0.0)
            load = problem.node_loads_kw(on_phase)
            for n in limited:
                cap = np.minimum(cap, count * (up_kw[n] - load[n]))
                if (down_kw[n] - load[n] > 0).any():
                    raise InputError(
                        where,
                        "session",
                        problem.session_ids[index],
                        f"the others' discharge at node {problem.node_ids[n]!r} would make "
                        "its phase-current limit a minimum charging rate: not supported",
                    )
    # the baseline met every limit: never below it (only float rounding of the sums above)
    cap = np.maximum(cap, plan.charge_kw[index])
    target_min = problem.node_target_min_kw - through
    target_max = problem.node_target_max_kw - through
    node = problem.node_of_session[index]
    target_min[node, :first] = target_max[node, :first] = net[index, :first]
    own = problem.select([index]).replace(
        power_max_kw=cap[None, :],
        base_load_kw=problem.base_load_kw + direct,
        node_target_min_kw=target_min,
        node_target_max_kw=target_max,
        phase_current_max_a=np.inf,
    )
    baseline = ChargingPlan(
        problem=own,
        charge_kw=plan.charge_kw[[index]],
        discharge_kw=plan.discharge_kw[[index]],
        status=plan.status,
        backend=plan.backend,
    )
    return own, baseline
