"""Solver backends: each module defines ``solve_lp(lp, options) -> LPSolution``."""
