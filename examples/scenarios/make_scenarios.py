"""Regenerate the bundled scenario files from their seeded builders.

Run from the repository root: ``.venv/bin/python examples/scenarios/make_scenarios.py``.
The test suite checks that the committed files equal what the builders produce.
"""

from pathlib import Path

from fera_flex.scenarios import office_depot, residential_street

HERE = Path(__file__).resolve().parent
BUILDERS = {"office_depot.json": office_depot, "residential_street.json": residential_street}

if __name__ == "__main__":
    for name, build in BUILDERS.items():
        build().save(HERE / name)
        print(f"wrote {HERE / name}")
