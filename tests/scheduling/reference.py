"""An independent reference solve of a StandardLP with scipy's HiGHS (linprog / milp)."""

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from fera_flex.scheduling.standard_form import StandardLP

OPTIMAL, INFEASIBLE = 0, 2
REFERENCE_MIP_GAP = 1e-9


def reference(lp: StandardLP) -> tuple[int, float]:
    """(scipy status, objective): status 0 optimal, 2 infeasible; objective nan unless optimal."""
    if lp.is_mip:
        result = milp(
            lp.cost,
            integrality=lp.integrality.astype(int),
            bounds=Bounds(lp.col_lo, lp.col_hi),
            constraints=LinearConstraint(lp.matrix, lp.row_lo, lp.row_hi),
            options={"mip_rel_gap": REFERENCE_MIP_GAP},
        )
    else:
        rows = lp.matrix.tocsr()
        equal = lp.row_lo == lp.row_hi
        upper = ~equal & np.isfinite(lp.row_hi)
        lower = ~equal & np.isfinite(lp.row_lo)
        result = linprog(
            lp.cost,
            A_ub=sp.vstack([rows[upper], -rows[lower]]),
            b_ub=np.concatenate([lp.row_hi[upper], -lp.row_lo[lower]]),
            A_eq=rows[equal],
            b_eq=lp.row_lo[equal],
            bounds=np.column_stack([lp.col_lo, lp.col_hi]),
            method="highs",
        )
    objective = result.fun + lp.offset if result.status == OPTIMAL else np.nan
    return result.status, objective
