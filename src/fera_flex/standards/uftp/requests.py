"""A DSO's FlexRequest read as a band on the node's load, which ``schedule`` then follows.

A FlexRequest ISP gives ``MinPower`` and ``MaxPower``: the bounds of the
"space to deviate from the baseline" [W] (the baseline is our D-Prognosis,
i.e. the baseline plan). ``Requested`` ISPs are the congestion the DSO asks
us to relieve (they have a direction: ``MinPower >= 0`` or ``MaxPower <=
0``), ``Available`` ISPs the room left in the other ISPs. Both read as the
node band ``baseline + [MinPower, MaxPower]`` [kW] on the slots they cover
(a slot of several ISPs takes the intersection of their bounds), and
:meth:`ReceivedFlexRequest.apply` puts it into the problem as node target
bands, as a dispatch is (:mod:`fera_flex.scheduling.dispatch`): soft, so
``schedule`` first delivers the energy, then keeps the node's load as close
to the band as it can, then minimises cost, and
:func:`fera_flex.flexibility.dispatch_deviation_kw` says how far it stays.

ISPs outside the plan's horizon are left out when ``Available`` and refused
when ``Requested`` (nothing planned there could relieve them).
"""

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
from numpy.typing import NDArray

from fera_flex.errors import InputError
from fera_flex.scheduling.plan import ChargingPlan
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.standards.uftp._flex_message import received
from fera_flex.standards.uftp._periods import isp_slots
from fera_flex.standards.uftp._wire import MAX_MESSAGE_BYTES, Attributes, isp_powers, parse
from fera_flex.standards.uftp.link import UftpLink
from fera_flex.timeseries import TimeGrid
from fera_flex.units import kw_from_w

__all__ = ["ReceivedFlexRequest", "read_flex_request"]

_DISPOSITIONS = ("Available", "Requested")


@dataclass(frozen=True)
class ReceivedFlexRequest:
    """A FlexRequest from the DSO as a band on one node's load.

    Attributes
    ----------
    message_id, conversation_id : str
    revision : int
    node_id : str
    period : date
    expires : datetime
    grid : TimeGrid
        The plan's grid, which the band is on.
    band_min_kw, band_max_kw : ndarray (T,)
        The node's net EV load band per slot of the plan's grid [kW], NaN
        where the request says nothing.
    requested : ndarray (T,) of bool
        Slots holding a ``Requested`` ISP.
    """

    message_id: str
    conversation_id: str
    revision: int
    node_id: str
    period: date
    expires: datetime
    grid: TimeGrid
    band_min_kw: NDArray[np.float64]
    band_max_kw: NDArray[np.float64]
    requested: NDArray[np.bool_]

    def apply(self, problem: ChargingProblem) -> ChargingProblem:
        """The problem with the band as the node's target band where the request names a slot."""
        where = "ReceivedFlexRequest.apply"
        if not isinstance(problem, ChargingProblem) or problem.grid != self.grid:
            raise InputError(
                where, "problem", type(problem).__name__, "must be on the plan's time grid"
            )
        index = problem.node_index(self.node_id)
        named = ~np.isnan(self.band_min_kw)
        low = problem.node_target_min_kw.copy()
        high = problem.node_target_max_kw.copy()
        low[index, named] = self.band_min_kw[named]
        high[index, named] = self.band_max_kw[named]
        return problem.replace(node_target_min_kw=low, node_target_max_kw=high)


def read_flex_request(
    link: UftpLink, xml: str | bytes, plan: ChargingPlan, *, max_bytes: int = MAX_MESSAGE_BYTES
) -> ReceivedFlexRequest:
    """Read a FlexRequest (unsealed XML) as a band around the baseline plan.

    Parameters
    ----------
    link : UftpLink
    xml : str or bytes
    plan : ChargingPlan
        The baseline (what our D-Prognosis for the period said).
    max_bytes : int
        Largest message accepted [bytes].

    Raises
    ------
    InputError
        Naming the FlexRequest, the field and the value: an unknown
        congestion point, another time zone or ISP duration, ISPs outside the
        period, MinPower above MaxPower, no ``Requested`` ISP, a ``Requested``
        ISP without a direction or outside the plan's horizon.
    """
    where = "read_flex_request"
    if not isinstance(plan, ChargingPlan):
        raise InputError(where, "plan", type(plan).__name__, "must be a ChargingPlan")
    message = received(parse(xml, where, max_bytes), "FlexRequest", link, where)
    attributes = message.attributes
    bounds = isp_powers(message.isps, message.period.n_isps, _bounds)
    if not any(requested for _, _, requested in bounds.values()):
        raise attributes.error("ISP", "no Requested ISP", "at least one ISP must be Requested")
    problem = plan.problem
    slots = isp_slots(problem.grid, message.period, where)
    index = problem.node_index(message.node_id)
    baseline = problem.node_loads_kw(plan.charge_kw - plan.discharge_kw)[index]
    low = np.full(problem.n_slots, -np.inf)
    high = np.full(problem.n_slots, np.inf)
    requested = np.zeros(problem.n_slots, dtype=bool)
    for number, (min_w, max_w, is_requested) in sorted(bounds.items()):
        slot = int(slots[number - 1])
        if slot < 0:
            if is_requested:
                raise attributes.error(
                    "ISP", f"ISP {number}", "Requested outside the plan's horizon"
                )
            continue
        low[slot] = max(low[slot], baseline[slot] + kw_from_w(min_w))
        high[slot] = min(high[slot], baseline[slot] + kw_from_w(max_w))
        requested[slot] |= is_requested
        if low[slot] > high[slot]:
            raise attributes.error(
                "ISP", f"ISP {number}", f"its bounds leave no power for slot {slot}"
            )
    free = np.isinf(low)
    return ReceivedFlexRequest(
        message_id=message.message_id,
        conversation_id=message.conversation_id,
        revision=attributes.integer("Revision"),
        node_id=message.node_id,
        period=message.period.day,
        expires=attributes.moment("ExpirationDateTime"),
        grid=problem.grid,
        band_min_kw=np.where(free, np.nan, low),
        band_max_kw=np.where(free, np.nan, high),
        requested=requested,
    )


def _bounds(isp: Attributes) -> tuple[int, int, bool]:
    """MinPower, MaxPower [W] and whether the ISP is Requested, checked."""
    disposition = isp.text("Disposition", "Available")
    if disposition not in _DISPOSITIONS:
        raise isp.error("Disposition", disposition, f"must be one of {_DISPOSITIONS}")
    min_w, max_w = isp.integer("MinPower"), isp.integer("MaxPower")
    if min_w > max_w:
        raise isp.error("MinPower", min_w, f"exceeds MaxPower {max_w}")
    if disposition == "Requested" and min_w < 0 < max_w:
        raise isp.error(
            "MaxPower",
            f"MinPower {min_w}, MaxPower {max_w}",
            "a Requested ISP needs a direction (MinPower >= 0 or MaxPower <= 0)",
        )
    return min_w, max_w, disposition == "Requested"
