"""fera-flex speaks the standards: offers as S2, USEF, OSCP and OpenADR messages, answers back.

Every file the command line writes is read with the standard's own package or
document: shapeshifter-uftp's ``from_xml``, s2-python's ``S2Parser``, the
OpenADR 3.1.0 OpenAPI document (the helper of ``tests/standards/test_openadr.py``)
and the OSCP models. The answers (a FlexOrder, FRBC and PEBC instructions, a
FLEX event) are written with the same packages, from what the files say only,
and ``dispatch`` must turn them into OCPP requests valid against the OCA
schemas that deliver them.
"""

import itertools
import json
import math
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from s2python.common import Duration
from s2python.frbc import FRBCInstruction
from s2python.pebc import PEBCInstruction, PEBCPowerEnvelope, PEBCPowerEnvelopeElement
from s2python.s2_parser import S2Parser
from shapeshifter_uftp import FlexOffer, FlexOrder, FlexOrderISP
from shapeshifter_uftp.transport import from_xml, to_xml

from fera_flex import cli
from fera_flex.flexibility import battery_offer, options_offer
from fera_flex.models.scenario import Scenario
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.schedule import schedule
from fera_flex.standards.openadr import available_flex, read_flex_delta_report
from fera_flex.standards.oscp import AdjustGroupCapacityForecast
from tests.models.ocpp.schemas import validator
from tests.standards.test_openadr import assert_valid, baseline_event, flex_event

ROOT = Path(__file__).resolve().parents[1]
OFFICE = ROOT / "examples" / "scenarios" / "office_depot.json"
STREET = ROOT / "examples" / "scenarios" / "residential_street.json"
SP = "8712423014022"  # an EAN13 with a valid check digit
HOUR = timedelta(hours=1)
USEF_WINDOW = (40, 56)  # office depot: 10:00-14:00 UTC, 11:00-15:00 in Amsterdam
S2_WINDOW = (32, 40)  # 08:00-10:00 UTC
ADR_WINDOW = (32, 64)  # 08:00-16:00 UTC


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_ocpp_valid(folder: Path) -> int:
    """Every OCPP request written validates against the OCA schema; how many there are."""
    check = validator("SetChargingProfileRequest")
    files = sorted((folder / "ocpp").glob("*/*.json"))
    requests = [request for file in files for request in json.loads(file.read_text())]
    for request in requests:
        check.validate(request)
    return len(requests)


def isp_powers(isps) -> dict[int, int]:
    """ISP number -> power of shapeshifter ISP objects (their Duration expanded)."""
    return {n: isp.power for isp in isps for n in range(isp.start, isp.start + isp.duration)}


def only(folder: Path, suffix: str) -> Path:
    (path,) = sorted(folder.glob(f"*{suffix}"))
    return path


@pytest.fixture(scope="module")
def office():
    problem = ChargingProblem.from_scenario(Scenario.load(OFFICE))
    return problem, schedule(problem)


# -- the command line stays light ------------------------------------------------------------


def test_help_imports_no_solver():
    code = (
        "import contextlib, io, sys; from fera_flex import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    codes = [cli.main([*c, '--help']) for c in ([], ['offers'], ['dispatch'])]\n"
        "heavy = ('numba', 'highspy', 'cvxpy', 'scipy', 's2python', 'shapeshifter_uftp')\n"
        "print(codes, [m for m in heavy if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[0, 0, 0] []"


@pytest.mark.parametrize(
    ("fmt", "shape", "takes"), [("usef", "box", "options"), ("s2", "options", "battery")]
)
def test_a_shape_the_format_cannot_carry_is_refused(capsys, fmt, shape, takes):
    code, out, err = run(capsys, "offers", OFFICE, "--format", fmt, "--shape", shape)
    assert code == 1 and out == ""
    assert f"--shape = '{shape}': --format {fmt} takes --shape {takes}" in err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--sender-domain", "Agr_Example"], "--sender-domain = 'Agr_Example': must be a lower"),
        (["--recipient-domain", "dso"], "--recipient-domain = 'dso': must be a lower-case"),
        (
            ["--expires", "2020-01-01T00:00:00Z"],
            "--expires = '2020-01-01T00:00:00Z': must be after",
        ),
        (["--expires", "2030-01-01T00:00:00"], "a time needs its UTC offset"),
    ],
)
def test_usef_options_are_checked_before_any_offer(capsys, options, message):
    code, out, err = run(capsys, "offers", OFFICE, "--format", "usef", *options)
    assert code == 1 and out == "" and message in err


def test_a_native_dispatch_takes_no_offer_file(capsys, tmp_path):
    path = tmp_path / "dispatch.json"
    path.write_text("[]")
    code, _, err = run(capsys, "dispatch", OFFICE, path, "--offer", path)
    assert code == 1 and "names its offer itself (--offer is for usef, s2 and openadr)" in err


# -- USEF / UFTP -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def usef(tmp_path_factory):
    folder = tmp_path_factory.mktemp("usef")
    argv = ["offers", OFFICE, "--format", "usef", "--node", "trafo", "--window", *USEF_WINDOW]
    assert cli.main([str(a) for a in [*argv, "-o", folder]]) == 0
    return only(folder, ".flex-offer.xml")


def test_usef_flex_offer_parses_and_carries_the_options(usef, office):
    problem, plan = office
    parsed = from_xml(usef.read_text())
    assert isinstance(parsed, FlexOffer)
    assert (parsed.sender_domain, parsed.recipient_domain) == ("agr.example.com", "dso.example.com")
    assert parsed.congestion_point == "ea1.2026-03.dso.example.com:trafo"
    assert (parsed.time_zone, str(parsed.period)) == ("Europe/Amsterdam", "2026-03-02")
    assert parsed.unsolicited and parsed.baseline_reference
    sent_at = datetime.fromisoformat(parsed.time_stamp)
    assert datetime.fromisoformat(parsed.expiration_date_time) == sent_at + HOUR
    offer = options_offer(problem, "trafo", plan, window=USEF_WINDOW)
    assert len(parsed.offer_options) == len(offer.options_kw)
    for option, profile_kw in zip(parsed.offer_options, offer.options_kw, strict=True):
        powers = isp_powers(option.isps)
        assert sorted(powers) == list(range(45, 61))  # 11:00 local is ISP 45
        change_w = np.rint((profile_kw - offer.baseline_kw) * 1000)
        np.testing.assert_array_equal([powers[n] for n in sorted(powers)], change_w)


def test_usef_offers_are_cut_at_local_midnight(capsys, tmp_path):
    # the street's horizon starts 12:00 in Amsterdam: slots 40-56 run from 22:00 to 02:00
    argv = ["offers", STREET, "--format", "usef", "--node", "lv-feeder", "--window", 40, 56]
    code, out, err = run(capsys, *argv, "-o", tmp_path)
    assert code == 0, err
    parsed = [from_xml(path.read_text()) for path in sorted(tmp_path.glob("*.flex-offer.xml"))]
    periods = {str(p.period): sorted(isp_powers(p.offer_options[0].isps)) for p in parsed}
    assert periods == {"2026-03-02": list(range(89, 97)), "2026-03-03": list(range(1, 9))}
    assert "lv-feeder/options/40-48" in out and "lv-feeder/options/48-56" in out


def flex_order(offer_xml: str, option: int = 0, **changes) -> str:
    """The DSO's FlexOrder for an option of a FlexOffer, from the offer's XML only."""
    offer = from_xml(offer_xml)
    chosen = offer.offer_options[option]
    fields = {
        "sender_domain": offer.recipient_domain,
        "recipient_domain": offer.sender_domain,
        "time_stamp": datetime.fromisoformat(offer.time_stamp).isoformat(),
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
        "activation_factor": Decimal("1.00"),
        "isps": [
            FlexOrderISP(power=i.power, start=i.start, duration=i.duration) for i in chosen.isps
        ],
    }
    fields.update(changes)
    return to_xml(FlexOrder(**fields))


def test_usef_flex_order_is_dispatched_to_valid_ocpp(capsys, usef, office, tmp_path):
    problem, plan = office
    order = tmp_path / "order.xml"
    order.write_text(flex_order(usef.read_text()))
    code, _, err = run(capsys, "dispatch", OFFICE, order, "--offer", usef, "-o", tmp_path / "out")
    assert code == 0, err
    assert assert_ocpp_valid(tmp_path / "out") > 0
    (row,) = json.loads((tmp_path / "out" / "plan_summary.json").read_text())["dispatches"]
    option = options_offer(problem, "trafo", plan, window=USEF_WINDOW).options_kw[0]
    assert row["node_id"] == "trafo" and row["max_deviation_kw"] <= 1e-3
    assert row["realised_kwh"] == pytest.approx(option.sum() * problem.grid.dt_h, abs=1e-3)


def test_usef_orders_and_offers_that_do_not_fit_are_refused(capsys, usef, tmp_path):
    offer_xml = usef.read_text()
    isps = from_xml(offer_xml).offer_options[0].isps
    changed = [FlexOrderISP(power=i.power + 10, start=i.start, duration=i.duration) for i in isps]
    order = tmp_path / "order.xml"
    order.write_text(flex_order(offer_xml, isps=changed))
    code, _, err = run(capsys, "dispatch", OFFICE, order, "--offer", usef)
    assert code == 1 and "ISP = 'ISP 45: " in err and "must copy the offer's ISPs" in err
    code, _, err = run(capsys, "dispatch", OFFICE, order)
    assert code == 1 and "--offer = None: a USEF FlexOrder is read against the FlexOffer" in err
    # a FlexOffer that is not this scenario's (a power changed by 5 W)
    first = from_xml(offer_xml).offer_options[0].isps[0].power
    forged = tmp_path / "forged.xml"
    forged.write_text(offer_xml.replace(f'Power="{first}"', f'Power="{first + 5}"', 1))
    order.write_text(flex_order(forged.read_text()))
    code, _, err = run(capsys, "dispatch", OFFICE, order, "--offer", forged)
    assert code == 1 and "are not the options the scenario gives node 'trafo'" in err


# -- S2 --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s2(tmp_path_factory):
    folder = tmp_path_factory.mktemp("s2")
    argv = ["offers", OFFICE, "--format", "s2", "--node", "trafo", "--window", *S2_WINDOW]
    assert cli.main([str(a) for a in [*argv, "-o", folder]]) == 0
    return only(folder, ".s2-frbc.json"), only(folder, ".s2-pebc.json")


def parsed_messages(path: Path) -> list:
    """Each message through s2-python's parser, which must give back the same JSON."""
    messages = []
    for item in json.loads(path.read_text()):
        message = S2Parser.parse_as_any_message(item)
        assert json.loads(message.to_json()) == item
        messages.append(message)
    return messages


def test_s2_messages_parse_and_carry_the_battery_offer(s2, office):
    problem, plan = office
    frbc, pebc = (parsed_messages(path) for path in s2)
    kinds = [m.message_type for m in frbc]
    assert kinds[0] == "ResourceManagerDetails" and kinds[-2:] == [
        "FRBC.StorageStatus",
        "FRBC.FillLevelTargetProfile",
    ]
    assert pebc[0].message_type == "ResourceManagerDetails"
    assert frbc[0].name == pebc[0].name == "trafo" and frbc[0].resource_id == pebc[0].resource_id
    assert {c.value for c in frbc[0].available_control_types} == {
        "FILL_RATE_BASED_CONTROL",
        "POWER_ENVELOPE_BASED_CONTROL",
    }
    offer = battery_offer(problem, "trafo", plan, window=S2_WINDOW)
    profile = frbc[-1]
    assert profile.start_time == problem.grid.start + S2_WINDOW[0] * timedelta(minutes=15)
    np.testing.assert_allclose(
        [
            [e.fill_level_range.start_of_range, e.fill_level_range.end_of_range]
            for e in profile.elements
        ],
        np.column_stack([offer.energy_min_kwh, offer.energy_max_kwh]),
        rtol=1e-12,
    )
    energy = pebc[-1]
    assert energy.message_type == "PEBC.EnergyConstraint"
    assert energy.upper_average_power == pytest.approx(offer.energy_max_kwh[-1] / 2 * 1000)


def frbc_instructions(messages) -> list[dict]:
    """A CEM that reads only the FRBC messages: the most the targets allow in each ISP."""
    descriptions = [m for m in messages if m.message_type == "FRBC.SystemDescription"]
    (status,) = [m for m in messages if m.message_type == "FRBC.StorageStatus"]
    (profile,) = [m for m in messages if m.message_type == "FRBC.FillLevelTargetProfile"]
    fill, at, instructions = status.present_fill_level, profile.start_time, []
    for element in profile.elements:
        valid = max((d for d in descriptions if d.valid_from <= at), key=lambda d: d.valid_from)
        (actuator,) = valid.actuators
        (mode,) = actuator.operation_modes
        (power,) = mode.elements[0].power_ranges
        low_kw, high_kw = power.start_of_range / 1000, power.end_of_range / 1000
        hours = element.duration.root / 3_600_000
        target = element.fill_level_range
        least = max(low_kw, (target.start_of_range - fill) / hours)
        wanted = max(least, min(high_kw, (target.end_of_range - fill) / hours))
        factor = (
            0.0 if high_kw == low_kw else min(max((wanted - low_kw) / (high_kw - low_kw), 0), 1)
        )
        fill += (low_kw + factor * (high_kw - low_kw)) * hours
        instruction = FRBCInstruction(
            message_id=uuid.uuid4(),
            id=uuid.uuid4(),
            actuator_id=actuator.id,
            operation_mode=mode.id,
            operation_mode_factor=factor,
            execution_time=at,
            abnormal_condition=False,
        )
        instructions.append(json.loads(instruction.to_json()))
        at += timedelta(milliseconds=element.duration.root)
    return instructions


def pebc_instruction(messages) -> dict:
    """A CEM that reads only the PEBC messages: the first constraints' whole range as envelope."""
    first = min(
        (m for m in messages if m.message_type == "PEBC.PowerConstraints"),
        key=lambda m: m.valid_from,
    )
    allowed = first.allowed_limit_ranges[0]
    span = Duration((first.valid_until - first.valid_from) // timedelta(milliseconds=1))
    element = PEBCPowerEnvelopeElement(
        duration=span,
        lower_limit=allowed.range_boundary.start_of_range,
        upper_limit=allowed.range_boundary.end_of_range,
    )
    instruction = PEBCInstruction(
        message_id=uuid.uuid4(),
        id=uuid.uuid4(),
        power_constraints_id=first.id,
        execution_time=first.valid_from,
        abnormal_condition=False,
        power_envelopes=[
            PEBCPowerEnvelope(
                id=str(uuid.uuid4()),
                commodity_quantity=allowed.commodity_quantity,
                power_envelope_elements=[element],
            )
        ],
    )
    return json.loads(instruction.to_json())


@pytest.mark.parametrize("control", ["frbc", "pebc"])
def test_s2_instructions_are_dispatched_to_valid_ocpp(capsys, s2, tmp_path, control):
    sent = s2[0] if control == "frbc" else s2[1]
    messages = parsed_messages(sent)
    answer = frbc_instructions(messages) if control == "frbc" else pebc_instruction(messages)
    path = tmp_path / "instructions.json"
    path.write_text(json.dumps(answer))
    code, _, err = run(capsys, "dispatch", OFFICE, path, "--offer", sent, "-o", tmp_path / "out")
    assert code == 0, err
    assert assert_ocpp_valid(tmp_path / "out") > 0
    (row,) = json.loads((tmp_path / "out" / "plan_summary.json").read_text())["dispatches"]
    assert row["node_id"] == "trafo" and row["max_deviation_kw"] <= 1e-3
    if control == "frbc":  # it asked for the top of the last target: that much was drawn
        (profile,) = [m for m in messages if m.message_type == "FRBC.FillLevelTargetProfile"]
        top = profile.elements[-1].fill_level_range.end_of_range
        assert row["realised_kwh"] == pytest.approx(top, abs=1e-3)


def test_s2_instructions_that_do_not_fit_are_refused(capsys, s2, tmp_path):
    frbc, pebc = s2
    path = tmp_path / "instructions.json"
    path.write_text(json.dumps(frbc_instructions(parsed_messages(frbc))))
    code, _, err = run(capsys, "dispatch", OFFICE, path, "--offer", pebc)
    assert code == 1 and "messages = 'FRBC.SystemDescription': none found" in err
    code, _, err = run(capsys, "dispatch", OFFICE, path)
    assert code == 1 and "--offer = None: S2 instructions are read against" in err
    xml = tmp_path / "order.xml"
    xml.write_text("<FlexOrder/>")
    code, _, err = run(capsys, "dispatch", OFFICE, xml, "--type", "s2", "--offer", frbc)
    assert code == 1 and f"DISPATCH = '{xml}': not valid JSON" in err
    # messages that are not this scenario's offer: a power range changed
    data = json.loads(frbc.read_text())
    power = data[1]["actuators"][0]["operation_modes"][0]["elements"][0]["power_ranges"][0]
    power["end_of_range"] += 1.0
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(data))
    code, _, err = run(capsys, "dispatch", OFFICE, path, "--offer", forged)
    assert code == 1 and "the scenario's battery offer for node 'trafo' gives" in err
    data = json.loads(frbc.read_text())
    data[0]["name"] = "nowhere"
    forged.write_text(json.dumps(data))
    code, _, err = run(capsys, "dispatch", OFFICE, path, "--offer", forged)
    assert code == 1 and "ResourceManagerDetails.name = 'nowhere': is no node" in err


# -- OSCP ------------------------------------------------------------------------------------


def test_oscp_adjust_forecast_asks_for_what_the_plan_needs(capsys, office, tmp_path):
    problem, plan = office
    argv = ["offers", OFFICE, "--format", "oscp", "--node", "trafo", "--window", *USEF_WINDOW]
    code, _, err = run(capsys, *argv, "--shape", "options", "-o", tmp_path)
    assert code == 0, err
    forecast = AdjustGroupCapacityForecast.model_validate_json(
        only(tmp_path, ".oscp-adjust.json").read_text()
    )
    assert (forecast.group_id, forecast.type.value) == ("trafo", "CONSUMPTION")
    blocks = forecast.forecasted_blocks
    grid = problem.grid
    start = grid.start + USEF_WINDOW[0] * timedelta(minutes=15)
    assert blocks[0].start_time == start
    assert blocks[-1].end_time == start + 4 * HOUR
    assert all(a.end_time == b.start_time for a, b in itertools.pairwise(blocks))
    need_kw = plan.node_load_kw[0]
    for block in blocks:
        assert block.unit.value == "KW" and block.phase.value == "ALL"
        first = grid.index_of(block.start_time)
        stop = first + (block.end_time - block.start_time) // timedelta(minutes=15)
        peak = need_kw[first:stop].max()
        assert peak <= block.capacity < peak + 1e-4  # rounded up, by less than 0.1 W


# -- OpenADR / NL-Flex -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def nl_flex(tmp_path_factory, office):
    _, plan = office
    folder = tmp_path_factory.mktemp("openadr")
    baseline_kw = math.floor(0.8 * plan.charge_kw.sum(axis=0)[slice(*ADR_WINDOW)].max())
    event = folder / "baseline.json"
    event.write_text(json.dumps(baseline_event("trafo", baseline_kw)))
    argv = ["offers", OFFICE, "--format", "openadr", "--node", "trafo", "--shape", "options"]
    argv += ["--window", *ADR_WINDOW, "--max-duration", "PT6H", "--baseline-event", event]
    assert cli.main([str(a) for a in [*argv, "--client-name", SP, "-o", folder]]) == 0
    return baseline_kw, event, only(folder, ".openadr-flex-delta.json")


def test_openadr_flex_delta_report_is_valid_and_exact(nl_flex, office):
    problem, _ = office
    baseline_kw, _, path = nl_flex
    report = json.loads(path.read_text())
    assert_valid("reportRequest", report)
    offered = read_flex_delta_report(report)
    assert (offered.event_id, offered.client_name) == ("baseline-1", SP)
    grid = problem.grid
    window = tuple(grid.start + k * timedelta(minutes=15) for k in ADR_WINDOW)
    expected = available_flex(problem, "trafo", baseline_kw, window=window, max_duration=6 * HOUR)
    assert 0 < offered.active_kw == expected.offered_kw < baseline_kw


def test_openadr_flex_event_is_planned_under_its_caps(capsys, nl_flex, office, tmp_path):
    problem, _ = office
    baseline_kw, baseline, report = nl_flex
    flex_kw = read_flex_delta_report(json.loads(report.read_text())).active_kw
    call = problem.grid.start + 9 * HOUR  # 09:00-13:00 UTC, inside the offered window
    event = tmp_path / "flex.json"
    event.write_text(
        json.dumps(flex_event("trafo", problem.grid.start, [(call, 4 * HOUR, flex_kw)]))
    )
    argv = ["dispatch", OFFICE, event, "--baseline-event", baseline, "--offer", report]
    code, out, err = run(capsys, *argv, "--max-duration", "PT6H", "-o", tmp_path / "out")
    assert code == 0, err
    assert "NL-Flex FLEX event flex-1 for 'trafo'" in out
    assert assert_ocpp_valid(tmp_path / "out") > 0
    summary = json.loads((tmp_path / "out" / "plan_summary.json").read_text())
    assert summary["plan"]["unmet_kwh"] < 1e-6 and summary["plan"]["violations"] == []
    intervals = summary["flex_event"]["intervals"]
    assert [i["flex_kw"] for i in intervals] == [0, flex_kw, 0]
    for interval in intervals:
        assert interval["peak_kw"] <= baseline_kw - interval["flex_kw"] + 1e-6
    # more than was offered is refused, naming the rule
    event.write_text(json.dumps(flex_event("trafo", problem.grid.start, [(call, 4 * HOUR, 1e3)])))
    code, _, err = run(capsys, *argv, "--max-duration", "PT6H")
    assert code == 1 and "exceeds the group's ACTIVE_AVAILABLE_FLEX" in err
    code, _, err = run(capsys, "dispatch", OFFICE, event)
    assert code == 1 and "--baseline-event = None" in err
    # without the offer to check against, a call the group cannot deliver is planned, and fails
    start = problem.grid.start + 8 * HOUR  # all of the 6 hours offered, down to 0 kW
    event.write_text(
        json.dumps(flex_event("trafo", problem.grid.start, [(start, 6 * HOUR, baseline_kw)]))
    )
    code, _, err = run(capsys, "dispatch", OFFICE, event, "--baseline-event", baseline)
    assert code == 1 and "kWh of needs go unmet that the plan without it meets" in err


def test_openadr_needs_its_baseline_and_ean(capsys, nl_flex):
    _, baseline, _ = nl_flex
    argv = ["offers", OFFICE, "--format", "openadr", "--node", "trafo"]
    code, _, err = run(capsys, *argv, "--baseline-event", baseline)
    assert code == 1 and "--client-name = None" in err
    code, _, err = run(
        capsys, *argv, "--baseline-event", baseline, "--client-name", "8712423014023"
    )
    assert code == 1 and "clientName = '8712423014023'" in err
    code, _, err = run(capsys, *argv, "--client-name", SP)
    assert code == 1 and "--baseline-event = None" in err
    code, _, err = run(
        capsys, *argv[:-1], "feeder-A", "--client-name", SP, "--baseline-event", baseline
    )
    assert code == 1 and "no baseline event targets these nodes" in err
