"""FlexOffers from options offers, and the DSO's FlexOrders read back as dispatches.

A FlexOffer is written per congestion point (a node) and period from an
options offer (:func:`fera_flex.flexibility.options_offer`): one OfferOption
per option, its ISP powers the **change** against the baseline in W (the
spec: "for each ISP, the change in consumption or production offered"; all
USEF flexibility is a deviation from the baseline), its Price the option's
opportunity cost. A FlexOrder names the offer, the option and an
ActivationFactor ``f``; the dispatch it asks for is the node load
``baseline + f * (option - baseline)`` on the offer's window, computed from
the offer's own kW profiles (the W integers on the wire are only their
rounding), ready for :func:`fera_flex.disaggregate`.

Partial activation stays deliverable: the node's set of feasible load
profiles is convex (a g-polymatroid, or an LP's polytope), and so is its
projection onto the window; the option is a member, and so is the baseline
when the baseline plan meets every need. Every ``baseline + f * (option -
baseline)`` with ``f`` in ``[0, 1]`` is then a member too, in particular for
``f`` in ``[MinActivationFactor, 1]``. :func:`flex_offer` checks both ends
before it writes anything, and a MinActivationFactor below 1 is refused when
the baseline itself is not deliverable. The price of a partial activation
is at most ``f`` times the option's: the plan's cost is convex along the
segment and no more than the baseline's at ``f = 0``. Like the options
themselves, this is for the node's own subtree (limits shared with other
nodes above it are not allocated, see ``NodeFlexibility.upstream_limits``).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import ROUND_CEILING, Decimal
from typing import Any
from xml.etree import ElementTree

import numpy as np
from numpy.typing import NDArray

from fera_flex._time import require_aware
from fera_flex.errors import InputError
from fera_flex.flexibility import NodeOffer, aggregate
from fera_flex.models.fera import FlexibilityDispatch
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.standards.uftp._flex_message import outgoing, received, timestamp
from fera_flex.standards.uftp._periods import period_of_slots
from fera_flex.standards.uftp._wire import MAX_MESSAGE_BYTES, isp_powers, parse, render, write_isps
from fera_flex.standards.uftp.link import UftpLink
from fera_flex.standards.uftp.requests import ReceivedFlexRequest
from fera_flex.timeseries import TimeGrid
from fera_flex.units import w_from_kw

__all__ = [
    "DELIVERABLE_TOLERANCE_KW",
    "ReceivedFlexOrder",
    "SentFlexOffer",
    "flex_offer",
    "read_flex_order",
]

DELIVERABLE_TOLERANCE_KW = 1e-6
"""Slack per slot when checking that an option and the baseline are deliverable [kW]."""

_PRICE = Decimal("0.0001")
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_FACTOR = Decimal("0.01")


@dataclass(frozen=True)
class SentFlexOffer:
    """A FlexOffer we wrote, kept to check and read the FlexOrders that answer it.

    Attributes
    ----------
    message_id, conversation_id, xml : str
    node_id, congestion_point : str
    period : date
    expires : datetime
    offer : NodeOffer
        The options offer it carries (its kW profiles give the dispatch).
    option_references : tuple of str
    first_isp : int
        The ISP number of the offer's first slot (1-based).
    isp_power_w : ndarray (k, n_isps) of int
        Each option's change against the baseline per ISP, as written [W].
    prices : tuple of Decimal
        Each option's Price [currency].
    min_activation_factor : Decimal
    currency : str
    """

    message_id: str
    conversation_id: str
    xml: str
    node_id: str
    congestion_point: str
    period: date
    expires: datetime
    offer: NodeOffer
    option_references: tuple[str, ...]
    first_isp: int
    isp_power_w: NDArray[np.int64]
    prices: tuple[Decimal, ...]
    min_activation_factor: Decimal
    currency: str


def flex_offer(
    link: UftpLink,
    problem: ChargingProblem,
    offer: NodeOffer,
    *,
    expires: datetime,
    min_activation_factor: Any = 1,
    request: ReceivedFlexRequest | None = None,
    d_prognosis_message_id: str | None = None,
    baseline_reference: str | None = None,
    now: datetime | None = None,
) -> SentFlexOffer:
    """The UFTP FlexOffer of an options offer (see the module documentation).

    Parameters
    ----------
    link : UftpLink
    problem : ChargingProblem
        The problem the offer was made on (to check that it is deliverable).
    offer : NodeOffer
        An options offer whose window lies in one period.
    expires : datetime
        ExpirationDateTime (aware).
    min_activation_factor : float, str or Decimal
        The least ActivationFactor the DSO may order, in [0.01, 1], two decimals.
    request : ReceivedFlexRequest, optional
        The FlexRequest answered (a solicited offer, in the request's
        conversation; its node and period, and a window covering a
        ``Requested`` slot). Unsolicited when omitted, and then
        ``d_prognosis_message_id`` or ``baseline_reference`` names the baseline.
    d_prognosis_message_id, baseline_reference : str, optional
    now : datetime, optional
        TimeStamp (aware); the current time by default.

    Returns
    -------
    SentFlexOffer

    Raises
    ------
    InputError
        For an offer that is not an options offer of ``problem`` at one of the
        link's congestion points, a window across a period boundary, an option
        that is not deliverable, or a MinActivationFactor below 1 with a
        baseline that is not deliverable.
    """
    where = "flex_offer"
    if not isinstance(offer, NodeOffer) or offer.shape != "options" or offer.options_kw is None:
        raise InputError(
            where,
            "offer",
            getattr(offer, "shape", type(offer).__name__),
            "must be an options offer",
        )
    factor = _factor(min_activation_factor, where)
    now = datetime.now(timezone.utc) if now is None else require_aware(where, "now", now)
    expires = require_aware(where, "expires", expires)
    if expires <= now:
        raise InputError(
            where, "expires", timestamp(expires), f"must be after the TimeStamp {timestamp(now)}"
        )
    if d_prognosis_message_id is not None and not _UUID.fullmatch(str(d_prognosis_message_id)):
        raise InputError(
            where, "d_prognosis_message_id", d_prognosis_message_id, "must be a MessageID (UUID)"
        )
    if request is None and d_prognosis_message_id is None and baseline_reference is None:
        raise InputError(
            where,
            "d_prognosis_message_id",
            None,
            "an unsolicited offer names its baseline: a D-Prognosis or a baseline_reference",
        )
    if not isinstance(problem, ChargingProblem) or (
        problem.grid.start_s + offer.window[0] * problem.grid.step_s != offer.grid.start_s
        or problem.grid.step_s != offer.grid.step_s
    ):
        raise InputError(where, "problem", type(problem).__name__, "must be the offer's problem")
    congestion_point = link.entity_address(offer.node_id, where)
    found, first_isp, per_slot = period_of_slots(
        problem.grid, *offer.window, link.zone, link.isp_s, where
    )
    if request is not None:
        _check_answers(request, offer, found.day, problem.grid, where)
    _check_deliverable(problem, offer, factor, where)
    change_w = np.rint(w_from_kw(offer.options_kw - offer.baseline_kw)).astype(np.int64)
    isp_power_w = np.repeat(change_w, per_slot, axis=1)
    prices = tuple(_price(cost) for cost in offer.option_cost_eur)
    references = tuple(f"option-{k}" for k in range(len(prices)))
    conversation_id = None if request is None else request.conversation_id
    root, message_id, conversation_id = outgoing(
        "FlexOffer", link, offer.node_id, found.day, conversation_id, now, where
    )
    root.set("ExpirationDateTime", timestamp(expires))
    if request is None:
        root.set("Unsolicited", "true")
    else:
        root.set("FlexRequestMessageID", request.message_id)
    if d_prognosis_message_id is not None:
        root.set("D-PrognosisMessageID", str(d_prognosis_message_id))
    if baseline_reference is not None:
        root.set("BaselineReference", str(baseline_reference))
    root.set("Currency", "EUR")
    for reference, price, powers in zip(references, prices, isp_power_w, strict=True):
        option = ElementTree.SubElement(
            root,
            "OfferOption",
            {"OptionReference": reference, "Price": str(price), "MinActivationFactor": str(factor)},
        )
        write_isps(option, first_isp, powers)
    return SentFlexOffer(
        message_id=message_id,
        conversation_id=conversation_id,
        xml=render(root),
        node_id=offer.node_id,
        congestion_point=congestion_point,
        period=found.day,
        expires=expires,
        offer=offer,
        option_references=references,
        first_isp=first_isp,
        isp_power_w=isp_power_w,
        prices=prices,
        min_activation_factor=factor,
        currency="EUR",
    )


@dataclass(frozen=True)
class ReceivedFlexOrder:
    """A FlexOrder from the DSO, checked against the offer it answers.

    Attributes
    ----------
    message_id, conversation_id, order_reference : str
    offer : SentFlexOffer
    option_reference : str
    activation_factor : Decimal
    price : Decimal
    currency : str
    dispatch : FlexibilityDispatch
        The ordered node load on the offer's window [kW]: pass it to
        :func:`fera_flex.disaggregate`.
    """

    message_id: str
    conversation_id: str
    order_reference: str
    offer: SentFlexOffer
    option_reference: str
    activation_factor: Decimal
    price: Decimal
    currency: str
    dispatch: FlexibilityDispatch


def read_flex_order(
    link: UftpLink,
    xml: str | bytes,
    offers: Sequence[SentFlexOffer],
    *,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> ReceivedFlexOrder:
    """Read a FlexOrder (unsealed XML) into the dispatch it orders.

    Parameters
    ----------
    link : UftpLink
    xml : str or bytes
        The FlexOrder, e.g. from :func:`~fera_flex.standards.uftp.unseal`.
    offers : sequence of SentFlexOffer
        The offers we sent that it may answer.
    max_bytes : int
        Largest message accepted [bytes].

    Raises
    ------
    InputError
        Naming the FlexOrder, the field and the value: an unknown offer or
        congestion point, a period, time zone, ISP duration, option or
        currency other than the offer's, an ActivationFactor outside
        ``[MinActivationFactor, 1]``, ISPs outside the period or not the
        offer's, an order after the offer expired, or an unsolicited order.
    """
    where = "read_flex_order"
    message = received(parse(xml, where, max_bytes), "FlexOrder", link, where)
    attributes = message.attributes
    if attributes.boolean("Unsolicited"):
        raise attributes.error(
            "Unsolicited", "true", "an order without our FlexOffer cannot be checked: rejected"
        )
    offer_id = attributes.text("FlexOfferMessageID")
    sent = next((item for item in offers if item.message_id == offer_id), None)
    if sent is None:
        raise attributes.error("FlexOfferMessageID", offer_id, "unknown offer")
    attributes.expect(
        "CongestionPoint", sent.congestion_point, "must be the offer's congestion point"
    )
    attributes.expect("Period", sent.period.isoformat(), "must be the offer's period")
    attributes.expect("Currency", sent.currency, "must be the offer's currency")
    if message.time_stamp > sent.expires:
        raise attributes.error(
            "TimeStamp",
            timestamp(message.time_stamp),
            f"after the offer expired ({timestamp(sent.expires)})",
        )
    references = sent.option_references
    reference = attributes.optional("OptionReference")
    if reference is None and len(references) == 1:
        reference = references[0]
    if reference not in references:
        raise attributes.error(
            "OptionReference", reference, f"must be one of the offer's {references}"
        )
    option = references.index(reference)
    factor = attributes.decimal("ActivationFactor", "1.00")
    if not sent.min_activation_factor <= factor <= 1:
        raise attributes.error(
            "ActivationFactor",
            str(factor),
            f"must lie in [MinActivationFactor {sent.min_activation_factor}, 1.00]",
        )
    ordered = isp_powers(message.isps, message.period.n_isps, lambda isp: isp.integer("Power"))
    offered = {sent.first_isp + j: int(w) for j, w in enumerate(sent.isp_power_w[option])}
    if ordered != offered:
        differ = sorted(set(ordered.items()) ^ set(offered.items()))[0][0]
        given, wanted = (
            "absent" if isps.get(differ) is None else f"{isps[differ]} W"
            for isps in (ordered, offered)
        )
        raise attributes.error(
            "ISP",
            f"ISP {differ}: {given}",
            f"must copy the offer's ISPs exactly ({wanted} offered)",
        )
    baseline = sent.offer.baseline_kw
    power_kw = baseline + float(factor) * (sent.offer.options_kw[option] - baseline)
    return ReceivedFlexOrder(
        message_id=message.message_id,
        conversation_id=message.conversation_id,
        order_reference=attributes.text("OrderReference"),
        offer=sent,
        option_reference=reference,
        activation_factor=factor,
        price=attributes.decimal("Price"),
        currency=sent.currency,
        dispatch=FlexibilityDispatch(
            id=message.message_id,
            node_id=sent.node_id,
            offer_id=sent.message_id,
            start=sent.offer.grid.start,
            step_s=sent.offer.grid.step_s,
            power_kw=power_kw.tolist(),
        ),
    )


def _factor(value: Any, where: str) -> Decimal:
    """A MinActivationFactor in [0.01, 1] with at most two decimals."""
    try:
        factor = Decimal(str(value))
    except ArithmeticError:
        factor = None
    if factor is None or not factor.is_finite() or factor != factor.quantize(_FACTOR):
        raise InputError(
            where, "min_activation_factor", value, "must be a number with two decimals"
        )
    if not Decimal("0.01") <= factor <= 1:
        raise InputError(where, "min_activation_factor", value, "must lie in [0.01, 1]")
    return factor.quantize(_FACTOR)


def _price(cost_eur: float) -> Decimal:
    """An option's Price: its opportunity cost rounded up to 0.0001, never below 0."""
    return max(
        Decimal(repr(float(cost_eur))).quantize(_PRICE, rounding=ROUND_CEILING), Decimal(0)
    ).quantize(_PRICE)


def _check_answers(
    request: ReceivedFlexRequest, offer: NodeOffer, day: date, grid: TimeGrid, where: str
) -> None:
    """A solicited offer is for the request's node and period and covers a Requested slot."""
    if not isinstance(request, ReceivedFlexRequest) or request.grid != grid:
        raise InputError(
            where, "request", type(request).__name__, "must be a FlexRequest read on this problem"
        )
    if (request.node_id, request.period) != (offer.node_id, day):
        raise InputError(
            where,
            "request",
            f"FlexRequest {request.message_id}",
            f"is for {request.node_id!r} on {request.period}, the offer for "
            f"{offer.node_id!r} on {day}",
        )
    if not request.requested[slice(*offer.window)].any():
        raise InputError(
            where,
            "offer.window",
            offer.window,
            f"covers none of the Requested slots of FlexRequest {request.message_id}",
        )


def _check_deliverable(
    problem: ChargingProblem, offer: NodeOffer, factor: Decimal, where: str
) -> None:
    """Every option (and for partial activation the baseline) is a member of the node's set."""
    flexibility = aggregate(problem, offer.node_id)
    first, stop = offer.window
    profiles = [("options_kw", k, option) for k, option in enumerate(offer.options_kw)]
    if factor < 1:
        profiles.append(("baseline_kw", None, offer.baseline_kw))
    for name, index, profile in profiles:
        lower = np.full(problem.n_slots, -np.inf)
        upper = np.full(problem.n_slots, np.inf)
        lower[first:stop] = profile - DELIVERABLE_TOLERANCE_KW
        upper[first:stop] = profile + DELIVERABLE_TOLERANCE_KW
        if flexibility.within(lower, upper):
            continue
        if index is None:
            raise InputError(
                where,
                "min_activation_factor",
                str(factor),
                "the baseline is not deliverable on its own (a need it cannot meet?), "
                "so only a full activation is: use 1",
            )
        raise InputError(where, f"offer.{name}[{index}]", "profile", "is not deliverable")
