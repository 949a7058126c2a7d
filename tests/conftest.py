"""Test-suite configuration shared by every test package."""

import os

from hypothesis import HealthCheck, settings

# JIT compilation makes the first example of a kernel test slow: no deadline.
settings.register_profile(
    "default",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    parent=settings.get_profile("default"),
    derandomize=True,
    print_blob=True,
)
settings.load_profile("ci" if os.environ.get("CI") else "default")
