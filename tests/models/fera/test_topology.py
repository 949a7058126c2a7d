import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from fera_flex.models.fera import GridTopology


@st.composite
def trees(draw):
    n = draw(st.integers(1, 30))
    nodes = [{"id": "n0", "kind": "transformer", "import_capacity_kw": 1000.0}]
    evse = 0
    for index in range(1, n):
        parent = draw(st.integers(0, index - 1))
        count = draw(st.integers(0, 3))
        uids = [f"E{evse + k}" for k in range(count)]
        evse += count
        nodes.append(
            {"id": f"n{index}", "kind": "feeder", "parent": f"n{parent}", "evse_uids": uids}
        )
    order = draw(st.permutations(range(n)))
    return [nodes[i] for i in order]


@given(trees())
def test_random_trees_are_valid_and_ordered(nodes):
    topology = GridTopology.model_validate({"nodes": nodes})
    order = topology.ordered()
    assert len(order) == len(nodes) and order[0].id == "n0"
    parents = topology.parent_indices()
    assert parents[0] == -1
    assert all(0 <= parents[i] < i for i in range(1, len(order)))
    for node in nodes:
        for uid in node.get("evse_uids", []):
            assert topology.node_of_evse(uid.lower()).id == node["id"]
            assert topology.ancestors(node["id"])[-1].id == "n0"


@given(trees(), st.data())
def test_reparenting_into_own_subtree_is_a_cycle(nodes, data):
    topology = GridTopology.model_validate({"nodes": nodes})
    non_root = [n for n in nodes if n["id"] != "n0"]
    if not non_root:
        return
    node = data.draw(st.sampled_from(non_root))
    descendants = [n for n in nodes if node["id"] in [a.id for a in topology.ancestors(n["id"])]]
    target = data.draw(st.sampled_from(descendants))
    node["parent"] = target["id"]
    with pytest.raises(ValidationError, match="cycle"):
        GridTopology.model_validate({"nodes": nodes})


def problems_of(nodes):
    with pytest.raises(ValidationError) as info:
        GridTopology.model_validate({"nodes": nodes})
    return str(info.value)


def test_every_tree_problem_reported_at_once():
    text = problems_of(
        [
            {"id": "root", "kind": "transformer"},
            {"id": "root2", "kind": "transformer"},
            {"id": "a", "kind": "feeder", "parent": "ghost"},
            {"id": "b", "kind": "feeder", "parent": "root", "evse_uids": ["E1"]},
            {"id": "b", "kind": "feeder", "parent": "root"},
            {"id": "c", "kind": "feeder", "parent": "root", "evse_uids": ["e1"]},
        ]
    )
    for fragment in (
        "duplicate node id 'b'",
        "exactly one root",
        "'root', 'root2'",
        "node 'a' has unknown parent 'ghost'",
        "EVSE 'e1' is attached to nodes 'b' and 'c'",
    ):
        assert fragment in text


def test_no_root():
    assert "exactly one root" in problems_of(
        [{"id": "a", "kind": "feeder", "parent": "b"}, {"id": "b", "kind": "feeder", "parent": "a"}]
    )


def test_node_field_rules():
    assert "evse_phases names EVSE 'X'" in problems_of(
        [{"id": "a", "kind": "feeder", "evse_uids": ["E1"], "evse_phases": {"X": ["L1"]}}]
    )
    assert "repeats a phase" in problems_of(
        [{"id": "a", "kind": "feeder", "evse_uids": ["E1"], "evse_phases": {"E1": ["L1", "L1"]}}]
    )
    assert "import_capacity_kw" in problems_of(
        [{"id": "a", "kind": "feeder", "import_capacity_kw": -5}]
    )
    series = {"start": "2026-03-02T00:00:00Z", "step_s": 900, "values": [10, -1]}
    assert "export_capacity_kw: value -1.0 is below 0" in problems_of(
        [{"id": "a", "kind": "feeder", "export_capacity_kw": series}]
    )
    assert "kind" in problems_of([{"id": "a", "kind": "substation"}])
    assert "identifier" in problems_of([{"id": " a", "kind": "feeder"}])


def test_lookups_name_what_is_missing():
    topology = GridTopology.model_validate({"nodes": [{"id": "a", "kind": "feeder"}]})
    with pytest.raises(KeyError, match="zz"):
        topology.node("zz")
    with pytest.raises(KeyError, match="E9"):
        topology.node_of_evse("E9")
