"""Aggregated flexibility per grid node: exact sets, their envelopes, and (next) offers.

:func:`aggregate` gives a node's :class:`NodeFlexibility`, the exact set of
aggregate load profiles its EVs can draw (a generalized polymatroid where
the structure allows, flagged otherwise), with its outer
:class:`FlexibilityEnvelope`; :func:`disaggregate` turns an activated node
profile back into per-session charging.
"""

from fera_flex.flexibility._oracles import EmptyFlexibilityError
from fera_flex.flexibility.aggregate import FlexibilityEnvelope, NodeFlexibility, aggregate
from fera_flex.flexibility.disaggregate import disaggregate, dispatch_deviation_kw

__all__ = [
    "EmptyFlexibilityError",
    "FlexibilityEnvelope",
    "NodeFlexibility",
    "aggregate",
    "disaggregate",
    "dispatch_deviation_kw",
]
