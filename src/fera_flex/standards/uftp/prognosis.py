"""The D-Prognosis of a baseline plan: a congestion point's planned load per ISP of a period.

The power is the net EV load through the node's subtree (the aggregator's
portfolio at the congestion point, as the offers see it; not the node's
base load), in W, positive for consumption. A D-Prognosis covers every ISP
of its period; ISPs outside the plan's horizon get ``fill_w`` or are refused.
"""

from datetime import date, datetime

import numpy as np

from fera_flex.errors import InputError
from fera_flex.scheduling.plan import ChargingPlan
from fera_flex.standards.uftp._flex_message import UftpMessage, outgoing
from fera_flex.standards.uftp._periods import isp_slots, period
from fera_flex.standards.uftp._wire import render, write_isps
from fera_flex.standards.uftp.link import UftpLink
from fera_flex.units import w_from_kw

__all__ = ["d_prognosis"]


def d_prognosis(
    link: UftpLink,
    plan: ChargingPlan,
    node: int | str,
    day: date,
    *,
    revision: int,
    fill_w: int | None = None,
    now: datetime | None = None,
) -> UftpMessage:
    """The D-Prognosis of a node for one period from a (baseline) plan.

    Parameters
    ----------
    link : UftpLink
    plan : ChargingPlan
    node : int or str
        A node of the plan's problem that is one of the link's congestion points.
    day : date
        The period (a local date of the link's time zone).
    revision : int
        Revision, >= 1, incremented for each new prognosis of the period.
    fill_w : int, optional
        Power written for the period's ISPs outside the plan's horizon [W];
        by default such ISPs are an error (a D-Prognosis covers the whole period).
    now : datetime, optional
        TimeStamp (aware); the current time by default.

    Returns
    -------
    UftpMessage

    Examples
    --------
    >>> from datetime import date
    >>> import fera_flex as ff
    >>> from fera_flex.scenarios import residential_street
    >>> from fera_flex.standards.uftp import UftpLink
    >>> plan = ff.schedule(ff.ChargingProblem.from_scenario(residential_street()))
    >>> link = UftpLink(agr_domain="agr.example.com", dso_domain="dso.example.com",
    ...                 congestion_points={"lv-feeder": "ean.871685900000000001"})
    >>> message = d_prognosis(link, plan, "lv-feeder", date(2026, 3, 2), revision=1, fill_w=0)
    >>> 'Period="2026-03-02"' in message.xml, '<ISP Power="0" Start="1" Duration="' in message.xml
    (True, True)
    """
    where = "d_prognosis"
    if not isinstance(plan, ChargingPlan):
        raise InputError(where, "plan", type(plan).__name__, "must be a ChargingPlan")
    if isinstance(revision, bool) or not isinstance(revision, int) or revision < 1:
        raise InputError(where, "revision", revision, "must be an integer >= 1")
    if fill_w is not None and (isinstance(fill_w, bool) or not isinstance(fill_w, int)):
        raise InputError(where, "fill_w", fill_w, "must be an integer power [W]")
    problem = plan.problem
    index = problem.node_index(node)
    slot = isp_slots(problem.grid, period(day, link.zone, link.isp_s), where)
    outside = np.flatnonzero(slot < 0) + 1
    if outside.size and fill_w is None:
        raise InputError(
            where,
            "day",
            day.isoformat(),
            f"ISPs {outside[0]}..{outside[-1]} ({outside.size} of {slot.size}) are outside "
            "the plan's horizon: give fill_w or a plan covering the whole period",
        )
    load_kw = problem.node_loads_kw(plan.charge_kw - plan.discharge_kw)[index]
    power_w = np.full(slot.size, 0 if fill_w is None else fill_w, dtype=np.int64)
    power_w[slot >= 0] = np.rint(w_from_kw(load_kw[slot[slot >= 0]]))
    node_id = problem.node_ids[index]
    root, message_id, conversation_id = outgoing(
        "D-Prognosis", link, node_id, day, None, now, where
    )
    root.set("Revision", str(revision))
    write_isps(root, 1, power_w)
    return UftpMessage(message_id, conversation_id, render(root))
