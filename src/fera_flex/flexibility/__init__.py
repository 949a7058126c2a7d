"""Aggregated flexibility per grid node: exact sets, their envelopes, and (next) offers.

:func:`aggregate` gives a node's :class:`NodeFlexibility`, the exact set of
aggregate load profiles its EVs can draw (a generalized polymatroid where
the structure allows, flagged otherwise), with its outer
:class:`FlexibilityEnvelope`; :func:`disaggregate` turns an activated node
profile back into per-session charging; :func:`flexibility_offers` makes
deliverable box, battery and option offers per node, jointly deliverable
across nodes.
"""

from fera_flex.flexibility._oracles import EmptyFlexibilityError
from fera_flex.flexibility.aggregate import FlexibilityEnvelope, NodeFlexibility, aggregate
from fera_flex.flexibility.disaggregate import disaggregate, dispatch_deviation_kw
from fera_flex.flexibility.offers import (
    NodeOffer,
    battery_offer,
    box_offer,
    flexibility_offers,
    options_offer,
)

__all__ = [
    "EmptyFlexibilityError",
    "FlexibilityEnvelope",
    "NodeFlexibility",
    "NodeOffer",
    "aggregate",
    "battery_offer",
    "box_offer",
    "disaggregate",
    "dispatch_deviation_kw",
    "flexibility_offers",
    "options_offer",
]
