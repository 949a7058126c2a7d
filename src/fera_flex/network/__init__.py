"""Network flow algorithms on float data: min-cost flow by the network simplex.

:func:`min_cost_flow` solves ``min cost @ x`` over arc flows within lower and
upper bounds under flow conservation; the scheduling ``flow`` backend
(:mod:`fera_flex.scheduling.backends.flow`) poses charging problems as such
networks.
"""

from fera_flex.network.mincost import FlowSolution, min_cost_flow

__all__ = ["FlowSolution", "min_cost_flow"]
