"""UFTP 3.1 against shapeshifter-uftp: what we write it parses, what it writes we read."""

import json
import pickle
import sys
import uuid
from base64 import b64decode, b64encode
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.bindings import crypto_sign, crypto_sign_keypair
from shapeshifter_uftp import (
    DPrognosis,
    FlexOffer,
    FlexOrder,
    FlexOrderISP,
    FlexRequest,
    FlexRequestISP,
    SignedMessage,
)
from shapeshifter_uftp.transport import from_xml, seal_message, to_xml, unseal_message

from fera_flex.errors import InputError
from fera_flex.flexibility import aggregate, disaggregate, dispatch_deviation_kw, options_offer
from fera_flex.flexibility.offers import box_offer
from fera_flex.models.scenario import Scenario
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.schedule import schedule
from fera_flex.scheduling.verify import verify_plan
from fera_flex.standards.uftp import (
    SignatureError,
    UftpLink,
    d_prognosis,
    flex_offer,
    period_windows,
    read_flex_order,
    read_flex_request,
    seal,
    unseal,
)
from fera_flex.timeseries import TimeGrid
from tests.models.ocpp.schemas import validator

SCENARIOS = Path(__file__).resolve().parents[2] / "examples" / "scenarios"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
AGR, DSO = "agr.example.com", "dso.example.com"
TRAFO_EA = "ean.871685900000000001"
NOW = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
LATER = NOW + timedelta(hours=1)
WINDOW = (40, 80)  # office_depot: 10:00-20:00 UTC on 2026-03-02, inside the local day
DEVIATION_KW = 1e-4  # a followed dispatch is met to the stage tolerance (< 0.1 W here)


def keypair():
    public, private = crypto_sign_keypair()
    return b64encode(public).decode(), b64encode(private).decode()


@pytest.fixture(scope="module")
def office():
    problem = ChargingProblem.from_scenario(Scenario.load(SCENARIOS / "office_depot.json"))
    plan = schedule(problem)
    link = UftpLink(agr_domain=AGR, dso_domain=DSO, congestion_points={"trafo": TRAFO_EA})
    offer = options_offer(problem, "trafo", plan, window=WINDOW)
    sent = flex_offer(
        link,
        problem,
        offer,
        expires=NOW + timedelta(hours=12),
        min_activation_factor=0.5,
        d_prognosis_message_id=str(uuid.uuid4()),
        now=NOW,
    )
    return problem, plan, link, offer, sent


def isp_map(isps):
    """ISP number -> power of shapeshifter ISP objects (Duration expanded)."""
    found = {}
    for isp in isps:
        for number in range(isp.start, isp.start + isp.duration):
            assert number not in found
            found[number] = isp.power
    return found


def local_isp(instant):
    """1-based ISP number of an instant in its local day, by wall-clock arithmetic."""
    local = instant.astimezone(AMSTERDAM)
    midnight = datetime(local.year, local.month, local.day, tzinfo=AMSTERDAM)
    elapsed = instant - midnight.astimezone(timezone.utc)
    return int(elapsed.total_seconds()) // 900 + 1


def order_for(sent, option=0, factor="1.00", isps=None, **changes):
    """The DSO's FlexOrder for one option of our offer, built with shapeshifter's classes."""
    offer = from_xml(sent.xml)
    chosen = offer.offer_options[option]
    fields = {
        "sender_domain": DSO,
        "recipient_domain": AGR,
        "time_stamp": "2026-03-01T14:00:00+01:00",
        "message_id": str(uuid.uuid4()),
        "conversation_id": offer.conversation_id,
        "isp_duration": offer.isp_duration,
        "time_zone": offer.time_zone,
        "period": offer.period,
        "congestion_point": offer.congestion_point,
        "flex_offer_message_id": offer.message_id,
        "price": chosen.price,
        "currency": offer.currency,
        "order_reference": "order-1",
        "option_reference": chosen.option_reference,
        "activation_factor": Decimal(factor),
        "isps": isps
        if isps is not None
        else [FlexOrderISP(power=i.power, start=i.start, duration=i.duration) for i in chosen.isps],
    }
    fields.update(changes)
    return FlexOrder(**fields)


# --- FlexOffer -----------------------------------------------------------------------------


def test_flex_offer_parses_into_shapeshifter_classes(office):
    problem, _, _, offer, sent = office
    parsed = from_xml(sent.xml)
    assert isinstance(parsed, FlexOffer)
    assert (parsed.version, parsed.sender_domain, parsed.recipient_domain) == ("3.1.0", AGR, DSO)
    assert (str(parsed.isp_duration), parsed.time_zone) == ("PT15M", "Europe/Amsterdam")
    assert str(parsed.period) == "2026-03-02" == sent.period.isoformat()
    assert parsed.congestion_point == TRAFO_EA and parsed.message_id == sent.message_id
    assert parsed.unsolicited is True and parsed.flex_request_message_id is None
    assert parsed.currency == "EUR"
    assert datetime.fromisoformat(parsed.expiration_date_time) == NOW + timedelta(hours=12)
    assert len(parsed.offer_options) == len(offer.options_kw) >= 2
    first_slot = problem.grid.start + timedelta(seconds=WINDOW[0] * problem.grid.step_s)
    first_isp = local_isp(first_slot)
    assert first_isp == 45  # 10:00 UTC is 11:00 CET
    for k, option in enumerate(parsed.offer_options):
        assert option.min_activation_factor == Decimal("0.50")
        cost = offer.option_cost_eur[k]
        assert max(cost, 0) <= float(option.price) < max(cost, 0) + 1e-4
        powers = isp_map(option.isps)
        assert sorted(powers) == list(range(first_isp, first_isp + WINDOW[1] - WINDOW[0]))
        change_w = (offer.options_kw[k] - offer.baseline_kw) * 1000  # the change, not the load
        np.testing.assert_array_equal([powers[n] for n in sorted(powers)], np.rint(change_w))
    assert len({o.option_reference for o in parsed.offer_options}) == len(parsed.offer_options)


def ninety_minute_problem():
    """Four cars on 90-minute slots (six ISPs each) from 2026-03-02 00:00 UTC (01:00 CET).

    They arrive mid-slot: partial first slots keep every solve on HiGHS (no JIT compile).
    """
    grid = TimeGrid(datetime(2026, 3, 2, tzinfo=timezone.utc), 5400, 16)
    return ChargingProblem.from_arrays(
        grid=grid,
        arrival_slot=[0, 1, 2, 4],
        departure_slot=[8, 6, 12, 15],
        first_slot_fraction=[1.0, 0.5, 0.5, 0.25],
        energy_kwh=[20.0, 10.0, 30.0, 15.0],
        power_max_kw=[11.0, 7.4, 11.0, 22.0],
        node_of_session=[0, 0, 0, 0],
        node_parent=[-1],
        node_capacity_kw=40.0,
        price_eur_per_kwh=np.linspace(0.4, 0.2, 16),
        node_ids=["n0"],
    )


def test_slots_of_several_isps_and_a_solicited_offer():
    problem = ninety_minute_problem()
    plan = schedule(problem)
    link = UftpLink(AGR, DSO, {"n0": "ea1.2026-03.dso.example.com:n0"})
    day, window = period_windows(problem.grid, link.time_zone)[0]
    assert (day, window) == (date(2026, 3, 2), (0, 15))  # slot 15 crosses local midnight
    offer = options_offer(problem, "n0", plan, window=(2, 6))
    wanted = [
        FlexRequestISP(disposition="Requested", min_power=-(10**6), max_power=-1000, start=20),
        FlexRequestISP(disposition="Available", min_power=-(10**6), max_power=10**6, start=60),
    ]
    request = read_flex_request(
        link, request_for(wanted, congestion_point="ea1.2026-03.dso.example.com:n0"), plan
    )
    assert request.requested.nonzero()[0].tolist() == [2]  # ISP 20 is in slot 2 (ISPs 17..22)
    sent = flex_offer(link, problem, offer, expires=LATER, request=request, now=NOW)
    with pytest.raises(InputError, match="covers none of the Requested slots"):
        flex_offer(
            link,
            problem,
            options_offer(problem, "n0", plan, window=(3, 6)),
            expires=LATER,
            now=NOW,
            request=request,
        )
    parsed = from_xml(sent.xml)
    assert parsed.flex_request_message_id == request.message_id and not parsed.unsolicited
    assert parsed.conversation_id == request.conversation_id
    first_isp = local_isp(problem.grid.start + timedelta(seconds=2 * problem.grid.step_s))
    assert first_isp == sent.first_isp == 17
    for k, option in enumerate(parsed.offer_options):
        assert option.min_activation_factor == Decimal("1.00")
        powers = isp_map(option.isps)
        assert sorted(powers) == list(range(first_isp, first_isp + 24))
        per_slot = np.array([powers[n] for n in sorted(powers)]).reshape(4, 6)
        assert (per_slot == per_slot[:, :1]).all()
        np.testing.assert_array_equal(
            per_slot[:, 0], np.rint((offer.options_kw[k] - offer.baseline_kw) * 1000)
        )
    # the DSO may write the same ISPs one by one: still the offer's ISPs
    single = [
        FlexOrderISP(power=power, start=number)
        for number, power in sorted(isp_map(parsed.offer_options[1].isps).items())
    ]
    order = order_for(sent, option=1, isps=single, time_stamp="2026-03-01T13:00:00Z")
    received = read_flex_order(link, to_xml(order), [sent])
    np.testing.assert_allclose(received.dispatch.power_kw, offer.options_kw[1])


def test_an_offer_across_midnight_is_refused_and_windows_split_per_period():
    problem = ChargingProblem.from_scenario(Scenario.load(SCENARIOS / "residential_street.json"))
    assert period_windows(problem.grid, "Europe/Amsterdam") == [
        (date(2026, 3, 2), (0, 48)),
        (date(2026, 3, 3), (48, 96)),
    ]
    plan = schedule(problem)
    link = UftpLink(AGR, DSO, {"lv-feeder": "ea1.2026-03.dso.example.com:lv"})
    offer = box_offer(problem, "lv-feeder", plan, window=(44, 52))
    crossing = replace(offer, shape="options", options_kw=offer.power_max_kw[None, :])
    with pytest.raises(InputError) as info:
        flex_offer(link, problem, crossing, expires=LATER, baseline_reference="b", now=NOW)
    assert info.value.field == "window" and info.value.value == (44, 52)
    assert "2026-03-02" in str(info.value) and "after slot 47" in str(info.value)
    with pytest.raises(InputError, match="options offer"):
        flex_offer(link, problem, offer, expires=LATER, baseline_reference="b", now=NOW)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"min_activation_factor": 0.005}, "min_activation_factor"),
        ({"min_activation_factor": 1.5}, "min_activation_factor"),
        ({"min_activation_factor": 0.555}, "min_activation_factor"),
        ({"expires": datetime(2026, 3, 2)}, "expires"),
        ({"d_prognosis_message_id": None}, "d_prognosis_message_id"),
        ({"d_prognosis_message_id": "prognosis-7"}, "d_prognosis_message_id"),
        ({"expires": NOW}, "expires"),
        ({"now": datetime(2026, 3, 1)}, "now"),
    ],
)
def test_flex_offer_arguments_are_checked(office, changes, field):
    problem, _, link, offer, _ = office
    arguments = {"expires": LATER, "now": NOW, "d_prognosis_message_id": str(uuid.uuid4())}
    arguments.update(changes)
    with pytest.raises(InputError) as info:
        flex_offer(link, problem, offer, **arguments)
    assert info.value.field == field
    other = UftpLink(AGR, DSO, {"feeder-A": "ean.871685900000000002"})
    with pytest.raises(InputError, match="not a congestion point"):
        flex_offer(other, problem, offer, expires=LATER, baseline_reference="b", now=NOW)


def test_partial_activation_needs_a_deliverable_baseline(office):
    problem, _, link, offer, _ = office
    # a baseline 1 MW above the plan's is beyond the 450 kW transformer: not deliverable, so
    # only the options themselves (a full activation) are
    lifted = replace(offer, baseline_kw=offer.baseline_kw + 1000.0)
    with pytest.raises(InputError) as info:
        flex_offer(
            link,
            problem,
            lifted,
            expires=LATER,
            min_activation_factor=0.5,
            baseline_reference="b",
            now=NOW,
        )
    assert info.value.field == "min_activation_factor" and "baseline" in info.value.reason
    sent = flex_offer(link, problem, lifted, expires=LATER, baseline_reference="b", now=NOW)
    assert from_xml(sent.xml).offer_options[0].min_activation_factor == Decimal("1.00")
    broken = replace(offer, options_kw=offer.options_kw + 1000.0)
    with pytest.raises(InputError, match="not deliverable") as info:
        flex_offer(link, problem, broken, expires=LATER, baseline_reference="b", now=NOW)
    assert info.value.field == "offer.options_kw[0]"


@settings(max_examples=25)
@given(data=st.data())
def test_every_factor_from_the_minimum_to_one_is_deliverable(office, data):
    problem, _, _, offer, sent = office
    flexibility = aggregate(problem, "trafo")
    option = data.draw(st.integers(0, len(offer.options_kw) - 1))
    factor = data.draw(st.integers(int(sent.min_activation_factor * 100), 100)) / 100
    profile = offer.baseline_kw + factor * (offer.options_kw[option] - offer.baseline_kw)
    lower = np.full(problem.n_slots, -np.inf)
    upper = np.full(problem.n_slots, np.inf)
    lower[slice(*WINDOW)] = profile - 1e-9
    upper[slice(*WINDOW)] = profile + 1e-9
    assert flexibility.within(lower, upper)


# --- FlexOrder ------------------------------------------------------------------------------


@pytest.mark.parametrize("factor", ["0.50", "1.00"])
def test_round_trip_offer_order_disaggregate_ocpp(office, factor):
    problem, _, link, offer, sent = office
    dso_public, dso_private = keypair()
    order = order_for(sent, option=1, factor=factor)
    sealed = seal_message(order, dso_private)
    envelope = to_xml(SignedMessage(sender_domain=DSO, sender_role="DSO", body=sealed))
    received = read_flex_order(link, unseal(envelope, dso_public), [sent])
    assert (received.option_reference, received.order_reference) == ("option-1", "order-1")
    assert received.activation_factor == Decimal(factor)
    assert received.dispatch.offer_id == sent.message_id
    f = float(factor)
    wanted = offer.baseline_kw + f * (offer.options_kw[1] - offer.baseline_kw)
    np.testing.assert_allclose(received.dispatch.power_kw, wanted, rtol=0, atol=1e-12)
    plan = disaggregate(problem, received.dispatch)
    assert verify_plan(problem, plan) == []
    assert np.abs(dispatch_deviation_kw(plan)).max() < DEVIATION_KW
    load = problem.node_loads_kw(plan.charge_kw - plan.discharge_kw)[0]
    np.testing.assert_allclose(load[slice(*WINDOW)], wanted, atol=DEVIATION_KW)
    requests = plan.to_ocpp_requests({s: k + 1 for k, s in enumerate(plan.session_ids)})
    check = validator("SetChargingProfileRequest")
    for index, request in enumerate(requests):
        check.validate(json.loads(request.model_dump_json(by_alias=True, exclude_none=True)))
        schedule_ = request.charging_profile.charging_schedule[0]
        start_s = int(schedule_.start_schedule.timestamp())
        for period in schedule_.charging_schedule_period:
            slot = problem.grid.index_of(start_s + period.start_period)
            assert period.limit / 1000 <= plan.charge_kw[index, slot] + 1e-12
            assert period.limit / 1000 <= problem.power_max_kw[index, slot] + 1e-12


def _fields(sent):
    offered = from_xml(sent.xml).offer_options[0].isps
    changed = [FlexOrderISP(power=i.power, start=i.start, duration=i.duration) for i in offered]
    changed[3] = FlexOrderISP(power=changed[3].power + 1, start=changed[3].start)
    return [
        ({"activation_factor": Decimal("0.40")}, "ActivationFactor", "0.40"),
        ({"activation_factor": Decimal("1.50")}, "ActivationFactor", "1.50"),
        ({"isps": [FlexOrderISP(power=100, start=97)]}, "ISP[0].Start", "97"),
        ({"isps": [FlexOrderISP(power=100, start=90, duration=8)]}, "ISP[0].Start", "90"),
        ({"isps": changed}, "ISP", f"ISP 48: {changed[3].power} W"),
        ({"isps": changed[4:]}, "ISP", "ISP 45: absent"),
        ({"congestion_point": "ean.999999999999"}, "CongestionPoint", "ean.999999999999"),
        ({"flex_offer_message_id": str(uuid.uuid4())}, "FlexOfferMessageID", "unknown offer"),
        ({"option_reference": "option-9"}, "OptionReference", "option-9"),
        ({"sender_domain": "other.example.com"}, "SenderDomain", "other.example.com"),
        ({"recipient_domain": "else.example.com"}, "RecipientDomain", "else.example.com"),
        ({"period": from_xml(sent.xml).period.replace(day=3)}, "Period", "2026-03-03"),
        ({"time_zone": "Europe/London"}, "TimeZone", "Europe/London"),
        ({"isp_duration": "PT30M"}, "ISP-Duration", "PT30M"),
        ({"unsolicited": True}, "Unsolicited", "true"),
        ({"currency": "USD"}, "Currency", "USD"),
        ({"time_stamp": "2026-03-02T00:00:01Z"}, "TimeStamp", "2026-03-02T00:00:01"),
        ({"version": "2.0.0"}, "Version", "2.0.0"),
    ]


def test_flex_order_errors_name_message_field_and_value(office):
    _, _, link, _, sent = office
    for changes, field, shown in _fields(sent):
        order = order_for(sent, factor=changes.pop("activation_factor", "1.00"), **changes)
        with pytest.raises(InputError) as info:
            read_flex_order(link, to_xml(order), [sent])
        error = info.value
        assert error.obj == f"FlexOrder {order.message_id}", changes
        assert error.field == field, (changes, str(error))
        assert shown in str(error), (changes, str(error))
    below = order_for(sent, factor="0.40")
    with pytest.raises(InputError, match=r"MinActivationFactor 0\.50"):
        read_flex_order(link, to_xml(below), [sent])
    with pytest.raises(InputError, match="root element"):
        read_flex_order(link, sent.xml, [sent])


# --- D-Prognosis ------------------------------------------------------------------------------


def test_d_prognosis_of_the_baseline_plan(office):
    problem, plan, link, offer, _ = office
    with pytest.raises(InputError) as info:
        d_prognosis(link, plan, "trafo", date(2026, 3, 2), revision=1)
    assert info.value.field == "day" and "ISPs 1..4" in info.value.reason
    message = d_prognosis(link, plan, "trafo", date(2026, 3, 2), revision=3, fill_w=0, now=NOW)
    parsed = from_xml(message.xml)
    assert isinstance(parsed, DPrognosis) and parsed.revision == 3
    assert parsed.message_id == message.message_id and parsed.congestion_point == TRAFO_EA
    powers = isp_map(parsed.isps)
    assert sorted(powers) == list(range(1, 97))
    load_kw = problem.node_loads_kw(plan.charge_kw - plan.discharge_kw)[0]
    assert [powers[n] for n in range(1, 5)] == [0, 0, 0, 0]  # 00:00-01:00 local: before the plan
    np.testing.assert_array_equal([powers[n] for n in range(5, 97)], np.rint(load_kw[:92] * 1000))
    window = [powers[sent_isp] for sent_isp in range(45, 85)]
    np.testing.assert_array_equal(window, np.rint(offer.baseline_kw * 1000))


@pytest.mark.parametrize(
    ("day", "start", "n_isps"),
    [
        (date(2026, 3, 29), datetime(2026, 3, 28, 23, tzinfo=timezone.utc), 92),
        (date(2026, 10, 25), datetime(2026, 10, 24, 22, tzinfo=timezone.utc), 100),
    ],
)
def test_d_prognosis_on_the_days_clocks_change(day, start, n_isps):
    grid = TimeGrid(start, 900, n_isps)
    problem = ChargingProblem.from_arrays(
        grid=grid,
        arrival_slot=[n_isps - 12],
        departure_slot=[n_isps],
        energy_kwh=[20.0],
        power_max_kw=11.0,
        node_of_session=[0],
        node_parent=[-1],
        node_capacity_kw=50.0,
        price_eur_per_kwh=0.3,
    )
    plan = schedule(problem, "highs")
    link = UftpLink(AGR, DSO, {"n0": "ean.871685900000000004"})
    assert period_windows(grid, link.time_zone) == [(day, (0, n_isps))]
    powers = isp_map(from_xml(d_prognosis(link, plan, 0, day, revision=1).xml).isps)
    assert sorted(powers) == list(range(1, n_isps + 1))
    np.testing.assert_array_equal(
        [powers[n] for n in range(1, n_isps + 1)], np.rint(plan.charge_kw[0] * 1000)
    )
    assert sum(powers.values()) / 1000 * 0.25 == pytest.approx(20.0, abs=0.01)


# --- FlexRequest ------------------------------------------------------------------------------


def request_for(isps, **changes):
    fields = {
        "sender_domain": DSO,
        "recipient_domain": AGR,
        "time_stamp": "2026-03-01T10:00:00+01:00",
        "message_id": str(uuid.uuid4()),
        "conversation_id": str(uuid.uuid4()),
        "isp_duration": "PT15M",
        "period": "2026-03-02",
        "congestion_point": TRAFO_EA,
        "revision": 2,
        "expiration_date_time": "2026-03-01T18:00:00+01:00",
        "isps": isps,
    }
    fields.update(changes)
    return to_xml(FlexRequest(**fields))


def congestion_request():
    """Reduce 50 to 300 kW in ISPs 53..56 (slots 48..51); up to 100 kW more elsewhere."""
    isps = [
        FlexRequestISP(
            disposition="Available", min_power=-1_000_000, max_power=100_000, start=1, duration=52
        ),
        FlexRequestISP(
            disposition="Requested", min_power=-300_000, max_power=-50_000, start=53, duration=4
        ),
        FlexRequestISP(
            disposition="Available", min_power=-1_000_000, max_power=100_000, start=57, duration=40
        ),
    ]
    return request_for(isps)


def test_flex_request_is_a_band_that_schedule_follows(office):
    problem, plan, link, _, _ = office
    request = read_flex_request(link, congestion_request(), plan)
    assert (request.node_id, request.period, request.revision) == ("trafo", date(2026, 3, 2), 2)
    assert request.expires == datetime(2026, 3, 1, 17, tzinfo=timezone.utc)
    baseline = problem.node_loads_kw(plan.charge_kw - plan.discharge_kw)[0]
    np.testing.assert_allclose(request.band_max_kw[48:52], baseline[48:52] - 50)
    np.testing.assert_allclose(request.band_min_kw[48:52], baseline[48:52] - 300)
    np.testing.assert_allclose(request.band_max_kw[:48], baseline[:48] + 100)
    assert np.isnan(request.band_min_kw[92:]).all()  # 2026-03-03 local: not in the request
    assert request.requested.nonzero()[0].tolist() == [48, 49, 50, 51]
    constrained = request.apply(problem)
    assert np.isneginf(constrained.node_target_min_kw[0, 92:]).all()  # free where not named
    assert np.isinf(constrained.node_target_max_kw[1:]).all()  # other nodes untouched
    with pytest.raises(InputError) as info:
        request.apply(ninety_minute_problem())
    assert info.value.field == "problem"
    followed = schedule(constrained)
    assert verify_plan(problem, followed) == []
    assert np.abs(dispatch_deviation_kw(followed)).max() < DEVIATION_KW
    load = problem.node_loads_kw(followed.charge_kw - followed.discharge_kw)[0]
    assert (load[48:52] <= baseline[48:52] - 50 + DEVIATION_KW).all()
    assert followed.unmet_kwh.sum() == pytest.approx(plan.unmet_kwh.sum(), abs=1e-6)


def test_flex_request_errors(office):
    _, plan, link, _, _ = office

    def isp(disposition, low, high, start, duration=1):
        return FlexRequestISP(
            disposition=disposition, min_power=low, max_power=high, start=start, duration=duration
        )

    cases = [
        ([isp("Available", -10, 10, 50)], "ISP", "no Requested ISP"),
        ([isp("Requested", -10, 10, 50)], "ISP[0].MaxPower", "direction"),
        ([isp("Requested", 10, -10, 50)], "ISP[0].MinPower", "exceeds MaxPower"),
        ([isp("Requested", -10, -5, 2)], "ISP", "outside the plan's horizon"),
        ([isp("Requested", -10, -5, 95, 3)], "ISP[0].Start", "outside the period"),
        ([isp("Requested", -10, -5, 50), isp("Available", -9, 9, 50)], "ISP[1].Start", "twice"),
        ([isp("Maybe", -10, -5, 50)], "ISP[0].Disposition", "Maybe"),
    ]
    for isps, field, text in cases:
        with pytest.raises(InputError) as info:
            read_flex_request(link, request_for(isps), plan)
        assert info.value.field == field and text in str(info.value), str(info.value)
        assert info.value.obj.startswith("FlexRequest ")
    with pytest.raises(InputError) as info:
        read_flex_request(
            link,
            request_for([isp("Requested", -10, -5, 50)], congestion_point="ean.123456789012"),
            plan,
        )
    assert info.value.field == "CongestionPoint" and info.value.reason == "unknown congestion point"


# --- Sealing --------------------------------------------------------------------------------


def test_sealing_interoperates_both_ways(office):
    _, _, link, _, sent = office
    agr_public, agr_private = keypair()
    envelope = seal(sent.xml, agr_private)
    parsed = from_xml(envelope)
    assert isinstance(parsed, SignedMessage)
    assert (parsed.sender_domain, str(parsed.sender_role)) == (AGR, "AGR")
    inner = unseal_message(parsed.body, agr_public)
    assert isinstance(inner, FlexOffer) and inner.message_id == sent.message_id
    assert unseal(envelope, agr_public) == sent.xml
    # the key as a cs1. DNS string (verify key followed by an encryption key)
    dns = "cs1." + b64encode(b64decode(agr_public) + bytes(32)).decode()
    assert unseal(envelope, dns) == sent.xml
    dso_public, dso_private = keypair()
    theirs = to_xml(
        SignedMessage(
            sender_domain=DSO, sender_role="DSO", body=seal_message(order_for(sent), dso_private)
        )
    )
    assert read_flex_order(link, unseal(theirs, dso_public), [sent]).activation_factor == 1


def test_tampered_or_wrongly_signed_messages_are_rejected(office):
    _, _, _, _, sent = office
    agr_public, agr_private = keypair()
    other_public, _ = keypair()
    envelope = seal(sent.xml, agr_private)
    body = from_xml(envelope).body  # the sealed bytes: signature, then the message
    tampered = bytearray(body)
    tampered[64 + body[64:].index(b"Price=") + 7] ^= 1  # one digit of a price
    forged = envelope.replace(b64encode(body).decode(), b64encode(bytes(tampered)).decode())
    for text, key in ((forged, agr_public), (envelope, other_public)):
        with pytest.raises(SignatureError) as info:
            unseal(text, key)
        assert info.value.field == "Body" and "does not verify" in info.value.reason
        assert info.value.obj == f"SignedMessage from {AGR} (AGR)"
    unsigned = envelope.replace(
        b64encode(body).decode(), b64encode(bytes(64) + sent.xml.encode()).decode()
    )
    with pytest.raises(SignatureError):
        unseal(unsigned, agr_public)
    with pytest.raises(InputError, match="not base64"):
        unseal(envelope.replace(b64encode(body).decode(), "@@@"), agr_public)
    with pytest.raises(InputError) as info:
        unseal(envelope.replace('SenderDomain="agr', 'SenderDomain="other', 1), agr_public)
    assert info.value.field == "SenderDomain"  # the envelope's sender is not the inner one's
    with pytest.raises(InputError, match="SenderRole"):
        unseal(envelope.replace('SenderRole="AGR"', 'SenderRole="BRP"'), agr_public)
    with pytest.raises(InputError, match="32 bytes"):
        unseal(envelope, agr_private)
    with pytest.raises(InputError) as info:
        seal(sent.xml, agr_public)
    assert info.value.field == "private_key" and agr_public not in str(info.value)


# --- Hostile input ------------------------------------------------------------------------------

XXE = """<?xml version="1.0"?>
<!DOCTYPE FlexOrder [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<FlexOrder Version="3.1.0" OrderReference="&secret;"/>"""

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<FlexOrder Version="3.1.0" OrderReference="&lol9;"/>"""


def test_xxe_and_billion_laughs_are_refused(office):
    _, plan, link, _, sent = office
    for document in (XXE, LAUGHS):
        for read in (
            lambda xml: read_flex_order(link, xml, [sent]),
            lambda xml: read_flex_request(link, xml, plan),
        ):
            with pytest.raises(InputError, match="refused"):
                read(document)
    public, private = keypair()
    signed_laughs = b64encode(crypto_sign(LAUGHS.encode(), b64decode(private))).decode()
    envelope = f'<SignedMessage SenderDomain="{AGR}" SenderRole="AGR" Body="{signed_laughs}"/>'
    with pytest.raises(InputError, match="refused"):
        unseal(envelope, public)  # a signed bomb is still a bomb
    with pytest.raises(InputError, match="refused"):
        unseal(XXE.replace("FlexOrder", "SignedMessage"), public)


def test_size_limit_and_malformed_input(office):
    _, _, link, _, sent = office
    order = to_xml(order_for(sent))
    with pytest.raises(InputError, match="exceeds the 1000-byte limit"):
        read_flex_order(link, order, [sent], max_bytes=1000)
    with pytest.raises(InputError, match="exceeds"):
        read_flex_order(link, "<a>" + " " * (1 << 20) + "</a>", [sent])
    with pytest.raises(InputError, match="not well-formed"):
        read_flex_order(link, order[:-20], [sent])
    with pytest.raises(InputError, match="str or bytes"):
        read_flex_order(link, 42, [sent])
    assert read_flex_order(link, order.encode(), [sent]).order_reference == "order-1"


def test_missing_extra_packages_give_a_clear_message(office, monkeypatch):
    _, _, link, _, sent = office
    monkeypatch.setitem(sys.modules, "defusedxml", None)
    with pytest.raises(ImportError, match=r"fera_flex\[uftp\]"):
        read_flex_order(link, sent.xml, [sent])
    monkeypatch.undo()
    monkeypatch.setitem(sys.modules, "nacl.bindings", None)
    with pytest.raises(ImportError, match=r"needs nacl to sign messages.*fera_flex\[uftp\]"):
        seal(sent.xml, keypair()[1])


# --- The link ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"agr_domain": "Agr_Example"}, "agr_domain"),
        ({"dso_domain": "localhost"}, "dso_domain"),
        ({"congestion_points": {}}, "congestion_points"),
        ({"congestion_points": {"a": "cp1"}}, "congestion_points['a']"),
        ({"congestion_points": {"a": TRAFO_EA, "b": TRAFO_EA}}, "congestion_points"),
        ({"time_zone": "Asia/Tokyo"}, "time_zone"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone"),
        ({"isp_duration": "PT1H"}, "isp_duration"),
        ({"isp_duration": "PT0M"}, "isp_duration"),
    ],
)
def test_link_is_checked(changes, field):
    arguments = {"agr_domain": AGR, "dso_domain": DSO, "congestion_points": {"n0": TRAFO_EA}}
    with pytest.raises(InputError) as info:
        UftpLink(**{**arguments, **changes})
    assert info.value.field == field


def test_link_and_sent_offer_pickle(office):
    _, _, link, _, sent = office
    assert pickle.loads(pickle.dumps(link)) == link
    again = pickle.loads(pickle.dumps(sent))
    assert again.message_id == sent.message_id and again.xml == sent.xml
    np.testing.assert_array_equal(again.isp_power_w, sent.isp_power_w)
