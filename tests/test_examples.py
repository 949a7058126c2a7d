"""The examples run as a user runs them (``python examples/x.py``), and what they write is right.

Each example runs once, in its own subprocess (all started together: they are
independent), writing its files into a temporary folder; the tests then read
those files as a receiver would and check them against the inputs read here as
plain JSON (connector ratings, grid limits, the DSO's caps), against the
official OCPP 2.0.1 JSON schemas and against the OpenADR 3.1.0 OpenAPI
document, not against fera_flex's own models. The
bundled examples are small already (a day of one site, seconds each);
``replanning.py`` runs with ``--every 3``.
"""

import json
import subprocess
import sys
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import jsonschema
import openapi_schema_validator as oas
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
OCPP_SCHEMAS = ROOT / "tests" / "fixtures" / "ocpp_schemas" / "v201"
OPENADR = ROOT / "tests" / "fixtures" / "openadr" / "openadr3.yaml"
TOLERANCE_KW = 1e-6


RUNS = {  # example -> its arguments; the output folder is appended to those that write files
    "quickstart.py": ["-o"],
    "scsp_day_ahead.py": ["-o"],
    "aggregator_offers.py": ["-o"],
    "dutch_congestion.py": ["-o"],
    "replanning.py": ["--every", "3"],
}


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    """Every example started at once (they are independent), each in its own folder."""
    started = {}
    for name, args in RUNS.items():
        folder = tmp_path_factory.mktemp(name.removesuffix(".py"))
        argv = [*args, str(folder / "out")] if args == ["-o"] else args
        process = subprocess.Popen(
            [sys.executable, str(EXAMPLES / name), *argv],
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started[name] = (process, folder / "out")
    yield started
    for process, _ in started.values():
        if process.poll() is None:
            process.kill()
        process.communicate()


def finished(examples, name: str) -> tuple[str, Path]:
    """Wait for an example; its stdout and output folder (it must exit with 0)."""
    process, folder = examples[name]
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stdout + stderr
    return stdout, folder


def epoch_s(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def steps_kw(
    start: str, periods: list[dict], duration_s: float
) -> list[tuple[float, float, float]]:
    """(from, to, kW) of a W-unit OCPI or OCPP schedule (OCPI snake_case or OCPP camelCase)."""
    t0 = epoch_s(start)
    starts = [p.get("start_period", p.get("startPeriod")) for p in periods]
    ends = [*starts[1:], duration_s]
    return [
        (t0 + a, t0 + b, p["limit"] / 1000.0) for a, b, p in zip(starts, ends, periods, strict=True)
    ]


def load_at(schedules: list[list[tuple[float, float, float]]], t: float) -> float:
    return sum(kw for steps in schedules for a, b, kw in steps if a <= t < b)


def instants(schedules) -> list[float]:
    return sorted({a for steps in schedules for a, _, _ in steps})


def connector_kw(connector: dict) -> float:
    """A connector's rating [kW] from OCPI 2.2.1 fields: V x A x phases, or max_electric_power
    where that is lower (the spec: set it when the power is below what V and A give)."""
    phases = {"AC_3_PHASE": 3, "AC_2_PHASE": 2, "AC_2_PHASE_SPLIT": 2}.get(
        connector["power_type"], 1
    )
    rating_kw = connector["max_voltage"] * connector["max_amperage"] * phases / 1000.0
    if connector.get("max_electric_power") is not None:
        rating_kw = min(rating_kw, connector["max_electric_power"] / 1000.0)
    return rating_kw


def evse_ratings_kw(locations: list[dict]) -> dict[str, float]:
    return {
        evse["uid"]: max(connector_kw(c) for c in evse["connectors"])
        for location in locations
        for evse in location["evses"]
    }


# -- quickstart: OCPI in, OCPI out ---------------------------------------------------------------


def test_quickstart_writes_profiles_within_every_limit(examples):
    out, folder = finished(examples, "quickstart.py")
    assert "limit violations: 0" in out
    assert "skipped S-2001" in out  # it left at 07:30 UTC, before the 09:00 snapshot
    site = EXAMPLES / "ocpi_site"
    locations = json.loads((site / "locations.json").read_text())
    sessions = {s["id"]: s for s in json.loads((site / "sessions.json").read_text())}
    preferences = json.loads((site / "charging_preferences.json").read_text())
    ratings = evse_ratings_kw(locations)
    bodies = {path.stem: json.loads(path.read_text()) for path in folder.glob("*.json")}
    assert sorted(bodies) == ["S-1001", "S-1002", "S-1003", "S-1004"]
    schedules = []
    for session_id, body in bodies.items():
        assert body["response_url"].endswith(session_id)
        profile = body["charging_profile"]
        assert profile["charging_rate_unit"] == "W"
        steps = steps_kw(
            profile["start_date_time"], profile["charging_profile_period"], profile["duration"]
        )
        assert steps[0][0] >= epoch_s("2026-03-02T09:00:00Z")
        session = sessions[session_id]
        assert max(kw for _, _, kw in steps) <= ratings[session["evse_uid"]] + TOLERANCE_KW
        energy_kwh = sum((b - a) / 3600 * kw for a, b, kw in steps)
        need_kwh = preferences[session_id]["energy_need"] - session["kwh"]
        assert need_kwh - 0.01 <= energy_kwh <= need_kwh + TOLERANCE_KW
        schedules.append(steps)
    # every depot session shares the depot's 50 kW grid connection
    assert all(sessions[s]["location_id"] == "DEPOT-UTR" for s in bodies)
    assert max(load_at(schedules, t) for t in instants(schedules)) <= 50.0 + TOLERANCE_KW


# -- SCSP day-ahead: the DSO's OSCP cut holds on the wire -----------------------------------------


def test_scsp_day_ahead_keeps_the_dso_cut_and_asks_for_more(examples):
    out, folder = finished(examples, "scsp_day_ahead.py")
    assert "limit violations: 0" in out
    assert "OSCP: the plan complies with the forecast" in out
    for kind in ("CHEAP", "FAST", "GREEN", "REGULAR"):
        assert f"\n{kind} " in out
    scenario = json.loads((EXAMPLES / "scenarios" / "office_depot.json").read_text())
    ratings = evse_ratings_kw(scenario["locations"])
    nodes = {node["id"]: node for node in scenario["topology"]["nodes"]}
    station_of = {uid: node["id"] for node in nodes.values() for uid in node.get("evse_uids", [])}
    evse_of = {s["id"]: s["evse_uid"] for s in scenario["sessions"]}
    profiles = json.loads((folder / "ocpi_charging_profiles.json").read_text())
    assert set(profiles) == set(evse_of)  # OCPI Sessions only; the visitors have none yet
    per_station, feeder_a = {}, []
    for session_id, profile in profiles.items():
        steps = steps_kw(
            profile["start_date_time"], profile["charging_profile_period"], profile["duration"]
        )
        uid = evse_of[session_id]
        assert max(kw for _, _, kw in steps) <= ratings[uid] + TOLERANCE_KW
        station = station_of[uid]
        per_station.setdefault(station, []).append(steps)
        if nodes[station]["parent"] == "feeder-A":
            feeder_a.append(steps)
    for station, schedules in per_station.items():
        rating = nodes[station]["import_capacity_kw"]
        assert max(load_at(schedules, t) for t in instants(schedules)) <= rating + TOLERANCE_KW
    update = json.loads((folder / "oscp_update.json").read_text())
    assert update["group_id"] == "feeder-A" and update["type"] == "CONSUMPTION"
    for t in instants(feeder_a):
        cap = min(
            b["capacity"]
            for b in update["forecasted_blocks"]
            if epoch_s(b["start_time"]) <= t < epoch_s(b["end_time"])
        )
        assert load_at(feeder_a, t) <= cap + TOLERANCE_KW
    assert min(b["capacity"] for b in update["forecasted_blocks"]) == 90.0
    adjust = json.loads((folder / "oscp_adjust.json").read_text())
    blocks = adjust["forecasted_blocks"]
    assert blocks[0]["start_time"] == scenario["horizon"]["start"]
    assert blocks[-1]["end_time"] == scenario["horizon"]["end"]
    assert all(a["end_time"] == b["start_time"] for a, b in pairwise(blocks))
    asked_in_cut = max(
        b["capacity"]
        for b in blocks
        if epoch_s(b["start_time"]) < epoch_s("2026-03-02T14:00:00Z")
        and epoch_s(b["end_time"]) > epoch_s("2026-03-02T11:00:00Z")
    )
    assert asked_in_cut > 90.0  # the plan without the cut needs more than it gives


# -- aggregator: offers, a joint activation, OCPP out ---------------------------------------------


def test_aggregator_offers_activation_reaches_the_stations(examples):
    out, folder = finished(examples, "aggregator_offers.py")
    assert out.count("limit violations: 0") == 3  # three activations, each verified
    offers = json.loads((folder / "offers.json").read_text())
    assert sorted({(o["node_id"], o["shape"]) for o in offers}) == [
        (node, shape)
        for node in ("feeder-A", "feeder-B")
        for shape in ("battery", "box", "options")
    ]
    boxes = {o["node_id"]: o for o in offers if o["shape"] == "box"}
    activation = {d["node_id"]: d for d in json.loads((folder / "activation.json").read_text())}
    for node, dispatch in activation.items():
        box = boxes[node]
        assert (dispatch["start"], dispatch["step_s"]) == (box["start"], box["step_s"])
        for low, value, high in zip(
            box["power_min_kw"], dispatch["power_kw"], box["power_max_kw"], strict=True
        ):
            assert low - TOLERANCE_KW <= value <= high + TOLERANCE_KW
    schema = json.loads((OCPP_SCHEMAS / "SetChargingProfileRequest.json").read_text())
    validator = jsonschema.Draft6Validator(schema, format_checker=jsonschema.FormatChecker())
    scenario = json.loads((EXAMPLES / "scenarios" / "office_depot.json").read_text())
    nodes = {node["id"]: node for node in scenario["topology"]["nodes"]}
    per_feeder: dict[str, list] = {}
    requests = json.loads((folder / "ocpp_requests.json").read_text())
    assert sum(map(len, requests.values())) == len(scenario["sessions"])
    for station, sent in requests.items():
        schedules = []
        for request in sent:
            validator.validate(request)
            profile = request["chargingProfile"]
            assert profile["chargingProfilePurpose"] == "TxProfile"
            [schedule] = profile["chargingSchedule"]
            assert schedule["chargingRateUnit"] == "W"
            steps = steps_kw(
                schedule["startSchedule"], schedule["chargingSchedulePeriod"], schedule["duration"]
            )
            uid = nodes[station]["evse_uids"][request["evseId"] - 1]
            assert uid.casefold() in {
                s["evse_uid"].casefold()
                for s in scenario["sessions"]
                if s["id"] == profile["transactionId"]
            }
            schedules.append(steps)
        rating = nodes[station]["import_capacity_kw"]
        assert max(load_at(schedules, t) for t in instants(schedules)) <= rating + TOLERANCE_KW
        per_feeder.setdefault(nodes[station]["parent"], []).extend(schedules)
    # what the stations are told to draw adds up to the activation in every slot of the window
    for node, dispatch in activation.items():
        t0 = epoch_s(dispatch["start"])
        for k, target_kw in enumerate(dispatch["power_kw"]):
            middle = t0 + (k + 0.5) * dispatch["step_s"]
            assert load_at(per_feeder[node], middle) == pytest.approx(target_kw, abs=0.01)


# -- Dutch congestion: NL-Flex messages against the OpenAPI document ------------------------------


def openadr_validator(name: str):
    document = yaml.safe_load(OPENADR.read_text())
    registry = Registry().with_resource(
        "urn:openadr3", Resource.from_contents(document, default_specification=DRAFT4)
    )
    return oas.OAS30Validator(
        {"$ref": f"urn:openadr3#/components/schemas/{name}"},
        registry=registry,
        format_checker=oas.oas30_format_checker,
    )


def test_dutch_congestion_messages_are_valid_and_the_call_is_delivered(examples):
    out, folder = finished(examples, "dutch_congestion.py")
    assert "limit violations: 0" in out
    messages = {path.stem: json.loads(path.read_text()) for path in folder.glob("*.json")}
    assert sorted(messages) == [
        "ack_report",
        "baseline_event",
        "delivered_flex_report",
        "flex_delta_report",
        "flex_event",
    ]
    event_schema, report_schema = openadr_validator("event"), openadr_validator("reportRequest")
    for name, message in messages.items():
        schema = event_schema if name.endswith("event") else report_schema
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in schema.iter_errors(message)]
        assert not errors, (name, errors)
    baseline_kw = {
        p["type"]: p["values"][0] for p in messages["baseline_event"]["intervals"][0]["payloads"]
    }["ACTIVE_BASELINE"]
    offered = {
        p["type"]: p["values"][0]
        for p in messages["flex_delta_report"]["resources"][0]["intervals"][0]["payloads"]
    }
    event = messages["flex_event"]
    flex = {i["id"]: i["payloads"][0]["values"][0] for i in event["intervals"]}
    called = max(flex.values())
    assert 0 < called == -offered["ACTIVE_FLEX_DELTA"] <= baseline_kw
    assert [i["intervalPeriod"]["duration"] for i in event["intervals"]] == ["PT1H", "PT4H", "PT1H"]
    ack = messages["ack_report"]
    assert ack["eventID"] == event["id"]
    assert ack["resources"][0]["intervals"][0]["payloads"] == [{"type": "ACK", "values": [True]}]
    delivered = messages["delivered_flex_report"]
    assert delivered["eventID"] == event["id"]
    for interval in delivered["resources"][0]["intervals"]:
        values = interval["payloads"][0]["values"]
        assert len(values) == {"PT1H": 4, "PT4H": 16}[interval["intervalPeriod"]["duration"]]
        # NL-Flex rounds delivered flex down to 0.01 kW; the cap was baseline - FLEX
        assert min(values) >= flex[interval["id"]] - 0.01


# -- replanning through the day --------------------------------------------------------------------


def test_replanning_meets_every_need_within_every_limit(examples):
    out, _ = finished(examples, "replanning.py")
    lines = out.splitlines()
    times = [line.split()[0] for line in lines[1:] if line[:2].isdigit()]
    assert times == ["06:30", "07:00", "10:00", "13:00", "16:00"]
    assert "intraday" in out and "day-ahead" in out
    executed = next(line for line in lines if line.startswith("executed day"))
    assert executed.endswith("limit violations: 0")
    delivered, need = (float(word) for word in executed.split()[2:5:2])
    assert delivered == pytest.approx(need, abs=1e-3)
