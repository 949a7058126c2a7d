"""S2 with s2-python: battery offers as FRBC / PEBC messages, instructions back as dispatches.

The messages are s2-python's own classes and go through its ``S2Parser``; the
CEMs below read only what was sent (the parsed messages), not our offer, and
the dispatches they cause are disaggregated and checked against every limit,
the OCPP schema and the offer itself.
"""

import json
import math
import pickle
import sys
import uuid
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from s2python.common import CommodityQuantity
from s2python.frbc import FRBCInstruction
from s2python.pebc import PEBCInstruction, PEBCPowerEnvelope, PEBCPowerEnvelopeElement
from s2python.s2_parser import S2Parser

import fera_flex as ff
from fera_flex.flexibility import battery_offer, box_offer, dispatch_deviation_kw
from fera_flex.models.scenario import Scenario
from fera_flex.scheduling.plan import ChargingPlan
from fera_flex.scheduling.safety import DUST_KW
from fera_flex.standards.s2 import (
    S2Resource,
    frbc_export,
    pebc_export,
    read_frbc_instructions,
    read_pebc_instructions,
)
from fera_flex.standards.s2._wire import s2 as s2_library
from tests.models.ocpp.schemas import validator

SCENARIOS = Path(__file__).parents[2] / "examples" / "scenarios"
WINDOW = (32, 40)
TOL_KWH = 1e-8


def deviation_bound_kw(problem, n_targeted):
    """What a followed dispatch may miss (as in tests/flexibility/test_battery.py)."""
    return (1e-7 * (n_targeted + 1) + 1e-9) / problem.grid.dt_h


@pytest.fixture(scope="module")
def office():
    scenario = Scenario.model_validate_json((SCENARIOS / "office_depot.json").read_text())
    problem = ff.ChargingProblem.from_scenario(scenario)
    plan = ff.schedule(problem)
    return problem, plan, battery_offer(problem, 0, plan, window=WINDOW)


def small_problem(efficiency=1.0):
    """One car needing 22 kWh in four hours (four power bands: four stretches)."""
    grid = ff.TimeGrid(datetime(2026, 3, 2, 18, tzinfo=timezone.utc), timedelta(hours=1), 4)
    return ff.ChargingProblem.from_arrays(
        grid=grid,
        arrival_slot=[0],
        departure_slot=[4],
        energy_kwh=[22.0],
        power_max_kw=11.0,
        node_of_session=[0],
        node_parent=[-1],
        node_capacity_kw=np.inf,
        price_eur_per_kwh=[0.3, 0.2, 0.25, 0.3],
        charge_efficiency=efficiency,
    )


@pytest.fixture(scope="module")
def wide():
    """The car of :func:`small_problem` taking 10 to 30 kWh: room for random instructions."""
    problem = small_problem().replace(energy_min_kwh=[10.0], energy_max_kwh=[30.0])
    resource = S2Resource.of_node(problem, battery_offer(problem, 0))
    return resource.offer, frbc_export(resource), pebc_export(resource)


@pytest.fixture(scope="module")
def small():
    problem = small_problem()
    offer = battery_offer(problem, 0)
    resource = S2Resource.of_node(problem, offer)
    return problem, offer, frbc_export(resource), pebc_export(resource)


def round_trip(message):
    """The message through JSON and s2-python's parser; it must come back equal."""
    parsed = S2Parser.parse_as_any_message(message.to_json())
    assert parsed == message
    assert type(parsed) is type(message)
    return parsed


# -- a CEM that knows only the FRBC messages ---------------------------------------------


def frbc_view(messages):
    """What a CEM learns from the FRBC messages: per ISP its power range [kW] and target [kWh]."""
    parsed = [round_trip(m) for m in messages]
    descriptions = [m for m in parsed if m.message_type == "FRBC.SystemDescription"]
    (status,) = [m for m in parsed if m.message_type == "FRBC.StorageStatus"]
    (profile,) = [m for m in parsed if m.message_type == "FRBC.FillLevelTargetProfile"]
    isps, moment = [], profile.start_time
    for element in profile.elements:
        valid = max((d for d in descriptions if d.valid_from <= moment), key=lambda d: d.valid_from)
        (actuator,) = valid.actuators
        (mode,) = actuator.operation_modes
        (mode_element,) = mode.elements
        (power,) = mode_element.power_ranges
        isps.append(
            {
                "start": moment,
                "seconds": element.duration.root / 1000,
                "power_kw": (power.start_of_range / 1000, power.end_of_range / 1000),
                "fill_rate": (
                    mode_element.fill_rate.start_of_range,
                    mode_element.fill_rate.end_of_range,
                ),
                "target": (
                    element.fill_level_range.start_of_range,
                    element.fill_level_range.end_of_range,
                ),
                "actuator": actuator.id,
                "mode": mode.id,
            }
        )
        moment += timedelta(milliseconds=element.duration.root)
    return status.present_fill_level, isps


def cem_factors(messages, mode, rng=None):
    """Factors per ISP a CEM may send: the most, the least, alternately or at random."""
    fill, isps = frbc_view(messages)
    factors = []
    for k, isp in enumerate(isps):
        low_kw, high_kw = isp["power_kw"]
        hours = isp["seconds"] / 3600
        least = max(low_kw, (isp["target"][0] - fill) / hours)
        most = min(high_kw, (isp["target"][1] - fill) / hours)
        pick = {
            "most": most,
            "least": least,
            "alternate": least if k % 2 else most,
            "random": None if rng is None else rng.uniform(least, max(least, most)),
        }[mode]
        factor = 0.0 if high_kw == low_kw else (pick - low_kw) / (high_kw - low_kw)
        factor = min(max(factor, 0.0), 1.0)
        fill += (low_kw + factor * (high_kw - low_kw)) * hours
        factors.append(factor)
    return factors, isps


def frbc_instruction(sent, factor, at, **changes):
    fields = {
        "message_id": uuid.uuid4(),
        "id": uuid.uuid4(),
        "actuator_id": sent.actuator_id,
        "operation_mode": sent.operation_mode_id,
        "operation_mode_factor": factor,
        "execution_time": at,
        "abnormal_condition": False,
    }
    fields.update(changes)
    return FRBCInstruction(**fields)


def instructions_for(sent, factors, isps):
    """One instruction per ISP, at its start, sent as JSON text."""
    return [
        frbc_instruction(sent, f, isp["start"]).to_json()
        for f, isp in zip(factors, isps, strict=True)
    ]


def assert_within_offer(offer, power_kw, fine=None):
    """A profile per ISP inside the offer's power band and, at every ISP end, its energy band."""
    power = np.asarray(power_kw)
    assert (power >= offer.power_min_kw - 1e-9).all() and (power <= offer.power_max_kw + 1e-9).all()
    drawn = np.cumsum(power) * offer.grid.dt_h
    assert (drawn >= offer.energy_min_kwh - TOL_KWH).all()
    assert (drawn <= offer.energy_max_kwh + TOL_KWH).all()


def assert_delivered(problem, dispatch, dust=False):
    """Disaggregated within every limit, following the dispatch; OCPP valid and within limits."""
    plan = ff.disaggregate(problem, dispatch)
    assert ff.verify_plan(plan.problem, plan) == []
    targeted = np.isfinite(plan.problem.node_target_min_kw) | np.isfinite(
        plan.problem.node_target_max_kw
    )
    bound = deviation_bound_kw(problem, int(targeted.sum()))
    if dust:  # and what a plan drops as dust: see the phase-limit test
        bound += DUST_KW * problem.sessions_under(dispatch.node_id).size
    assert np.abs(dispatch_deviation_kw(plan)).max() <= bound
    k = problem.node_index(dispatch.node_id)
    first = problem.grid.index_of(dispatch.start)
    load = problem.node_loads_kw(plan.charge_kw - plan.discharge_kw)[k]
    np.testing.assert_allclose(
        load[first : first + len(dispatch.power_kw)], dispatch.power_kw, rtol=0, atol=bound
    )
    check = validator("SetChargingProfileRequest")
    requests = plan.to_ocpp_requests({s: i + 1 for i, s in enumerate(plan.session_ids)})
    for index, request in enumerate(requests):
        check.validate(json.loads(request.model_dump_json(by_alias=True, exclude_none=True)))
        schedule = request.charging_profile.charging_schedule[0]
        start_s = int(schedule.start_schedule.timestamp())
        for period in schedule.charging_schedule_period:
            slot = problem.grid.index_of(start_s + period.start_period)
            assert period.limit / 1000 <= problem.power_max_kw[index, slot] + 1e-12
    return plan


# -- FRBC: what is sent -----------------------------------------------------------------


def test_frbc_messages_round_trip_and_carry_the_offer_in_w_and_ms(small):
    _, offer, sent, _ = small
    fill, isps = frbc_view(sent.messages)
    assert fill == 0.0
    assert len(isps) == offer.grid.n
    assert isps[0]["start"] == offer.grid.start
    bands = list(zip(offer.power_min_kw, offer.power_max_kw, strict=True))
    assert len(sent.system_descriptions) == 1 + sum(a != b for a, b in pairwise(bands))
    for k, isp in enumerate(isps):
        assert isp["seconds"] == offer.grid.step_s  # Duration: ms
        assert isp["power_kw"] == pytest.approx(
            (offer.power_min_kw[k], offer.power_max_kw[k]), rel=1e-12, abs=1e-15
        )
        np.testing.assert_allclose(
            isp["fill_rate"], np.array(isp["power_kw"]) / 3600, rtol=1e-12, atol=0
        )  # kWh per second
        assert isp["target"] == (offer.energy_min_kwh[k], offer.energy_max_kwh[k])
        assert (isp["actuator"], isp["mode"]) == (sent.actuator_id, sent.operation_mode_id)
    description = sent.system_descriptions[0]
    storage = description.storage
    assert storage.fill_level_range.start_of_range == 0.0
    assert storage.fill_level_range.end_of_range == offer.energy_max_kwh.max()
    assert storage.provides_fill_level_target_profile
    (power,) = description.actuators[0].operation_modes[0].elements[0].power_ranges
    assert power.commodity_quantity is CommodityQuantity.ELECTRIC_POWER_3_PHASE_SYMMETRIC
    json_text = description.to_json()
    assert '"valid_from":"2026-03-02T18:00:00Z"' in json_text


def test_one_system_description_per_stretch_of_equal_bands(office):
    problem, _, offer = office
    sent = frbc_export(S2Resource.of_node(problem, offer))
    bands = list(zip(offer.power_min_kw, offer.power_max_kw, strict=True))
    stretches = 1 + sum(a != b for a, b in pairwise(bands))
    assert len(sent.system_descriptions) == stretches
    starts = [d.valid_from for d in sent.system_descriptions]
    assert starts == sorted(starts) and starts[0] == offer.grid.start


# -- FRBC: instructions read back ---------------------------------------------------------


def test_instructions_at_the_baseline_give_the_baseline(small):
    _, offer, sent, _ = small
    width = offer.power_max_kw - offer.power_min_kw
    factors = (offer.baseline_kw - offer.power_min_kw) / width
    _, isps = frbc_view(sent.messages)
    instructions = [
        round_trip(frbc_instruction(sent, f, isp["start"]))
        for f, isp in zip(factors, isps, strict=True)
    ]
    assert read_frbc_instructions(sent, instructions).power_kw == (
        read_frbc_instructions(sent, [i.to_json_dict() for i in instructions]).power_kw
    )  # objects, dicts and JSON text alike
    dispatch = read_frbc_instructions(sent, instructions_for(sent, factors, isps))
    np.testing.assert_allclose(dispatch.power_kw, offer.baseline_kw, rtol=0, atol=1e-9)
    assert dispatch.node_id == offer.node_id and dispatch.offer_id == sent.id
    assert dispatch.start == offer.grid.start and dispatch.step_s == offer.grid.step_s


def test_instructions_off_the_isp_boundaries_are_averaged_per_isp(small):
    """Before the first instruction the baseline; in each ISP the mean of what is instructed."""
    _, offer, sent, _ = small
    start = offer.grid.start
    low, high = offer.power_min_kw, offer.power_max_kw
    width = high - low
    isp_1 = (20 * offer.baseline_kw[1] + 20.5 * high[1] + 19.5 * low[1]) / 60
    target = (offer.energy_min_kwh[3] + offer.energy_max_kwh[3]) / 2
    factor = (target - offer.baseline_kw[0] - isp_1 - low[2] - low[3]) / (width[2] / 2 + width[3])
    wanted = [
        offer.baseline_kw[0],
        isp_1,
        (30 * low[2] + 30 * (low[2] + factor * width[2])) / 60,
        low[3] + factor * width[3],
    ]
    assert_within_offer(offer, wanted)  # the instructions below stay inside the offer
    first = frbc_instruction(sent, 1.0, start + timedelta(minutes=80))  # 20 min into ISP 1
    second = frbc_instruction(sent, 0.0, start + timedelta(minutes=100, seconds=30))
    third = frbc_instruction(sent, factor, start + timedelta(minutes=150))
    dispatch = read_frbc_instructions(sent, [third, first, second])  # in any order
    np.testing.assert_allclose(dispatch.power_kw, wanted, rtol=0, atol=1e-9)


@pytest.mark.parametrize("mode", ["most", "least", "alternate", "random"])
def test_frbc_chain_on_the_office_depot(office, mode):
    """Offer -> FRBC -> what a CEM may send -> dispatch -> plan within every limit -> OCPP."""
    problem, _, offer = office
    sent = frbc_export(S2Resource.of_node(problem, offer))
    factors, isps = cem_factors(sent.messages, mode, np.random.default_rng(7))
    dispatch = read_frbc_instructions(sent, instructions_for(sent, factors, isps))
    ranges = [isp["power_kw"] for isp in isps]
    instructed = [lo + f * (hi - lo) for f, (lo, hi) in zip(factors, ranges, strict=True)]
    np.testing.assert_allclose(dispatch.power_kw, instructed, rtol=0, atol=1e-9)
    assert_within_offer(offer, dispatch.power_kw)
    assert_delivered(problem, dispatch)


def test_a_resampled_offer_is_read_back_on_the_problem_slots(office):
    problem, _, offer = office
    hourly = offer.resampled(timedelta(hours=1))
    sent = frbc_export(S2Resource.of_node(problem, hourly))
    factors, isps = cem_factors(sent.messages, "most")
    assert [isp["seconds"] for isp in isps] == [3600.0, 3600.0]
    dispatch = read_frbc_instructions(sent, instructions_for(sent, factors, isps))
    assert dispatch.step_s == problem.grid.step_s and len(dispatch.power_kw) == 8
    assert_within_offer(offer, dispatch.power_kw)
    assert_delivered(problem, dispatch)


def _bad_frbc(sent, offer):
    start, end = offer.grid.start, offer.grid.end
    known = frbc_instruction(sent, 0.5, start)
    return [
        ([frbc_instruction(sent, 1.5, start)], "operation_mode_factor", 1.5),
        ([frbc_instruction(sent, -0.1, start)], "operation_mode_factor", -0.1),
        ([frbc_instruction(sent, math.nan, start)], "operation_mode_factor", math.nan),
        ([frbc_instruction(sent, 0.5, start, operation_mode=uuid.uuid4())], "operation_mode", None),
        ([frbc_instruction(sent, 0.5, start, actuator_id=uuid.uuid4())], "actuator_id", None),
        (
            [frbc_instruction(sent, 0.5, start - timedelta(seconds=1))],
            "execution_time",
            (start - timedelta(seconds=1)).isoformat(),
        ),
        ([frbc_instruction(sent, 0.5, end)], "execution_time", end.isoformat()),
        ([known, frbc_instruction(sent, 0.1, start)], "execution_time", start.isoformat()),
        (
            [known, known.model_copy(update={"execution_time": end - timedelta(hours=1)})],
            "id",
            None,
        ),
        ([frbc_instruction(sent, 1.0, start)], "operation_mode_factor", 1.0),  # too much energy
    ]


def test_frbc_instructions_outside_the_offer_are_refused_naming_the_field(small):
    _, offer, sent, _ = small
    for instructions, field, value in _bad_frbc(sent, offer):
        with pytest.raises(ff.InputError) as raised:
            read_frbc_instructions(sent, instructions)
        error = raised.value
        assert error.field == field, (field, str(error))
        assert error.obj.startswith("FRBC.Instruction ")
        if value is not None:
            assert str(error.value) == str(value)
    energy = raised.value
    assert (
        "fill level at the end of ISP" in energy.reason
        and "outside the offer's band" in energy.reason
    )


def test_frbc_wire_errors_name_the_field(small):
    _, offer, sent, _ = small
    good = json.loads(frbc_instruction(sent, 0.5, offer.grid.start).to_json())
    naive = {**good, "execution_time": "2026-03-02T18:00:00"}
    for message, field in [
        (naive, "execution_time"),
        ({**good, "message_type": "PEBC.Instruction"}, "message_type"),
        ({k: v for k, v in good.items() if k != "operation_mode"}, "operation_mode"),
        ("{not json", "message"),
        (42, "message"),
        ([], "message"),
    ]:
        with pytest.raises(ff.InputError) as raised:
            read_frbc_instructions(sent, message)
        assert raised.value.field == field and raised.value.obj == "FRBC.Instruction"
    with pytest.raises(ff.InputError, match="FrbcExport"):
        read_frbc_instructions(pebc_export(sent.resource), [good])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(st.integers(0, 4 * 3600 * 1000 - 1), st.floats(0.0, 1.0)),
        min_size=1,
        max_size=6,
        unique_by=lambda step: step[0],
    )
)
def test_frbc_read_back_is_the_instructed_energy_or_refused(wide, steps):
    """Any instructions: the instructed energy at every ISP end, inside the offer, or refused."""
    offer, sent, _ = wide
    start = offer.grid.start
    instructions = [
        frbc_instruction(sent, f, start + timedelta(milliseconds=ms)) for ms, f in steps
    ]
    # the instructed energy of each ISP [kW ms]: the baseline until the first instruction
    ordered = sorted(steps)
    hour_ms = 3_600_000
    edges = [ms for ms, _ in ordered] + [4 * hour_ms]
    energy = np.zeros(4)
    for k in range(4):
        low, high = offer.power_min_kw[k], offer.power_max_kw[k]
        begin, end = k * hour_ms, (k + 1) * hour_ms
        energy[k] += max(0, min(end, ordered[0][0]) - begin) * offer.baseline_kw[k]
        for (at, factor), until in zip(ordered, edges[1:], strict=True):
            energy[k] += max(0, min(end, until) - max(begin, at)) * (low + factor * (high - low))
    drawn = np.cumsum(energy) / hour_ms
    tol = 1e-9 * 11
    inside = (drawn >= offer.energy_min_kwh - tol) & (drawn <= offer.energy_max_kwh + tol)
    event("inside" if inside.all() else "outside")
    if inside.all():
        dispatch = read_frbc_instructions(sent, instructions)
        np.testing.assert_allclose(np.cumsum(dispatch.power_kw), drawn, rtol=0, atol=1e-9)
        assert_within_offer(offer, dispatch.power_kw)
    else:
        with pytest.raises(ff.InputError) as raised:
            read_frbc_instructions(sent, instructions)
        assert raised.value.field == "operation_mode_factor"


# -- PEBC -----------------------------------------------------------------------------------


def pebc_view(messages):
    """The power constraints, the energy constraint and the window's energy range [kWh]."""
    parsed = [round_trip(m) for m in messages]
    constraints = [m for m in parsed if m.message_type == "PEBC.PowerConstraints"]
    (energy,) = [m for m in parsed if m.message_type == "PEBC.EnergyConstraint"]
    hours = (energy.valid_until - energy.valid_from).total_seconds() / 3600
    return (
        constraints,
        energy,
        (energy.lower_average_power * hours / 1000, energy.upper_average_power * hours / 1000),
    )


def allowed_kw(constraints, moment):
    (valid,) = [c for c in constraints if c.valid_from <= moment < c.valid_until]
    ranges = {r.limit_type.value: r.range_boundary for r in valid.allowed_limit_ranges}
    assert set(ranges) == {"UPPER_LIMIT", "LOWER_LIMIT"}
    upper, lower = ranges["UPPER_LIMIT"], ranges["LOWER_LIMIT"]
    return (
        valid,
        (lower.start_of_range / 1000, lower.end_of_range / 1000),
        (
            upper.start_of_range / 1000,
            upper.end_of_range / 1000,
        ),
    )


def envelope(sent, at, limits_w, durations_ms, **changes):
    """A PEBC instruction from ``at`` with one envelope of (lower, upper) [W] elements."""
    constraints = [c for c in sent.power_constraints if c.valid_from <= at < c.valid_until]
    fields = {
        "message_id": uuid.uuid4(),
        "id": uuid.uuid4(),
        "execution_time": at,
        "abnormal_condition": False,
        "power_constraints_id": (constraints or sent.power_constraints)[0].id,
        "power_envelopes": [
            PEBCPowerEnvelope(
                id=str(uuid.uuid4()),
                commodity_quantity=CommodityQuantity(sent.resource.commodity_quantity),
                power_envelope_elements=[
                    # an int: this element's field is the generated Duration, which is
                    # what S2Parser gives back (a common.Duration would not compare equal)
                    PEBCPowerEnvelopeElement(duration=ms, lower_limit=lo, upper_limit=hi)
                    for (lo, hi), ms in zip(limits_w, durations_ms, strict=True)
                ],
            )
        ],
    }
    fields.update(changes)
    return PEBCInstruction(**fields)


def test_pebc_messages_round_trip_and_carry_the_offer(small):
    _, offer, _, sent = small
    constraints, energy, (least_kwh, most_kwh) = pebc_view(sent.messages)
    assert least_kwh == pytest.approx(offer.energy_min_kwh[-1], rel=1e-12)
    assert most_kwh == pytest.approx(offer.energy_max_kwh[-1], rel=1e-12)
    assert energy.valid_from == offer.grid.start and energy.valid_until == offer.grid.end
    for k in range(offer.grid.n):
        moment = offer.grid.start + timedelta(seconds=k * offer.grid.step_s)
        valid, lower, upper = allowed_kw(constraints, moment)  # exactly one valid per ISP
        band = pytest.approx((offer.power_min_kw[k], offer.power_max_kw[k]), rel=1e-12, abs=1e-15)
        assert lower == band and upper == band
        assert valid.consequence_type.value == "DEFER"


def test_exports_pickle_with_their_messages(small):
    _, _, frbc, pebc = small
    for sent in (frbc, pebc):
        copy = pickle.loads(pickle.dumps(sent))
        assert copy.messages == sent.messages and copy.id == sent.id
        assert copy.resource.problem == sent.resource.problem


def test_pebc_envelope_of_the_whole_band_gives_the_baseline(small):
    _, offer, _, sent = small
    width_w = [
        (lo * 1000, hi * 1000)
        for lo, hi in zip(offer.power_min_kw, offer.power_max_kw, strict=True)
    ]
    instructions = [
        round_trip(envelope(sent, offer.grid.start + timedelta(hours=k), [limits], [3_600_000]))
        for k, limits in enumerate(width_w)
    ]
    dispatch = read_pebc_instructions(sent, [i.to_json() for i in instructions])
    np.testing.assert_allclose(dispatch.power_kw, offer.baseline_kw, rtol=0, atol=1e-9)


def ranges_w(constraints):
    """Per power constraints: its validity and allowed lower and upper limit ranges [W]."""
    found = []
    for c in sorted(constraints, key=lambda c: c.valid_from):
        ranges = {r.limit_type.value: r.range_boundary for r in c.allowed_limit_ranges}
        lower, upper = ranges["LOWER_LIMIT"], ranges["UPPER_LIMIT"]
        found.append(
            (
                c,
                (lower.start_of_range, lower.end_of_range),
                (upper.start_of_range, upper.end_of_range),
            )
        )
    return found


def pebc_cem(sent, messages, case):
    """PEBC instructions a CEM builds from the messages alone, and the limits [W] they set.

    ``curtail``: nothing (the least allowed) in the first hour; ``force``: at
    least the energy constraint's upper average power everywhere (S2 asks the
    envelopes to leave room for that much); both one instruction per power
    constraints over its validity. ``off-boundary``: one instruction of
    20-minute elements across the 15-minute ISPs, each within the ranges of
    all the constraints it meets.
    """
    constraints, energy, _ = pebc_view(messages)
    found = ranges_w(constraints)
    start = found[0][0].valid_from
    instructions, limits = [], []
    if case == "off-boundary":
        wanted = [(0.0, 20_000.0), (0.0, 150_000.0), (40_000.0, math.inf)]
        begin = start
        for lower, upper in wanted:
            end = begin + timedelta(minutes=20)
            met = [f for f in found if f[0].valid_from < end and f[0].valid_until > begin]
            low = max(max(f[1][0] for f in met), lower)
            high = min(min(f[2][1] for f in met), upper)
            limits.append((begin, end, low, high))
            begin = end
        durations = [1_200_000] * len(limits)
        choice = [(low, high) for _, _, low, high in limits]
        instruction = envelope(sent, start, choice, durations, power_constraints_id=found[0][0].id)
        return [instruction.to_json()], limits
    quarter = timedelta(minutes=15)
    for c, lower, upper in found:
        choice = []
        begin = c.valid_from
        while begin < c.valid_until:
            if case == "curtail":
                low, high = lower[0], (upper[0] if begin < start + timedelta(hours=1) else upper[1])
            else:
                low, high = min(max(energy.upper_average_power, lower[0]), lower[1]), upper[1]
            choice.append((low, high))
            limits.append((begin, begin + quarter, low, high))
            begin += quarter
        durations = [quarter // timedelta(milliseconds=1)] * len(choice)
        instruction = envelope(sent, c.valid_from, choice, durations, power_constraints_id=c.id)
        instructions.append(instruction.to_json())
    return instructions, limits


@pytest.mark.parametrize("case", ["curtail", "force", "off-boundary"])
def test_pebc_chain_on_the_office_depot(office, case):
    """Offer -> PEBC -> envelopes a CEM may send -> dispatch -> plan within every limit -> OCPP."""
    problem, _, offer = office
    sent = pebc_export(S2Resource.of_node(problem, offer))
    instructions, limits = pebc_cem(sent, sent.messages, case)
    dispatch = read_pebc_instructions(sent, instructions)
    power = np.array(dispatch.power_kw)
    assert_within_offer(offer, power)
    starts = [offer.grid.start + timedelta(minutes=15 * k) for k in range(9)]
    for begin, end, low_w, high_w in limits:
        isps = [k for k in range(8) if starts[k] < end and starts[k + 1] > begin]
        assert (power[isps] >= low_w / 1000 - 1e-9).all()
        assert (power[isps] <= high_w / 1000 + 1e-9).all()
    _, _, (least_kwh, most_kwh) = pebc_view(sent.messages)
    drawn = power.sum() * offer.grid.dt_h
    assert least_kwh - TOL_KWH <= drawn <= most_kwh + TOL_KWH
    if case == "curtail":  # held back in the first hour, caught up within the window
        baseline = np.cumsum(offer.baseline_kw) * offer.grid.dt_h
        assert drawn == pytest.approx(baseline[-1], abs=1e-9)
    if case == "force":
        assert drawn == pytest.approx(most_kwh, abs=1e-6)
    assert_delivered(problem, dispatch)


def test_later_pebc_instructions_replace_earlier_ones(small):
    """The first caps two ISPs, the second (from the second ISP) lifts the cap there."""
    _, offer, _, sent = small
    start = offer.grid.start
    low, high = offer.power_min_kw * 1000, offer.power_max_kw * 1000
    capped = envelope(sent, start, [(lo, lo) for lo in low[:3]], [3_600_000] * 3)
    wide = envelope(sent, start + timedelta(hours=1), [(low[1], high[1])], [3_600_000])
    dispatch = read_pebc_instructions(sent, [wide, capped])
    assert dispatch.power_kw[0] <= low[0] / 1000 + 1e-9
    assert dispatch.power_kw[1] > low[1] / 1000 + 1.0  # caught up where the cap was lifted
    assert_within_offer(offer, dispatch.power_kw)
    with pytest.raises(ff.InputError) as raised:  # capped alone: 22 kWh in the last hour
        read_pebc_instructions(sent, capped)
    assert raised.value.field == "power_envelopes"


def _bad_pebc(sent, offer):
    start, end = offer.grid.start, offer.grid.end
    low, high = offer.power_min_kw * 1000, offer.power_max_kw * 1000
    later, soon = start + timedelta(hours=2), start + timedelta(minutes=30)
    stale = sent.power_constraints[0].id
    element = "power_envelopes[0].power_envelope_elements"
    first = envelope(sent, start, [(low[0], high[0])], [3_600_000])
    return [
        (envelope(sent, start, [(low[0], high[0] + 1)], [3_600_000]), f"{element}[0].upper_limit"),
        (envelope(sent, start, [(low[0] - 1, high[0])], [3_600_000]), f"{element}[0].lower_limit"),
        (envelope(sent, start, [(high[0], low[0])], [3_600_000]), f"{element}[0].lower_limit"),
        (envelope(sent, start, [(low[0], high[0])], [5 * 3_600_000]), f"{element}[0].duration"),
        (
            envelope(sent, start, [(low[0], high[0])], [1], power_constraints_id=uuid.uuid4()),
            "power_constraints_id",
        ),
        (
            envelope(sent, later, [(low[2], high[2])], [1], power_constraints_id=stale),
            "power_constraints_id",
        ),
        (envelope(sent, end, [(low[0], high[0])], [1]), "execution_time"),
        (
            envelope(sent, start, [(lo, lo) for lo in low], [3_600_000] * 4),  # too little energy
            "power_envelopes",
        ),
        (  # two elements in ISP 0 that leave no power between them
            envelope(sent, start, [(high[0], high[0]), (low[0], low[0])], [1_800_000, 1_800_000]),
            f"{element}[1].upper_limit",
        ),
        (
            envelope(sent, start, [(low[0], low[0]), (high[0], high[0])], [1_800_000, 1_800_000]),
            f"{element}[1].lower_limit",
        ),
        ([first, first.model_copy(update={"execution_time": soon})], "id"),
        ([first, envelope(sent, start, [(low[0], high[0])], [1])], "execution_time"),
    ]


def test_pebc_instructions_outside_the_offer_are_refused_naming_the_field(small):
    _, offer, _, sent = small
    for instructions, field in _bad_pebc(sent, offer):
        with pytest.raises(ff.InputError) as raised:
            read_pebc_instructions(sent, instructions)
        assert raised.value.field == field, (field, str(raised.value))
        assert raised.value.obj.startswith("PEBC.Instruction ")
    good = json.loads(envelope(sent, offer.grid.start, [(0.0, 11_000.0)], [1]).to_json())
    for missing in ("power_constraints_id", "power_envelopes"):
        with pytest.raises(ff.InputError) as raised:  # s2-python itself lets them default
            read_pebc_instructions(sent, {k: v for k, v in good.items() if k != missing})
        assert raised.value.field == missing and raised.value.reason == "is required"
    wrong = envelope(sent, offer.grid.start, [(0.0, 11_000.0)], [1])
    wrong.power_envelopes[0].commodity_quantity = CommodityQuantity.ELECTRIC_POWER_L1
    with pytest.raises(ff.InputError) as raised:
        read_pebc_instructions(sent, wrong)
    assert raised.value.field == "power_envelopes[0].commodity_quantity"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    elements=st.lists(
        st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.integers(1, 3 * 3_600_000)),
        min_size=1,
        max_size=5,
    ),
    at_ms=st.integers(0, 3_600_000),
)
def test_pebc_read_back_stays_in_the_envelope_and_the_offer_or_is_refused(wide, elements, at_ms):
    """Limits anywhere in every ISP's allowed range: within them and the offer, or refused."""
    offer, _, sent = wide
    start = offer.grid.start + timedelta(milliseconds=at_ms)
    bottom_w, top_w = offer.power_min_kw.max() * 1000, offer.power_max_kw.min() * 1000
    limits, durations, begin = [], [], at_ms
    for a, b, ms in elements:
        if begin + ms > 4 * 3_600_000:
            break
        lo, hi = sorted((a, b))
        limits.append((bottom_w + lo * (top_w - bottom_w), bottom_w + hi * (top_w - bottom_w)))
        durations.append(ms)
        begin += ms
    if not limits:
        return
    instruction = envelope(sent, start, limits, durations)
    try:
        dispatch = read_pebc_instructions(sent, instruction)
    except ff.InputError as error:
        event(f"refused: {error.field.rsplit('.', 1)[-1]}")
        no_room = error.field == "power_envelopes"  # for the energy band
        disjoint = error.field.endswith("_limit") and "the other way" in error.reason
        assert no_room or disjoint, str(error)  # two elements in one ISP without a common power
        return
    event("accepted")
    power = np.array(dispatch.power_kw)
    assert_within_offer(offer, power)
    edges = at_ms + np.cumsum([0, *durations])
    for (lo_w, hi_w), first, last in zip(limits, edges[:-1], edges[1:], strict=True):
        isps = [k for k in range(4) if k * 3_600_000 < last and (k + 1) * 3_600_000 > first]
        assert (power[isps] >= lo_w / 1000 - 1e-9).all() and (
            power[isps] <= hi_w / 1000 + 1e-9
        ).all()


# -- sessions -------------------------------------------------------------------------------


def joint_plan(problem, plan, index, session_plan):
    """The whole problem's plan: the others at their baseline, the session as planned alone."""
    charge, discharge = plan.charge_kw.copy(), plan.discharge_kw.copy()
    charge[index], discharge[index] = session_plan.charge_kw[0], session_plan.discharge_kw[0]
    return ChargingPlan(problem, charge, discharge, plan.status, plan.backend)


@pytest.mark.parametrize("mode", ["most", "least"])
def test_a_session_chain_is_delivered_with_the_others_at_their_baseline(office, mode):
    problem, plan, _ = office
    index = next(i for i in range(problem.n_sessions) if (problem.presence[i, 30:42] == 1).all())
    resource = S2Resource.of_session(problem, index, plan, window=WINDOW)
    assert resource.kind == "session" and resource.resource_id == problem.session_ids[index]
    net = plan.charge_kw[index] - plan.discharge_kw[index]
    before = float((net * problem.slot_energy_h[index])[: WINDOW[0]].sum())
    assert resource.fill_start_kwh == pytest.approx(before)
    sent = frbc_export(resource)
    assert sent.storage_status.present_fill_level == pytest.approx(before)
    factors, isps = cem_factors(sent.messages, mode)
    dispatch = read_frbc_instructions(sent, instructions_for(sent, factors, isps))
    assert_within_offer(resource.offer, dispatch.power_kw)
    own = assert_delivered(resource.problem, dispatch)
    assert own.session_ids == (problem.session_ids[index],)
    joint = joint_plan(problem, plan, index, own)
    assert ff.verify_plan(problem, joint) == []
    np.testing.assert_allclose(  # before the window the session keeps its baseline
        own.charge_kw[0, : WINDOW[0]],
        plan.charge_kw[index, : WINDOW[0]],
        rtol=0,
        atol=deviation_bound_kw(problem, WINDOW[1]),
    )


def test_a_session_window_to_its_departure_ends_at_its_need():
    problem = small_problem(efficiency=0.9)
    plan = ff.schedule(problem)
    resource = S2Resource.of_session(problem, 0, plan, window=(1, 4))
    sent = frbc_export(resource)
    drawn_before = plan.charge_kw[0, 0] * problem.grid.dt_h
    assert sent.storage_status.present_fill_level == pytest.approx(drawn_before)
    last = sent.fill_level_target_profile.elements[-1].fill_level_range
    assert last.start_of_range == pytest.approx(22.0 / 0.9, rel=1e-9)  # grid side, since plug-in
    assert resource.offer.window == (1, 4)


def phase_problem():
    """Three single-phase cars on L1 under a 16 A per-phase limit, a fourth on L2."""
    grid = ff.TimeGrid(datetime(2026, 3, 2, 18, tzinfo=timezone.utc), timedelta(hours=1), 4)
    return ff.ChargingProblem.from_arrays(
        grid=grid,
        arrival_slot=[0, 0, 0, 0],
        departure_slot=[4, 4, 4, 4],
        energy_kwh=[3.0, 3.0, 2.0, 4.0],
        power_max_kw=7.4,
        node_of_session=[1, 1, 1, 1],
        node_parent=[-1, 0],
        node_capacity_kw=[np.inf, 20.0],
        phase_current_max_a=[np.inf, 16.0],
        session_phases=[[True, False, False]] * 3 + [[False, True, False]],
        price_eur_per_kwh=[0.3, 0.1, 0.2, 0.3],
    )


@pytest.mark.parametrize("index", [0, 3])
def test_a_single_phase_session_keeps_the_phase_limit_the_others_leave(index):
    """The others' load on the session's phase is its limit; the joint plan meets every limit.

    The offer's low ends lie about 1e-6 of the baseline above 0 (battery bands
    shrink by ``BAND_SHRINK``); with hourly slots the least trajectory asks
    for such dust, which the plan drops (``make_safe``: below ``DUST_KW`` is
    0), a deviation beyond the track stage's slack alone.
    """
    problem = phase_problem()
    plan = ff.schedule(problem)
    resource = S2Resource.of_session(problem, index, plan)
    assert resource.commodity_quantity == ("ELECTRIC.POWER.L1", "ELECTRIC.POWER.L2")[index // 3]
    sent = frbc_export(resource)
    for mode in ("most", "least", "alternate"):
        factors, isps = cem_factors(sent.messages, mode)
        dispatch = read_frbc_instructions(sent, instructions_for(sent, factors, isps))
        own = assert_delivered(resource.problem, dispatch, dust=True)
        assert ff.verify_plan(problem, joint_plan(problem, plan, index, own)) == []


def shared_problem():
    """Two 11 kW cars under a 15 kW feeder; two more sharing one 11 kW EVSE elsewhere."""
    grid = ff.TimeGrid(datetime(2026, 3, 2, 18, tzinfo=timezone.utc), timedelta(hours=1), 4)
    return ff.ChargingProblem.from_arrays(
        grid=grid,
        arrival_slot=[0, 0, 0, 0],
        departure_slot=[4, 4, 4, 4],
        energy_min_kwh=[11.0, 11.0, 5.0, 5.0],
        energy_max_kwh=[30.0, 30.0, 15.0, 15.0],
        power_max_kw=11.0,
        node_of_session=[1, 1, 2, 2],
        node_parent=[-1, 0, 0],
        node_capacity_kw=[np.inf, 15.0, np.inf],
        evse_uids=[None, None, "E1", "E1"],
        price_eur_per_kwh=[0.3, 0.1, 0.2, 0.3],
    )


@pytest.mark.parametrize("index", [0, 2])
def test_a_session_keeps_the_node_and_evse_room_the_others_leave(index):
    problem = shared_problem()
    plan = ff.schedule(problem)
    resource = S2Resource.of_session(problem, index, plan)
    mate = index ^ 1  # the other car at the feeder, or on the EVSE
    room = (15.0 if index < 2 else 11.0) - plan.charge_kw[mate]
    assert (resource.offer.power_max_kw <= room + 1e-9).all()
    assert resource.offer.kept_up > 0
    sent = frbc_export(resource)
    for mode in ("most", "least", "alternate"):
        factors, isps = cem_factors(sent.messages, mode)
        dispatch = read_frbc_instructions(sent, instructions_for(sent, factors, isps))
        own = assert_delivered(resource.problem, dispatch, dust=True)
        assert ff.verify_plan(problem, joint_plan(problem, plan, index, own)) == []


def test_session_and_node_resources_refuse_what_s2_cannot_carry(office):
    problem, plan, offer = office
    box = box_offer(problem, 0, plan, window=WINDOW)
    two_phase = phase_problem().replace(session_phases=[[True, True, False]] * 4)
    index = next(i for i in range(problem.n_sessions) if problem.presence[i, 0] == 0)
    for call, field in [
        (lambda: S2Resource.of_node(problem, box), "offer"),
        (lambda: S2Resource.of_node(problem, offer, "ELECTRIC.POWER"), "commodity_quantity"),
        (lambda: S2Resource.of_node(small_problem(), offer), "problem"),
        (lambda: S2Resource.of_session(problem, "no-such-session", plan), "session"),
        (lambda: S2Resource.of_session(problem, index, plan, window=(0, 4)), "window"),
        (lambda: S2Resource.of_session(problem, index, plan, window="all"), "window"),
        (lambda: S2Resource.of_session(problem, index, plan, window=(40, 30)), "window"),
        (lambda: S2Resource.of_session(offer, index, plan), "problem"),
        (lambda: S2Resource.of_session(two_phase, 0), "session"),
        (lambda: frbc_export(offer), "resource"),
        (lambda: pebc_export(offer), "resource"),
    ]:
        with pytest.raises(ff.InputError) as raised:
            call()
        assert raised.value.field == field, str(raised.value)


def test_frbc_refuses_an_offer_whose_fill_level_cannot_change():
    problem = small_problem().replace(arrival_slot=[2])
    offer = battery_offer(problem, 0, window=(0, 2))  # nobody plugged in
    with pytest.raises(ff.InputError, match="no room to change") as raised:
        frbc_export(S2Resource.of_node(problem, offer))
    assert raised.value.field == "resource"
    sent = pebc_export(S2Resource.of_node(problem, offer))
    assert sent.energy_constraint.upper_average_power == 0.0


def test_an_offer_longer_than_an_s2_profile_is_refused():
    grid = ff.TimeGrid(datetime(2026, 3, 2, tzinfo=timezone.utc), timedelta(minutes=1), 300)
    problem = ff.ChargingProblem.from_arrays(
        grid=grid,
        arrival_slot=[0],
        departure_slot=[300],
        energy_kwh=[5.0],
        power_max_kw=3.7,
        node_of_session=[0],
        node_parent=[-1],
        node_capacity_kw=np.inf,
        price_eur_per_kwh=0.2,
    )
    offer = battery_offer(problem, 0)
    with pytest.raises(ff.InputError, match="at most 288"):
        S2Resource.of_node(problem, offer)


def test_a_missing_s2_python_names_the_extra(small, monkeypatch):
    _, _, sent, _ = small
    s2_library.cache_clear()
    monkeypatch.setitem(sys.modules, "s2python.frbc", None)
    try:
        with pytest.raises(ImportError, match=r"fera_flex\[s2\]"):
            frbc_export(sent.resource)
    finally:
        s2_library.cache_clear()
