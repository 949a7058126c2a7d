"""The documentation runs and stays true to the code.

- every Python snippet of the pages in ``RUNNABLE`` runs (a page's snippets in order, in one
  namespace, from the repository root, as a reader would paste them);
- every page with Python snippets is in ``RUNNABLE`` or says in ``NOT_RUN`` why not;
- every relative link of the README and the pages points to a file (and heading) that exists,
  and the README links every page;
- the scenario page's complete example is a valid scenario that plans within its limits;
- every name the nomenclature lists exists on the object it names.
"""

import dataclasses
import importlib
import json
import re
from pathlib import Path

import pytest

import fera_flex

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RUNNABLE = [
    "concepts.md",
    "flexibility.md",
    "getting-started.md",
    "ocpi.md",
    "optimiser.md",
    "profiles.md",
    "standards.md",
]
NOT_RUN = {
    "distributed.md": "its snippets start a process pool and a Dask cluster (spawned workers "
    "re-import the caller); tests/test_distributed.py runs the same calls",
}
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def snippets(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), flags=re.DOTALL)


@pytest.mark.parametrize("page", RUNNABLE)
def test_page_snippets_run(page, monkeypatch):
    found = snippets(page)
    assert found, f"{page} has no Python snippet"
    monkeypatch.chdir(ROOT)
    namespace: dict = {"__name__": f"docs.{page}"}
    for code in found:
        exec(compile(code, f"docs/{page}", "exec"), namespace)


def test_every_page_with_python_is_run():
    with_python = {page.name for page in DOCS.glob("*.md") if snippets(page.name)}
    assert with_python == set(RUNNABLE) | set(NOT_RUN)
    assert not set(RUNNABLE) & set(NOT_RUN)


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[`*_\[\]()]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {
        slug(line.lstrip("#")) for line in path.read_text().splitlines() if line.startswith("#")
    }


@pytest.mark.parametrize("path", [ROOT / "README.md", *sorted(DOCS.glob("*.md"))], ids=str)
def test_relative_links_resolve(path):
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.DOTALL)
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # an absolute URL
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        assert linked.exists(), f"{path.name}: {target}"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), f"{path.name}: {target}"


def test_readme_links_every_page():
    linked = {target.partition("#")[0] for target in LINK.findall((ROOT / "README.md").read_text())}
    missing = [page.name for page in DOCS.glob("*.md") if f"docs/{page.name}" not in linked]
    assert not missing, missing


def test_scenario_example_is_a_valid_scenario_that_plans():
    [example] = re.findall(
        r"## A small complete example.*?```json\n(.*?)```", (DOCS / "scenario.md").read_text(), re.S
    )
    scenario = fera_flex.Scenario.model_validate_json(example)
    assert scenario.name == json.loads(example)["name"]
    problem = fera_flex.ChargingProblem.from_scenario(scenario)
    assert problem.n_sessions == 2  # the session and the arrival estimate
    plan = fera_flex.schedule(problem)
    assert fera_flex.verify_plan(problem, plan) == []


# -- the nomenclature names things that exist ---------------------------------------------------


def _objects() -> dict:
    from fera_flex.distributed import SiteResult
    from fera_flex.flexibility import FlexibilityEnvelope, NodeFlexibility, NodeOffer
    from fera_flex.scheduling import objective
    from fera_flex.standards.openadr import AvailableFlex, FlexInterval, NlFlexBaseline
    from fera_flex.standards.oscp import ForecastedBlock
    from fera_flex.standards.uftp import ReceivedFlexRequest, SentFlexOffer

    return {
        "grid": fera_flex.TimeGrid,
        "profile": fera_flex.Profile,
        "Profile": fera_flex.Profile,
        "plan": fera_flex.ChargingPlan,
        "ChargingProblem": fera_flex.ChargingProblem,
        "ObjectiveOptions": fera_flex.ObjectiveOptions,
        "objective": objective,
        "NodeFlexibility": NodeFlexibility,
        "FlexibilityEnvelope": FlexibilityEnvelope,
        "NodeOffer": NodeOffer,
        "NlFlexBaseline": NlFlexBaseline,
        "FlexInterval": FlexInterval,
        "AvailableFlex": AvailableFlex,
        "SentFlexOffer": SentFlexOffer,
        "ReceivedFlexRequest": ReceivedFlexRequest,
        "ForecastedBlock": ForecastedBlock,
        "SiteResult": SiteResult,
    }


_BARE = (  # where a name without an owner is looked up, in order
    "fera_flex.scheduling.problem:ChargingProblem",
    "fera_flex.scheduling.plan:ChargingPlan",
    "fera_flex",
    "fera_flex.flexibility",
    "fera_flex.scheduling.objective",
    "fera_flex.standards.openadr",
    "fera_flex.standards.uftp",
    "fera_flex.units",
)


def _has(owner, name: str) -> bool:
    if dataclasses.is_dataclass(owner) and name in {f.name for f in dataclasses.fields(owner)}:
        return True
    return name in getattr(owner, "model_fields", {}) or hasattr(owner, name)


def _owners_of_bare_names():
    for spec in _BARE:
        module, _, attribute = spec.partition(":")
        found = importlib.import_module(module)
        yield getattr(found, attribute) if attribute else found


def _sections(text: str) -> dict[str, list[list[str]]]:
    """Heading -> the rows of its tables, as lists of cells."""
    found: dict[str, list[list[str]]] = {}
    heading = ""
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
        elif line.startswith("|") and not set(line) <= set("|- :"):
            found.setdefault(heading, []).append(
                [cell.strip() for cell in line.strip("|").split("|")]
            )
    return found


def _names(cell: str) -> list[str]:
    """The code names in a table cell (calls without their arguments; no units or constants)."""
    names = []
    for token in re.findall(r"`([^`]+)`", cell):
        name = token.split("(")[0].strip()
        if re.fullmatch(r"\.?[A-Za-z_][\w.]*", name) and not name.isupper():
            names.append(name)
    return names


def test_nomenclature_names_exist():
    objects = _objects()
    bare = list(_owners_of_bare_names())
    sections = _sections((DOCS / "nomenclature.md").read_text())
    columns = {  # heading -> the table column that holds code names
        "Symbols of the optimisation model": 3,
        "Time: `TimeGrid`, `Profile`, `ProfileBatch`": 0,
        "The problem: `ChargingProblem`": 0,
        "The plan: `ChargingPlan`": 0,
        "Flexibility": 0,
        "Standards": 1,
    }
    checked, missing = 0, []
    for heading, column in columns.items():
        owner_of_dots = None
        for row in sections[heading][1:]:  # after the header row
            for name in _names(row[column]):
                if name.startswith("."):  # an attribute of the owner named before it
                    owner, attribute = owner_of_dots, name[1:]
                elif "." in name:
                    prefix, attribute = name.split(".", 1)
                    owner = owner_of_dots = objects.get(prefix)
                    if owner is None:
                        missing.append(f"{heading}: {name} (unknown owner)")
                        continue
                else:
                    owner = next((o for o in bare if _has(o, name)), None)
                    attribute = name
                    if owner is None:
                        missing.append(f"{heading}: {name}")
                        continue
                checked += 1
                if not _has(owner, attribute):
                    missing.append(f"{heading}: {name}")
    from fera_flex.models import fera
    from fera_flex.models.scenario import Horizon

    for row in sections["FERA objects (`fera_flex.models.fera`, the scenario file)"][1:]:
        [kind] = _names(row[0])
        model = Horizon if kind == "Horizon" else getattr(fera, kind)
        for name in _names(row[1]):
            checked += 1
            if name not in model.model_fields:
                missing.append(f"{kind}.{name}")
    assert not missing, missing
    assert checked > 150
