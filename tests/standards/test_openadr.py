"""OpenADR 3.1.0 + NL-Flex: schema validity, rules, exact available flex, and a full round trip.

Every message is checked against the OpenADR 3.1.0 OpenAPI document itself
(``tests/fixtures/openadr/openadr3.yaml``, ``$ref``s resolved against the
whole document, formats checked), never against our own reading of it.
"""

import copy
import json
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import numpy as np
import openapi_schema_validator as oas
import pytest
import scipy.sparse as sp
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from scipy.optimize import linprog

from fera_flex.errors import InputError
from fera_flex.flexibility import EmptyFlexibilityError, aggregate
from fera_flex.models.scenario import Scenario
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.schedule import schedule
from fera_flex.scheduling.verify import verify_plan
from fera_flex.standards.openadr import (
    MAX_BODY_BYTES,
    NlFlexRuleError,
    ack_report,
    available_flex,
    block_flex_kw,
    delivered_flex_report,
    flex_delta_report,
    offtake_profile,
    parse_event,
    parse_report,
    read_baseline_event,
    read_flex_delta_report,
    read_flex_event,
    regulation_report,
    to_json,
    usage_forecast_report,
    with_flex_dispatch,
)
from fera_flex.standards.openadr.models import (
    Interval,
    IntervalPeriod,
    format_duration,
    parse_duration,
    resolve_intervals,
)
from fera_flex.timeseries import Profile, TimeGrid

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "openadr" / "openadr3.yaml"
SHARED = Path("/work/shared/standards/openadr-3.1.0/openadr3.yaml")
OCPP_SCHEMAS = ROOT / "tests" / "fixtures" / "ocpp_schemas" / "v201"
SP = "8712423014022"  # an EAN13 with a valid check digit
UTC = timezone.utc
HOUR = timedelta(hours=1)

_REGISTRY = Registry().with_resource(
    "urn:openadr3",
    Resource.from_contents(yaml.safe_load(FIXTURE.read_text()), default_specification=DRAFT4),
)


def schema_errors(name: str, message: dict) -> list:
    """The OpenAPI document's errors for a message against ``components/schemas/<name>``."""
    validator = oas.OAS30Validator(
        {"$ref": f"urn:openadr3#/components/schemas/{name}"},
        registry=_REGISTRY,
        format_checker=oas.oas30_format_checker,
    )
    return list(validator.iter_errors(message))


def assert_valid(name: str, message: dict) -> None:
    errors = schema_errors(name, message)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def stored_report(report) -> dict:
    """The report as the VTN stores it, checked against ``reportRequest`` and then ``report``."""
    assert_valid("reportRequest", to_json(report))
    stored = to_json(report.stored("rep-1", "client-1", datetime(2026, 3, 2, 23, tzinfo=UTC)))
    assert_valid("report", stored)
    assert (
        parse_report(json.dumps(stored)).model_dump()
        == report.stored("rep-1", "client-1", datetime(2026, 3, 2, 23, tzinfo=UTC)).model_dump()
    )
    return stored


# -- the DSO's side: events as a VTN serves them -------------------------------------------------


def _metadata(event_id: str) -> dict:
    return {
        "id": event_id,
        "createdDateTime": "2026-03-01T12:00:00Z",
        "modificationDateTime": "2026-03-01T12:00:00Z",
        "objectType": "EVENT",
        "programID": "nl-flex-program",
    }


def _descriptor(payload_type: str) -> dict:
    return {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": payload_type, "units": "KW"}


def baseline_event(group: str, active_kw: float, reserved_kw: float = 0.0) -> dict:
    open_stream = {"reportIntervals": "OPEN_INTERVALS", "frequency": 0, "repeat": -1}
    event = {
        **_metadata("baseline-1"),
        "targets": [group],
        "payloadDescriptors": [_descriptor("ACTIVE_BASELINE"), _descriptor("RESERVED_BASELINE")],
        "reportDescriptors": [
            {"payloadType": "ACTIVE_FLEX_DELTA", **open_stream},
            {"payloadType": "RESERVED_FLEX_DELTA", **open_stream},
        ],
        "intervals": [
            {
                "id": 0,
                "payloads": [
                    {"type": "ACTIVE_BASELINE", "values": [active_kw]},
                    {"type": "RESERVED_BASELINE", "values": [reserved_kw]},
                ],
            }
        ],
    }
    assert_valid("event", event)
    return event


def _at(start: datetime) -> str:
    return start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def flex_event(group: str, window_start: datetime, blocks: list) -> dict:
    """A FLEX event: ``blocks`` of (start, duration, flex_kw) and their adjacent hours."""
    window_end = window_start + timedelta(days=1)
    parts = []
    for start, duration, flex_kw in blocks:
        if start - HOUR >= window_start:
            parts.append((start - HOUR, HOUR, 0))
        parts.append((start, duration, flex_kw))
        if start + duration + HOUR <= window_end:
            parts.append((start + duration, HOUR, 0))
    event = {
        **_metadata("flex-1"),
        "targets": [group],
        "intervalPeriod": {"start": _at(window_start), "duration": "P1D"},
        "payloadDescriptors": [_descriptor("FLEX")],
        "reportDescriptors": [
            {"payloadType": "ACK", "frequency": 0},
            {"payloadType": "DELIVERED_FLEX", "reportIntervals": "INTERVALS"},
        ],
        "intervals": [
            {
                "id": k,
                "intervalPeriod": {"start": _at(start), "duration": format_duration(duration)},
                "payloads": [{"type": "FLEX", "values": [flex_kw]}],
            }
            for k, (start, duration, flex_kw) in enumerate(sorted(parts))
        ],
    }
    assert_valid("event", event)
    return event


DAY = datetime(2026, 3, 3, tzinfo=UTC)
EVENT = flex_event("group-1", DAY, [(DAY + 17 * HOUR, 2 * HOUR, 4.0)])


# -- an LP of our own (scipy), for the largest reduction on a block ------------------------------


def _under(problem: ChargingProblem, node: int) -> np.ndarray:
    """Which sessions are attached at or below ``node`` (walking node_parent ourselves)."""
    inside = np.zeros(problem.n_sessions, dtype=bool)
    for i, leaf in enumerate(problem.node_of_session):
        k = int(leaf)
        while k >= 0 and not inside[i]:
            inside[i] = k == node
            k = int(problem.node_parent[k])
    return inside


def lp_reduction_kw(problem, node, baseline_kw, block, adjacent) -> float:
    """max r: the node's EV load <= baseline - r on ``block``, <= baseline on ``adjacent``.

    Independent of fera_flex's formulations: V1G sessions with boxes, energy
    ranges, shared EVSE ratings and node limits (the subtree of ``node``);
    ``-inf`` when infeasible.
    """
    assert problem.discharge_max_kw.max() == 0 and problem.power_min_kw.max() == 0
    assert not np.isfinite(problem.curve_a_kw).any()
    assert not np.isfinite(problem.phase_current_max_a).any()
    keep = _under(problem, node)
    pairs = np.argwhere((problem.power_max_kw > 0) & keep[:, None])
    n_var = len(pairs) + 1
    rows, cols, vals, upper = [], [], [], []

    def row(entries, bound):
        k = len(upper)
        for col, value in entries:
            rows.append(k)
            cols.append(col)
            vals.append(value)
        upper.append(bound)

    hours = problem.presence * problem.grid.dt_h * problem.charge_efficiency[:, None]
    for i in np.flatnonzero(keep):
        cols_i = np.flatnonzero(pairs[:, 0] == i)
        weights = hours[i, pairs[cols_i, 1]]
        row(zip(cols_i, weights, strict=True), problem.energy_max_kwh[i])
        row(zip(cols_i, -weights, strict=True), -problem.energy_min_kwh[i])
    for k in range(problem.n_nodes):
        inside = _under(problem, k)
        if not (inside & keep).any():
            continue
        nodes_below = [j for j in range(problem.n_nodes) if _is_below(problem, j, k)]
        base_kw = problem.base_load_kw[nodes_below].sum(axis=0)
        room = np.maximum(problem.node_capacity_kw[k] - base_kw, 0.0)
        for t in range(problem.n_slots):
            cols_t = np.flatnonzero((pairs[:, 1] == t) & inside[pairs[:, 0]])
            if cols_t.size and np.isfinite(room[t]):
                row(((c, 1.0) for c in cols_t), room[t])
    for e, _uid in enumerate(problem.evse_ids):
        members = problem.evse_of_session == e
        for t in range(problem.n_slots):
            cols_t = np.flatnonzero((pairs[:, 1] == t) & members[pairs[:, 0]])
            if cols_t.size:
                row(((c, 1.0) for c in cols_t), problem.evse_power_max_kw[e, t])
    for t in range(problem.n_slots):
        cols_t = np.flatnonzero(pairs[:, 1] == t)
        if t in block:
            entries = [(c, 1.0) for c in cols_t] + [(n_var - 1, 1.0)]
            row(entries, baseline_kw)
        elif t in adjacent:
            row(((c, 1.0) for c in cols_t), baseline_kw)
    a = sp.csr_matrix((vals, (rows, cols)), shape=(len(upper), n_var))
    bounds = [(0.0, problem.power_max_kw[i, t]) for i, t in pairs] + [(None, None)]
    cost = np.zeros(n_var)
    cost[-1] = -1.0  # maximise r
    result = linprog(cost, A_ub=a, b_ub=upper, bounds=bounds, method="highs")
    if result.status == 2:
        return -math.inf
    assert result.status == 0, result.message
    return float(result.x[-1])


def _is_below(problem, j, k) -> bool:
    while j >= 0:
        if j == k:
            return True
        j = int(problem.node_parent[j])
    return False


# -- models and the OpenAPI document -------------------------------------------------------------


def test_fixture_is_the_shared_document_unchanged():
    if not SHARED.exists():
        pytest.skip("the shared standards folder is not on this machine")
    assert FIXTURE.read_bytes() == SHARED.read_bytes()


def test_events_parse_and_write_back_unchanged():
    for event in (baseline_event("group-1", 120.5, 3.25), EVENT):
        written = to_json(parse_event(json.dumps(event)))
        assert_valid("event", written)
        descriptors = written.pop("reportDescriptors")
        assert written == {k: v for k, v in event.items() if k != "reportDescriptors"}
        for sent, out in zip(event["reportDescriptors"], descriptors, strict=True):
            assert out.items() >= sent.items()  # the schema's defaults are written explicitly
        assert parse_event(written | {"reportDescriptors": descriptors}) == parse_event(event)
    with pytest.raises(ValidationError, match="objectType"):  # valid for the schema; not an event
        parse_event({**EVENT, "objectType": "PROGRAM"})
    extra = {**EVENT, "vendorNote": {"kept": True}}
    assert to_json(parse_event(extra))["vendorNote"] == {"kept": True}


def _set(path, value):
    def change(event):
        target = event
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


BROKEN = [
    (("programID",), "nl flex"),
    (("createdDateTime",), "2026-03-01T12:00:00"),
    (("createdDateTime",), 1_772_000_000),
    (("targets", 0), {"type": "GROUP", "values": ["group-1"]}),  # the 3.0.x form
    (("priority",), -1),
    (("objectType",), "EVENTS"),
    (("reportDescriptors", 0, "reportIntervals"), "SOMETIMES"),
    (("payloadDescriptors", 0, "objectType"), "REPORT_PAYLOAD_DESCRIPTOR"),
    (("intervals", 1, "intervalPeriod", "duration"), "3H"),
    (("intervals", 1, "intervalPeriod", "start"), "2026-03-03"),
    (("intervals", 1, "id"), "0"),
    (("intervals", 1, "id"), 2**31),
    (("intervals", 1, "payloads", 0, "values", 0), {"x": 1.0}),
    (("intervals", 1, "payloads", 0, "type"), ""),
]


@pytest.mark.parametrize(("path", "value"), BROKEN)
def test_broken_event_is_rejected_where_the_schema_rejects_it(path, value):
    event = copy.deepcopy(EVENT)
    _set(path, value)(event)
    schema_paths = [tuple(error.absolute_path) for error in schema_errors("event", event)]
    assert schema_paths  # the OpenAPI document rejects it ...
    with pytest.raises(ValidationError) as info:  # ... and so do we, naming the same field
        parse_event(json.dumps(event))
    locations = [error["loc"] for error in info.value.errors()]
    for where in schema_paths:
        assert any(loc[: len(where)] == where for loc in locations), (where, locations)
    assert path in [loc[: len(path)] for loc in locations]
    if not isinstance(value, dict):
        assert value in [error["input"] for error in info.value.errors()]


def test_missing_required_fields_are_named():
    for field in ("programID", "id", "createdDateTime"):
        event = {k: v for k, v in EVENT.items() if k != field}
        assert schema_errors("event", event)
        with pytest.raises(ValidationError, match=field):
            parse_event(event)
    descriptor = copy.deepcopy(EVENT)
    del descriptor["payloadDescriptors"][0]["objectType"]
    assert schema_errors("event", descriptor)
    with pytest.raises(ValidationError, match="objectType"):
        parse_event(descriptor)
    report = to_json(ack_report("flex-1", SP))
    del report["resources"]
    assert schema_errors("reportRequest", report)
    with pytest.raises(ValidationError, match="resources"):
        parse_report(report)


def test_untrusted_bodies_are_checked_before_parsing():
    body = json.dumps(EVENT).encode()
    with pytest.raises(InputError, match="exceeds the limit") as info:
        parse_event(body, max_bytes=len(body) - 1)
    assert (info.value.obj, info.value.field) == ("OpenADR event", "body")
    assert parse_event(body, max_bytes=len(body)).id == "flex-1"
    assert MAX_BODY_BYTES >= 2**20
    for bad, reason in [
        (b"{" * 100_000, "not valid JSON"),
        (b'{"id": NaN}', "NaN is not a JSON number"),
        (b'{"id": "a", "id": "b"}', "duplicate key 'id'"),
        (b"\xff\xfe{}", "not valid JSON"),
        (b"[1, 2", "not valid JSON"),
    ]:
        with pytest.raises(InputError, match=reason):
            parse_event(bad)
    with pytest.raises(InputError, match="must be JSON text"):
        parse_report(42)


def test_interval_period_inheritance():
    # User Guide 7.4-1: the event's period is the default; an interval's own fields override it
    default = IntervalPeriod(start=DAY, duration="PT1H")
    intervals = [
        Interval(id=0, payloads=[]),
        Interval(id=1, interval_period=IntervalPeriod(duration="PT2H"), payloads=[]),
        Interval(id=7, payloads=[]),
        Interval(id=3, interval_period=IntervalPeriod(start=DAY + 10 * HOUR), payloads=[]),
    ]
    timed = resolve_intervals(intervals, default)
    assert [(t.id, t.start - DAY, t.duration) for t in timed] == [
        (0, timedelta(0), HOUR),
        (1, HOUR, 2 * HOUR),
        (7, 3 * HOUR, HOUR),
        (3, 10 * HOUR, HOUR),
    ]
    with pytest.raises(InputError, match="no duration"):
        resolve_intervals(intervals, IntervalPeriod(start=DAY))
    with pytest.raises(InputError, match="no start"):
        resolve_intervals(intervals, IntervalPeriod(duration="PT1H"))
    assert parse_duration("P9999Y") is None and parse_duration("-PT15M") == -timedelta(minutes=15)
    assert parse_duration("P1W") == timedelta(days=7)
    with pytest.raises(InputError, match="months"):
        parse_duration("P1M")


@given(st.integers(0, 400 * 86_400))
def test_durations_round_trip_through_the_documents_pattern(seconds):
    text = format_duration(timedelta(seconds=seconds))
    assert not schema_errors("duration", text)
    assert parse_duration(text) == timedelta(seconds=seconds)


# -- NL-Flex rules ------------------------------------------------------------------------------


def test_baseline_event_is_read():
    baseline = read_baseline_event(json.dumps(baseline_event("group-1", 120.5, 3.25)))
    assert (baseline.active_kw, baseline.reserved_kw, baseline.targets) == (
        120.5,
        3.25,
        ("group-1",),
    )
    assert baseline.valid_from == datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e.update(intervalPeriod={"start": "2026-03-03T00:00:00Z"}), "intervalPeriod"),
        (lambda e: e["intervals"][0]["payloads"][0].update(values=[120.555]), "ACTIVE_BASELINE"),
        (lambda e: e["intervals"][0]["payloads"].pop(), "payloads"),
        (lambda e: e["payloadDescriptors"][0].update(units="kW"), "units"),
        (lambda e: e["reportDescriptors"][0].update(frequency=-1), "ACTIVE_FLEX_DELTA"),
        (lambda e: e.update(targets=None), "targets"),
        (lambda e: e["intervals"][0].update(id=1), "intervals[0].id"),
    ],
)
def test_baseline_event_rules_are_named(change, field):
    event = baseline_event("group-1", 120.5)
    change(event)
    with pytest.raises(NlFlexRuleError, match="baseline event 'baseline-1'") as info:
        read_baseline_event(event)
    assert field in info.value.field


def test_flex_event_is_read_with_its_adjacent_hours():
    dispatch = read_flex_event(EVENT, max_duration=2 * HOUR, available_kw=4.0)
    assert [(i.start.hour, i.end.hour, i.flex_kw, i.adjacent) for i in dispatch.intervals] == [
        (16, 17, 0.0, True),
        (17, 19, 4.0, False),
        (19, 20, 0.0, True),
    ]
    assert (dispatch.group, dispatch.window_start, dispatch.window_end) == (
        "group-1",
        DAY,
        DAY + timedelta(days=1),
    )


def _interval(event, k):
    return event["intervals"][k]


@pytest.mark.parametrize(
    ("change", "kwargs", "field", "value"),
    [
        (lambda e: _interval(e, 1)["intervalPeriod"].update(duration="PT3H"), {},
         "intervals[1].intervalPeriod.duration", "PT3H"),
        (lambda e: None, {"available_kw": 3.99}, "intervals[1].payloads[FLEX]", 4.0),
        (lambda e: None, {"max_duration": HOUR}, "intervals[1].intervalPeriod.duration", "PT2H"),
        (lambda e: _interval(e, 1)["payloads"][0].update(values=[4.001]), {},
         "intervals[1].payloads[FLEX]", [4.001]),
        (lambda e: _interval(e, 1)["payloads"][0].update(values=[-1.0]), {},
         "intervals[1].payloads[FLEX]", -1.0),
        (lambda e: _interval(e, 0)["payloads"][0].update(values=[1.0]), {},
         "intervals[0].payloads[FLEX]", 1.0),
        (lambda e: _interval(e, 2)["intervalPeriod"].update(start="2026-03-03T18:00:00Z"), {},
         "intervals[id=2].intervalPeriod.start", "2026-03-03T18:00:00+00:00"),
        (lambda e: _interval(e, 2)["intervalPeriod"].update(start="2026-03-03T20:00:00Z"), {},
         "intervals[id=2]", "2026-03-03T20:00:00+00:00"),
        (lambda e: _interval(e, 2)["intervalPeriod"].update(start="2026-03-03T23:30:00Z"), {},
         "intervals[2].intervalPeriod.start", "2026-03-03T23:30:00+00:00"),
        (lambda e: _interval(e, 2).update(id=1), {}, "intervals[2].id", 1),
        (lambda e: e["intervalPeriod"].update(duration="PT12H"), {}, "intervalPeriod", None),
        (lambda e: e.update(targets=["group-1", "group-2"]), {}, "targets", None),
        (lambda e: e["reportDescriptors"].pop(), {}, "reportDescriptors", ["ACK"]),
        (lambda e: e["payloadDescriptors"][0].update(payloadType="PRICE"), {},
         "payloadDescriptors", ["PRICE"]),
        (lambda e: _interval(e, 1).pop("intervalPeriod"), {}, "intervals[1].intervalPeriod", None),
        (lambda e: e.update(duration="P9999Y"), {}, "duration", "P9999Y"),
    ],
)  # fmt: skip
def test_flex_event_rule_violations_are_named(change, kwargs, field, value):
    event = copy.deepcopy(EVENT)
    change(event)
    assert_valid("event", event)  # valid OpenADR: only the profile forbids it
    with pytest.raises(NlFlexRuleError, match="NL-Flex FLEX event 'flex-1'") as info:
        read_flex_event(json.dumps(event), **kwargs)
    assert info.value.field == field
    if value is not None:
        assert info.value.value == value


def test_dispatch_becomes_node_limits_and_only_there():
    grid = TimeGrid(DAY, timedelta(minutes=30), 48)
    problem = ChargingProblem.from_arrays(
        grid=grid, arrival_slot=[30], departure_slot=[44], energy_kwh=[20.0],
        power_max_kw=11.0, node_of_session=[1], node_parent=[-1, 0],
        node_capacity_kw=[60.0, 40.0], base_load_kw=[[0.0] * 48, [2.5] * 48],
        price_eur_per_kwh=0.2, node_ids=["trafo", "group-1"],
    )  # fmt: skip
    dispatch = read_flex_event(EVENT)
    capped = with_flex_dispatch(problem, dispatch, baseline_kw=10.3)
    expected = np.full(48, 40.0)
    expected[32:34] = expected[38:40] = 10.3 + 2.5  # adjacent hours: the baseline
    expected[34:38] = 10.3 - 4.0 + 2.5  # the EV load is capped; the base load comes on top
    np.testing.assert_allclose(capped.node_capacity_kw[1], expected)
    np.testing.assert_array_equal(capped.node_capacity_kw[0], problem.node_capacity_kw[0])
    whole = with_flex_dispatch(problem, dispatch, 10.3, "group-1", base_load_included=True)
    assert whole.node_capacity_kw[1, 35] == 6.3
    with pytest.raises(InputError, match="below 0"):
        with_flex_dispatch(problem, dispatch, baseline_kw=3.0)
    with pytest.raises(InputError, match="no such node"):
        with_flex_dispatch(problem, dispatch, 10.3, node="feeder-9")
    plan = schedule(capped)
    load = plan.charge_kw.sum(axis=0)
    assert (load[34:38] <= 6.3 + 1e-9).all() and (load[32:40] <= 10.3 + 1e-9).all()


# -- available flex: exact, deliverable, maximal -------------------------------------------------


@st.composite
def small_problems(draw):
    n_slots, n = 12, draw(st.integers(1, 4))
    arrival = [draw(st.integers(0, 6)) for _ in range(n)]
    departure = [draw(st.integers(a + 3, 12)) for a in arrival]
    power = [draw(st.floats(2.0, 11.0)) for _ in range(n)]
    need = [
        draw(st.floats(0.3, 0.95)) * p * (d - a)
        for p, a, d in zip(power, arrival, departure, strict=True)
    ]
    leaf = [draw(st.integers(1, 2)) for _ in range(n)]
    caps = [draw(st.floats(5.0, 40.0)), draw(st.floats(3.0, 20.0)), draw(st.floats(3.0, 20.0))]
    problem = ChargingProblem.from_arrays(
        grid=TimeGrid(DAY, HOUR, n_slots), arrival_slot=arrival, departure_slot=departure,
        energy_kwh=need, power_max_kw=power, node_of_session=leaf, node_parent=[-1, 0, 0],
        node_capacity_kw=caps, price_eur_per_kwh=0.3,
    )  # fmt: skip
    return (
        problem,
        draw(st.floats(0.0, 45.0)),
        draw(st.integers(0, 10)),
        draw(st.sampled_from([2, 4])),
    )


@settings(max_examples=40)
@given(small_problems(), st.booleans())
def test_block_flex_is_the_largest_deliverable_hundredth(case, adjacent_hours):
    problem, baseline, first, hours = case
    stop = min(first + hours, problem.n_slots)
    adjacent = {first - 1, stop} & set(range(problem.n_slots)) if adjacent_hours else set()
    exact = lp_reduction_kw(problem, 0, baseline, set(range(first, stop)), set())
    assume(exact > -math.inf)  # the needs can be met at all
    try:
        found = block_flex_kw(
            problem, 0, baseline, DAY + first * HOUR, hours * HOUR, adjacent_hours=adjacent_hours
        )
    except EmptyFlexibilityError:
        pytest.fail("the independent LP meets every need")
    exact = lp_reduction_kw(problem, 0, baseline, set(range(first, stop)), adjacent)
    if exact == -math.inf:
        assert found == -math.inf
        return
    assert abs(found * 100 - round(found * 100)) < 1e-9  # a multiple of 0.01
    # deliverable (found <= the exact largest) and maximal (found + 0.01 is not deliverable)
    assert found - 1e-7 <= exact < found + 0.01 + 1e-7


def test_available_flex_is_the_least_block_and_deliverable():
    grid = TimeGrid(DAY, HOUR, 24)
    rng = np.random.default_rng(5)
    arrival = rng.integers(6, 14, 8)
    departure = np.minimum(arrival + rng.integers(4, 9, 8), 24)
    power = rng.uniform(3.0, 11.0, 8)
    problem = ChargingProblem.from_arrays(
        grid=grid, arrival_slot=arrival, departure_slot=departure,
        energy_kwh=0.5 * power * (departure - arrival), power_max_kw=power,
        node_of_session=rng.integers(1, 3, 8), node_parent=[-1, 0, 0],
        node_capacity_kw=[40.0, 22.0, 22.0], price_eur_per_kwh=np.linspace(0.4, 0.1, 24),
        node_ids=["group-1", "f1", "f2"],
    )  # fmt: skip
    flexibility = aggregate(problem, 0)
    assert flexibility.method == "flow"
    baseline = 30.0
    offer = available_flex(problem, "group-1", baseline, flexibility=flexibility)
    table = {
        (start, hours): block_flex_kw(
            problem, 0, baseline, DAY + start * HOUR, hours * HOUR, flexibility=flexibility
        )
        for hours in (2, 4, 6)
        for start in range(0, 25 - hours)
    }
    assert offer.n_blocks == len(table)
    assert offer.flex_kw == min(table.values())
    worst = ((offer.worst_start - DAY) // HOUR, offer.worst_duration // HOUR)
    assert table[worst] == offer.flex_kw
    assert 0 < offer.flex_kw < baseline
    # the DSO calls the whole available flex on the limiting block: the plan delivers it
    event = flex_event("group-1", DAY, [(offer.worst_start, offer.worst_duration, offer.flex_kw)])
    dispatch = read_flex_event(event, available_kw=offer.flex_kw)
    plan = schedule(with_flex_dispatch(problem, dispatch, baseline))
    _assert_delivers(plan, problem, dispatch, baseline)
    shorter = available_flex(problem, 0, baseline, max_duration=2 * HOUR, flexibility=flexibility)
    assert shorter.flex_kw == min(v for (s, h), v in table.items() if h == 2)
    with pytest.raises(InputError, match="at least PT2H"):
        available_flex(problem, 0, baseline, max_duration=HOUR)
    with pytest.raises(InputError, match="window"):
        available_flex(problem, 0, baseline, window=(DAY, DAY + timedelta(days=2)))
    with pytest.raises(InputError, match="flexibility"):
        available_flex(problem, 1, baseline, flexibility=flexibility)


def _assert_delivers(plan, problem, dispatch, baseline_kw, under=None):
    """From the plan's arrays: every need met, the offtake under every cap of the dispatch."""
    under = _under(problem, 0) if under is None else under
    assert plan.problem.n_sessions == problem.n_sessions
    delivered = (plan.charge_kw * problem.presence * problem.grid.dt_h).sum(axis=1)
    np.testing.assert_array_less(problem.energy_min_kwh - 1e-6, delivered)
    load = (plan.charge_kw - plan.discharge_kw)[under].sum(axis=0)
    edges = problem.grid.edges_s
    for interval in dispatch.intervals:
        inside = (edges[:-1] < interval.end.timestamp()) & (edges[1:] > interval.start.timestamp())
        assert inside.any()
        assert (load[inside] <= baseline_kw - interval.flex_kw + 1e-9).all(), interval
    assert verify_plan(plan.problem, plan) == []


@settings(max_examples=20)
@given(st.floats(0.0, 1e5, allow_nan=False), st.floats(0.0, 1e3))
def test_flex_delta_reports_are_valid_and_never_offer_more(active, reserved):
    report = flex_delta_report("baseline-1", SP, active, reserved)
    stored_report(report)
    read = read_flex_delta_report(json.dumps(to_json(report)))
    assert (
        active - 0.01 < read.active_kw <= active and reserved - 0.01 < read.reserved_kw <= reserved
    )
    assert (read.event_id, read.client_name) == ("baseline-1", SP)


@settings(max_examples=25)
@given(
    st.lists(st.floats(-5.0, 60.0), min_size=16, max_size=16),
    st.integers(0, 9999).map(lambda n: n / 100),
)
def test_delivered_flex_is_valid_and_never_claims_more(quarters_kw, baseline_kw):
    dispatch = read_flex_event(EVENT)  # 16:00-20:00: 4 hours of quarter hours
    offtake = Profile.from_grid(TimeGrid(DAY + 16 * HOUR, timedelta(minutes=15), 16), quarters_kw)
    stored = stored_report(delivered_flex_report(dispatch, baseline_kw, offtake, SP))
    values = [v for i in stored["resources"][0]["intervals"] for v in i["payloads"][0]["values"]]
    reduction = np.maximum(baseline_kw - np.array(quarters_kw), 0.0)
    assert all(v >= 0 and abs(v * 100 - round(v * 100)) < 1e-9 for v in values)
    assert (np.array(values) <= reduction + 1e-12).all()
    assert (np.array(values) > reduction - 0.01 - 1e-12).all()


def test_report_writers_reject_bad_input():
    with pytest.raises(NlFlexRuleError, match="EAN13"):
        flex_delta_report("baseline-1", "8712423014023", 1.0)
    with pytest.raises(NlFlexRuleError, match="EAN13"):
        ack_report("flex-1", "VEN-1")
    with pytest.raises(InputError, match="ACTIVE_FLEX_DELTA"):
        flex_delta_report("baseline-1", SP, -1.0)
    with pytest.raises(InputError, match="ACTIVE_FLEX_DELTA"):
        flex_delta_report("baseline-1", SP, math.nan)
    with pytest.raises(ValidationError, match="event_id"):
        flex_delta_report("baseline 1", SP, 1.0)
    report = to_json(flex_delta_report("baseline-1", SP, 1.0))
    report["resources"][0]["intervals"][0]["payloads"][0]["values"] = [0.5]
    with pytest.raises(NlFlexRuleError, match="<= 0") as info:
        read_flex_delta_report(report)
    assert info.value.value == [0.5]
    dispatch = read_flex_event(EVENT)
    with pytest.raises(InputError, match="cover interval id=0"):
        delivered_flex_report(dispatch, 10.0, Profile.constant(5.0, DAY + 17 * HOUR), SP)


# -- the round trip on a bundled scenario -------------------------------------------------------


def test_round_trip_office_depot():
    scenario = Scenario.load(ROOT / "examples" / "scenarios" / "office_depot.json")
    problem = ChargingProblem.from_scenario(scenario)
    node = problem.node_ids[0]  # the transformer: no limit above it
    grid = problem.grid
    window_start = grid.start
    # the DSO: a baseline for the group, somewhat below the EVs' unconstrained peak
    unconstrained = schedule(problem)
    peak = float(unconstrained.charge_kw.sum(axis=0).max())
    baseline_kw = math.floor(0.9 * peak)
    baseline = read_baseline_event(json.dumps(baseline_event(node, baseline_kw, 0.0)))
    # the VEN: the flex every 2/4/6-hour block can deliver, as a flex delta report
    flexibility = aggregate(problem, node)
    assert not flexibility.upstream_limits
    offer = available_flex(
        problem, node, baseline.active_kw, start_step=HOUR, flexibility=flexibility
    )
    assert offer.flex_kw > 0
    report = flex_delta_report(baseline.event_id, SP, offer.offered_kw)
    stored_report(report)
    # the DSO reads it and calls it all on the limiting block
    called = read_flex_delta_report(json.dumps(to_json(report)))
    assert called.active_kw == offer.flex_kw
    event = flex_event(
        node, window_start, [(offer.worst_start, offer.worst_duration, called.active_kw)]
    )
    # the VEN: the FLEX event, checked, into node limits, scheduled
    dispatch = read_flex_event(
        json.dumps(event), max_duration=timedelta(hours=6), available_kw=called.active_kw
    )
    capped = with_flex_dispatch(problem, dispatch, baseline.active_kw)
    plan = schedule(capped)
    _assert_delivers(plan, problem, dispatch, baseline.active_kw)
    # ... and maximal: an independent LP agrees the limiting block allows no 0.01 kW more
    edges = grid.edges_s
    block = {
        t for t in range(grid.n)
        if edges[t] >= offer.worst_start.timestamp()
        and edges[t + 1] <= (offer.worst_start + offer.worst_duration).timestamp()
    }  # fmt: skip
    adjacent = {min(block) - 4 + k for k in range(4)} | {max(block) + 1 + k for k in range(4)}
    adjacent &= set(range(grid.n))
    exact = lp_reduction_kw(problem, 0, baseline.active_kw, block, adjacent)
    assert offer.flex_kw - 1e-6 <= exact < offer.flex_kw + 0.01 + 1e-6
    # OCPP profiles from the plan: valid, and their limits summed stay under every cap
    evse_ids = {session: k + 1 for k, session in enumerate(plan.session_ids)}
    requests = plan.to_ocpp_requests(evse_ids)
    schema = json.loads((OCPP_SCHEMAS / "SetChargingProfileRequest.json").read_text())
    validator = jsonschema.Draft6Validator(schema, format_checker=jsonschema.FormatChecker())
    wire_kw = np.zeros(grid.n)
    for request in requests:
        validator.validate(json.loads(request.model_dump_json()))
        charging = request.charging_profile.charging_schedule[0]
        start_s = int(charging.start_schedule.timestamp())
        periods = charging.charging_schedule_period
        ends = [p.start_period for p in periods[1:]] + [charging.duration or grid.end_s - start_s]
        for period, end in zip(periods, ends, strict=True):
            first = grid.index_of(start_s + period.start_period)
            stop = min(grid.n, -(-(start_s + end - grid.start_s) // grid.step_s))
            wire_kw[first:stop] += period.limit / 1000
    for interval in dispatch.intervals:
        inside = (edges[:-1] < interval.end.timestamp()) & (edges[1:] > interval.start.timestamp())
        assert (wire_kw[inside] <= baseline.active_kw - interval.flex_kw + 1e-9).all()
    # the VEN's answers: ACK, DELIVERED_FLEX from the plan, and generic forecasts
    stored_report(ack_report(dispatch.event_id, SP))
    delivered = delivered_flex_report(dispatch, baseline.active_kw, offtake_profile(plan, node), SP)
    stored = stored_report(delivered)
    by_id = {i["id"]: i for i in stored["resources"][0]["intervals"]}
    for interval, source in zip(dispatch.intervals, event["intervals"], strict=True):
        reported = by_id[interval.id]
        assert reported["intervalPeriod"] == source["intervalPeriod"]
        values = reported["payloads"][0]["values"]
        assert len(values) == (interval.end - interval.start) // timedelta(minutes=15)
        assert min(values) >= interval.flex_kw - 0.01
    forecast = usage_forecast_report(plan, node, "ops-1", SP)
    stored_report(forecast)
    energy = [i["payloads"][0]["values"][0] for i in to_json(forecast)["resources"][0]["intervals"]]
    np.testing.assert_allclose(energy, plan.charge_kw.sum(axis=0) * grid.dt_h, atol=5e-4)
    regulation = regulation_report(problem, node, "reg-1", SP, plan=unconstrained, window=(40, 56))
    stored_report(regulation)
    resource = to_json(regulation)["resources"][0]
    assert resource["intervalPeriod"] == {"start": "2026-03-02T10:00:00Z", "duration": "PT15M"}
    assert len(resource["intervals"]) == 16
    # the corners of the reported band are deliverable: the load at its lowest, and at its highest
    planned = unconstrained.charge_kw.sum(axis=0)
    up, down = (
        np.array([i["payloads"][k]["values"][0] for i in resource["intervals"]]) for k in (0, 1)
    )
    assert up.max() > 0 and down.max() > 0
    for profile in (planned[40:56] - up, planned[40:56] + down):
        lower, upper = np.full(grid.n, -np.inf), np.full(grid.n, np.inf)
        lower[40:56] = upper[40:56] = profile
        assert flexibility.within(lower - 1e-6, upper + 1e-6)
