import json
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fera_flex.errors import InputError
from fera_flex.scenarios import generate, office_depot, residential_street

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scenarios"


@pytest.mark.parametrize(
    ("name", "build"),
    [("office_depot.json", office_depot), ("residential_street.json", residential_street)],
)
def test_bundled_files_equal_their_builders(name, build):
    assert json.loads(build().model_dump_json()) == json.loads((EXAMPLES / name).read_text())


def test_office_depot_shape():
    scenario = office_depot()
    evses = scenario.evses()
    assert len(evses) == 40
    assert {round(evse.max_power_kw, 1) for _, evse in evses.values()} == {11.0, 22.1}
    kinds = {p.profile_type.value for p in scenario.charging_preferences.values()}
    assert kinds == {"CHEAP", "FAST", "GREEN", "REGULAR"}
    feeders = [n for n in scenario.topology.nodes if n.kind.value == "feeder"]
    assert len(feeders) == 2 and all(n.parent == "trafo" for n in feeders)
    assert scenario.building_loads[0].generation_kw is not None
    assert "EVnetNL" in scenario.description


def test_residential_street_shape():
    scenario = residential_street()
    assert len(scenario.evses()) == 20
    feeder = scenario.topology.root
    _, _, caps = feeder.import_capacity_kw.to_arrays()
    assert caps.min() < caps.max()  # the evening limit is tighter
    arrivals = [s.start_date_time.hour + 1 for s in scenario.sessions]  # local (CET) hours
    assert all(15 <= h <= 23 for h in arrivals)


def test_same_seed_same_scenario():
    assert generate(n_evses=9, seed=3) == generate(n_evses=9, seed=3)
    assert generate(n_evses=9, seed=3) != generate(n_evses=9, seed=4)


@settings(max_examples=30)
@given(
    st.integers(1, 40),
    st.integers(0, 90),
    st.integers(1, 4),
    st.integers(1, 5),
    st.floats(0.05, 2.0),
    st.floats(0, 1),
)
def test_generated_scenarios_are_consistent(n_evses, n_sessions, n_feeders, depth, factor, share):
    scenario = generate(
        n_evses,
        n_sessions,
        n_feeders,
        depth,
        seed=n_evses,
        capacity_factor=factor,
        arrival_estimate_share=share,
    )
    assert len(scenario.sessions) + len(scenario.arrival_estimates) == n_sessions
    attached = [uid for node in scenario.topology.nodes for uid in node.evse_uids]
    assert sorted(attached) == sorted(evse.uid for _, evse in scenario.evses().values())
    levels = {
        node.id: len(scenario.topology.ancestors(node.id)) for node in scenario.topology.nodes
    }
    assert max(levels.values()) == depth
    for session in scenario.sessions:
        prefs = scenario.preferences_for(session.id)
        assert prefs.departure_time > session.start_date_time
        assert scenario.horizon.start <= session.start_date_time < scenario.horizon.end


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_evses": 0}, "n_evses"),
        ({"n_evses": 2.5}, "n_evses"),
        ({"n_sessions": -1}, "n_sessions"),
        ({"n_feeders": 0}, "n_feeders"),
        ({"depth": 0}, "depth"),
        ({"capacity_factor": 0}, "capacity_factor"),
        ({"arrival_estimate_share": 1.5}, "arrival_estimate_share"),
        ({"start": datetime(2026, 3, 2)}, "start"),
        ({"step_s": 0}, "step_s"),
    ],
)
def test_bad_arguments_named(kwargs, field):
    with pytest.raises(InputError) as info:
        generate(**kwargs)
    assert info.value.field == field
