"""Scenario builders: a seeded synthetic generator and two realistic Dutch sites.

A front end: it may import every layer.
"""

from fera_flex.scenarios.arrays import random_problem
from fera_flex.scenarios.generate import generate
from fera_flex.scenarios.sites import office_depot, residential_street

__all__ = ["generate", "office_depot", "random_problem", "residential_street"]
