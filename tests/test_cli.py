"""The fera-flex command line: every command, its files, its exit codes and its messages."""

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fera_flex import cli
from fera_flex._cli_progress import Progress
from fera_flex._cli_validate import json_path
from fera_flex.models import ocpi, ocpp
from fera_flex.models.fera import FlexibilityDispatch, FlexibilityOffer
from fera_flex.models.scenario import Scenario
from fera_flex.scenarios import generate

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "examples" / "scenarios"
SITE = ROOT / "examples" / "ocpi_site"
OCPI_EXAMPLES = ROOT / "tests" / "fixtures" / "ocpi_examples"
OCPP_SCHEMAS = ROOT / "tests" / "fixtures" / "ocpp_schemas" / "v201"
COMMANDS = ("solve", "offers", "dispatch", "validate", "demo")


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def schema_validator(name):
    schema = json.loads((OCPP_SCHEMAS / f"{name}.json").read_text())
    return jsonschema.Draft6Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A congested generated scenario (limits bind: some needs cannot be met), 24 h in hours."""
    scenario = generate(
        n_evses=6, n_slots=24, step_s=3600, n_feeders=2, seed=1, capacity_factor=0.3
    )
    path = tmp_path_factory.mktemp("scenario") / "small.json"
    scenario.save(path)
    return path


@pytest.fixture(scope="module")
def feasible(tmp_path_factory):
    """A generated scenario whose limits bind but every need can be met."""
    scenario = generate(
        n_evses=6, n_slots=24, step_s=3600, n_feeders=2, seed=0, capacity_factor=0.6
    )
    path = tmp_path_factory.mktemp("scenario") / "feasible.json"
    scenario.save(path)
    return path


# -- usage -----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_help_on_every_command(capsys, command):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert out.startswith(f"usage: fera-flex {command}")


def test_top_level_help_lists_commands(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert all(command in out for command in COMMANDS) and "Exit codes" in out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["nonsense"],
        ["solve"],
        ["offers", "x.json", "--format", "xml"],
        ["solve", "x.json", "--max-rows", "0"],
        ["solve", "x.json", "--method", "gurobi"],
        ["offers", "x.json", "--window", "3"],
    ],
)
def test_usage_errors_exit_2(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert "usage: fera-flex" in err and out == ""


def test_plot_needs_an_output_folder(capsys, small):
    code, _, err = run(capsys, "solve", small, "--plot")
    assert code == 2 and "--plot needs -o DIR" in err


def test_unknown_validate_type_is_a_usage_error(capsys):
    code, _, err = run(capsys, "validate", SITE / "sessions.json", "--type", "ocpi:Nothing")
    assert code == 2 and "unknown --type 'ocpi:Nothing'" in err


# -- solve -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def solved(small, tmp_path_factory):
    folder = tmp_path_factory.mktemp("solved")
    out, err = io.StringIO(), io.StringIO()
    sys_out, sys_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = cli.main(["solve", str(small), "-o", str(folder), "--plot"])
    finally:
        sys.stdout, sys.stderr = sys_out, sys_err
    return code, out.getvalue(), err.getvalue(), folder


def test_solve_prints_sessions_nodes_and_why_needs_are_unmet(solved, small):
    code, out, err, _ = solved
    assert code == 0, err
    assert "status partial" in out and "limit violations: 0" in out
    assert "Sessions (times in Europe/Amsterdam):" in out and "Grid nodes" in out
    summary = json.loads((solved[3] / "plan_summary.json").read_text())
    short = [row for row in summary["sessions"] if row["unmet_cause"]]
    assert short, "the congested scenario leaves needs unmet"
    for row in short:
        line = next(line for line in out.splitlines() if line.startswith(row["id"]))
        assert row["unmet_cause"] in line and f"{row['unmet_kwh']:.1f}" in line
    assert "\r" not in err  # no progress bar when stderr is not a terminal


def test_solve_summary_adds_up(solved, small):
    summary = json.loads((solved[3] / "plan_summary.json").read_text())
    plan = summary["plan"]
    sessions = summary["sessions"]
    assert sum(row["cost"] for row in sessions) == pytest.approx(plan["cost"], rel=1e-9)
    assert sum(row["delivered_kwh"] for row in sessions) == pytest.approx(plan["delivered_kwh"])
    for row in sessions:
        unmet = max(row["requested_kwh"] - row["delivered_kwh"], 0.0)
        assert row["unmet_kwh"] == pytest.approx(unmet, abs=1e-9)
    for node in summary["nodes"]:
        if node["limit_at_peak_kw"] is not None:
            assert node["peak_kw"] <= node["limit_at_peak_kw"] + 1e-6
            assert node["utilisation"] <= 1 + 1e-6
    assert {node["id"] for node in summary["nodes"]} == {"root", "feeder-0", "feeder-1"} | {
        f"station-0000{k}" for k in range(3)
    }
    binding = [node for node in summary["nodes"] if node["slots_at_limit"]]
    assert binding and any(node["shadow_price_max_per_kwh"] > 0 for node in binding)


def test_solve_writes_ocpi_profiles_that_parse(solved, small):
    scenario = Scenario.load(small)
    profiles = json.loads((solved[3] / "ocpi_charging_profiles.json").read_text())
    assert set(profiles) == {session.id for session in scenario.sessions}
    for data in profiles.values():
        profile = ocpi.ChargingProfile.model_validate(data)
        assert profile.charging_rate_unit is ocpi.ChargingRateUnit.W


def test_solve_writes_ocpp_requests_per_evse_valid_against_the_oca_schema(solved, small):
    scenario = Scenario.load(small)
    validator = schema_validator("SetChargingProfileRequest")
    evses = {evse.uid: evse for location in scenario.locations for evse in location.evses}
    files = sorted((solved[3] / "ocpp").glob("*/evse-*.json"))
    assert len(files) == 6
    seen = set()
    for path in files:
        for payload in json.loads(path.read_text()):
            assert not list(validator.iter_errors(payload)), path
            request = ocpp.parse_message("SetChargingProfile", payload)
            session_id = request.charging_profile.transaction_id
            session = next(s for s in scenario.sessions if s.id == session_id)
            station = scenario.topology.node_of_evse(session.evse_uid)
            # the station is the charging_station node, the evseId the EVSE's place in it
            assert path.parent.name == station.id
            assert request.evse_id == station.evse_uids.index(session.evse_uid) + 1
            assert path.name == f"evse-{request.evse_id}.json"
            # never above the EVSE's connector power
            rating_w = max(c.max_power_kw for c in evses[session.evse_uid].connectors) * 1000
            for schedule in request.charging_profile.charging_schedule:
                limits = [period.limit for period in schedule.charging_schedule_period]
                assert max(limits) <= rating_w + 1e-9
            seen.add(session_id)
    assert seen == {session.id for session in scenario.sessions}


def test_solve_pictures(solved):
    for name in ("site_plan.png", "sessions.png"):
        data = (solved[3] / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000


def test_notify_ev_charging_needs_gives_the_evse_id(capsys, small, tmp_path):
    data = json.loads(small.read_text())
    data["ev_charging_needs"] = [
        {
            "session_id": "S-000003",
            "request": {
                "evseId": 7,
                "chargingNeeds": {
                    "requestedEnergyTransfer": "AC_three_phase",
                    "acChargingParameters": {
                        "energyAmount": 20000,
                        "evMinCurrent": 6,
                        "evMaxCurrent": 16,
                        "evMaxVoltage": 400,
                    },
                },
            },
        }
    ]
    path = tmp_path / "needs.json"
    path.write_text(json.dumps(data))
    code, _, err = run(capsys, "solve", path, "-o", tmp_path / "out", "--unit", "A")
    assert code == 0, err
    (payload,) = json.loads(
        (tmp_path / "out" / "ocpp" / "station-00001" / "evse-7.json").read_text()
    )
    assert payload["chargingProfile"]["transactionId"] == "S-000003"
    assert payload["chargingProfile"]["chargingSchedule"][0]["chargingRateUnit"] == "A"
    summary = json.loads((tmp_path / "out" / "plan_summary.json").read_text())
    row = next(r for r in summary["sessions"] if r["id"] == "S-000003")
    assert row["evse_id"] == 7 and row["evse_id_source"] == "NotifyEVChargingNeeds"


def test_arrival_estimates_and_pending_sessions_get_no_tx_profile(capsys, tmp_path):
    scenario = generate(
        n_evses=4,
        n_sessions=6,
        n_feeders=1,
        n_slots=24,
        step_s=3600,
        seed=3,
        arrival_estimate_share=0.2,
    )
    data = json.loads(scenario.model_dump_json())
    data["sessions"][0]["status"] = "PENDING"
    pending = data["sessions"][0]["id"]
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(data))
    code, _, err = run(capsys, "solve", path, "-o", tmp_path / "out")
    assert code == 0, err
    summary = json.loads((tmp_path / "out" / "plan_summary.json").read_text())
    sources = {row["id"]: (row["source"], row["output"]) for row in summary["sessions"]}
    estimates = [sid for sid, (source, _) in sources.items() if source == "arrival_estimate"]
    assert estimates and all("no profile" in sources[sid][1] for sid in estimates)
    assert "no OCPP TxProfile for a PENDING session" in sources[pending][1]
    profiles = json.loads((tmp_path / "out" / "ocpi_charging_profiles.json").read_text())
    assert pending in profiles and not set(estimates) & set(profiles)
    sent = {
        payload["chargingProfile"]["transactionId"]
        for path in (tmp_path / "out" / "ocpp").glob("*/*.json")
        for payload in json.loads(path.read_text())
    }
    assert pending not in sent and not set(estimates) & sent


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10_000), capacity=st.sampled_from([0.2, 0.5, 1.0]))
def test_written_ocpp_limits_never_exceed_the_evse(tmp_path_factory, seed, capacity):
    scenario = generate(
        n_evses=4, n_feeders=2, n_slots=12, step_s=3600, seed=seed, capacity_factor=capacity
    )
    folder = tmp_path_factory.mktemp("limits")
    scenario.save(folder / "s.json")
    argv = ["solve", str(folder / "s.json"), "-o", str(folder / "out"), "--method", "highs"]
    assert cli.main(argv) == 0
    evses = {evse.uid: evse for location in scenario.locations for evse in location.evses}
    sessions = {session.id: session for session in scenario.sessions}
    for path in (folder / "out" / "ocpp").glob("*/*.json"):
        for payload in json.loads(path.read_text()):
            session = sessions[payload["chargingProfile"]["transactionId"]]
            rating_w = max(c.max_power_kw for c in evses[session.evse_uid].connectors) * 1000
            for schedule in payload["chargingProfile"]["chargingSchedule"]:
                assert all(p["limit"] <= rating_w for p in schedule["chargingSchedulePeriod"])


def test_solve_invalid_scenario_names_every_field(capsys, tmp_path):
    data = json.loads((SCENARIOS / "residential_street.json").read_text())
    data["locations"][2]["evses"][0]["connectors"][0]["max_voltage"] = "high"
    data["horizon"]["step_s"] = -5
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    code, out, err = run(capsys, "solve", path)
    assert code == 1 and out == ""
    assert f"{path}: $.locations[2].evses[0].connectors[0].max_voltage: " in err
    assert f"{path}: $.horizon.step_s: " in err


def test_solve_broken_references_each_on_a_line(capsys, tmp_path):
    data = json.loads((SCENARIOS / "office_depot.json").read_text())
    data["sessions"][0]["evse_uid"] = "NO-SUCH-EVSE"
    data["charging_preferences"]["S-NOWHERE"] = {"profile_type": "FAST"}
    path = tmp_path / "refs.json"
    path.write_text(json.dumps(data))
    code, _, err = run(capsys, "solve", path)
    assert code == 1
    lines = [line for line in err.splitlines() if "error:" in line]
    assert any("NO-SUCH-EVSE" in line for line in lines)
    assert any("S-NOWHERE" in line for line in lines)
    assert len(lines) == 2


def test_solve_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, "solve", tmp_path / "nope.json")
    assert code == 1 and "does not exist" in err


def test_installed_script_solves_a_bundled_scenario(tmp_path):
    script = Path(sys.executable).with_name("fera-flex")
    if not script.exists():
        pytest.fail(f"the fera-flex script is not installed next to {sys.executable}")
    result = subprocess.run(
        [str(script), "solve", str(SCENARIOS / "office_depot.json"), "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "status optimal" in result.stdout and "limit violations: 0" in result.stdout
    assert result.stderr == ""  # piped: no progress bar
    assert len(list((tmp_path / "ocpp").glob("CS-*/evse-*.json"))) == 36
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    result = subprocess.run(
        [str(script), "validate", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1 and "not valid JSON" in result.stderr


# -- offers ----------------------------------------------------------------------------------


def test_offers_box_window_as_times(capsys, feasible, tmp_path):
    code, out, err = run(
        capsys,
        "offers",
        feasible,
        "--window",
        "2026-03-02T16:00:00Z",
        "2026-03-02T20:00:00Z",
        "-o",
        tmp_path,
    )
    assert code == 0, err
    offers = [
        FlexibilityOffer.model_validate(o)
        for o in json.loads((tmp_path / "offers.json").read_text())
    ]
    # one per node with sessions under it: every node of this tree
    assert {offer.node_id for offer in offers} == {
        "root",
        "feeder-0",
        "feeder-1",
        "station-00000",
        "station-00001",
        "station-00002",
    }
    for offer in offers:
        assert offer.shape == "box" and len(offer.baseline_kw) == 4
        assert offer.start.isoformat() == "2026-03-02T16:00:00+00:00"
        assert all(np.array(offer.power_min_kw) <= np.array(offer.power_max_kw))
        assert f"{offer.id}" in out
    assert "wrote" in out and "(native)" in out


def test_offers_options_for_one_node(capsys, feasible, tmp_path):
    code, out, err = run(
        capsys,
        "offers",
        feasible,
        "--shape",
        "options",
        "--node",
        "root",
        "--window",
        "14",
        "18",
        "-o",
        tmp_path,
    )
    assert code == 0, err
    (offer,) = json.loads((tmp_path / "offers.json").read_text())
    offer = FlexibilityOffer.model_validate(offer)
    assert offer.shape == "options" and offer.options_kw and offer.currency == "EUR"
    assert len(offer.option_prices) == len(offer.options_kw)
    assert "feasible/root/options/14-18" in out or "/root/options/14-18" in out


def test_offers_shape_is_checked_by_the_library(capsys, feasible):
    code, out, err = run(capsys, "offers", feasible, "--shape", "hexagon", "--node", "root")
    assert code == 1 and out == ""
    assert "flexibility_offers: shape = 'hexagon': must be one of" in err


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (["5", "99"], "must satisfy 0 <= first < stop <= 24"),
        (["2026-03-02T16:00:00", "20"], "needs its UTC offset"),
        (["2026-03-02T16:30:00Z", "20"], "is not on the horizon's 3600 s slots"),
        (["soon", "20"], "must be a slot number or an RFC 3339 time"),
    ],
)
def test_offers_bad_window(capsys, feasible, window, message):
    code, _, err = run(capsys, "offers", feasible, "--node", "root", "--window", *window)
    assert code == 1 and message in err


def test_offers_where_needs_cannot_be_met_take_no_energy_from_a_session(capsys, small, tmp_path):
    """Around a plan short of needs, the offer keeps what the plan delivers (its low corner too)."""
    code, _, err = run(capsys, "offers", small, "--node", "root", "-o", tmp_path / "offer")
    assert code == 0, err
    (offer,) = json.loads((tmp_path / "offer" / "offers.json").read_text())
    offer = FlexibilityOffer.model_validate(offer)
    low, base, high = (
        np.array(v) for v in (offer.power_min_kw, offer.baseline_kw, offer.power_max_kw)
    )
    assert (low <= base + 1e-9).all() and (base <= high + 1e-9).all()
    assert run(capsys, "solve", small, "-o", tmp_path / "plan")[0] == 0
    planned = json.loads((tmp_path / "plan" / "plan_summary.json").read_text())["plan"]
    path = _dispatch_file(tmp_path, offer, low)
    code, _, err = run(capsys, "dispatch", small, path, "-o", tmp_path / "low")
    assert code == 0, err
    got = json.loads((tmp_path / "low" / "plan_summary.json").read_text())["plan"]
    assert got["delivered_kwh"] >= planned["delivered_kwh"] - 1e-3


def test_offers_unknown_node(capsys, feasible):
    code, _, err = run(capsys, "offers", feasible, "--node", "nowhere")
    assert code == 1 and "'nowhere'" in err


# -- dispatch --------------------------------------------------------------------------------


def _dispatch_file(folder, offer, values):
    dispatch = FlexibilityDispatch(
        id="activation-1",
        node_id=offer.node_id,
        offer_id=offer.id,
        start=offer.start,
        step_s=offer.step_s,
        power_kw=list(values),
    )
    path = folder / "dispatch.json"
    path.write_text(dispatch.model_dump_json())
    return path


@pytest.fixture(scope="module")
def root_offer(feasible, tmp_path_factory):
    folder = tmp_path_factory.mktemp("offer")
    assert (
        cli.main(
            ["offers", str(feasible), "--node", "root", "--window", "15", "19", "-o", str(folder)]
        )
        == 0
    )
    (offer,) = json.loads((folder / "offers.json").read_text())
    return FlexibilityOffer.model_validate(offer)


def test_dispatch_of_an_offer_is_followed(capsys, feasible, root_offer, tmp_path):
    path = _dispatch_file(tmp_path, root_offer, root_offer.power_min_kw)
    code, out, err = run(capsys, "dispatch", feasible, path, "-o", tmp_path / "out")
    assert code == 0, err
    summary = json.loads((tmp_path / "out" / "plan_summary.json").read_text())
    (row,) = summary["dispatches"]
    assert row["max_deviation_kw"] <= 1e-3
    assert row["realised_kwh"] == pytest.approx(sum(root_offer.power_min_kw), abs=1e-2)
    assert "activation-1" in out
    validator = schema_validator("SetChargingProfileRequest")
    files = list((tmp_path / "out" / "ocpp").glob("*/*.json"))
    assert files
    for file in files:
        for payload in json.loads(file.read_text()):
            assert not list(validator.iter_errors(payload))


def test_dispatch_that_cannot_be_followed_exits_1(capsys, feasible, root_offer, tmp_path):
    path = _dispatch_file(tmp_path, root_offer, [5000.0] * len(root_offer.baseline_kw))
    code, out, err = run(capsys, "dispatch", feasible, path)
    assert code == 1
    assert "cannot be followed" in err and "Plan for" in out


def test_dispatch_invalid_file_names_every_problem(capsys, feasible, tmp_path):
    good = {
        "id": "d",
        "node_id": "root",
        "start": "2026-03-02T15:00:00Z",
        "step_s": 3600,
        "power_kw": [1.0],
    }
    bad = {**good, "node_id": "", "power_kw": ["x", 2.0], "step_s": 0}
    path = tmp_path / "dispatch.json"
    path.write_text(json.dumps([good, bad]))
    code, _, err = run(capsys, "dispatch", feasible, path)
    assert code == 1
    for where in ("$[1].node_id", "$[1].power_kw[0]", "$[1].step_s"):
        assert f"{path}: {where}: " in err


def test_dispatch_off_the_grid(capsys, feasible, tmp_path):
    path = tmp_path / "dispatch.json"
    path.write_text(
        json.dumps(
            {
                "id": "d",
                "node_id": "root",
                "start": "2026-03-02T15:30:00Z",
                "step_s": 3600,
                "power_kw": [1.0],
            }
        )
    )
    code, _, err = run(capsys, "dispatch", feasible, path)
    assert code == 1 and "must lie on the grid" in err


# -- validate --------------------------------------------------------------------------------


def test_validate_broken_ocpi_file_prints_every_problem_with_its_path(capsys, tmp_path):
    location = json.loads((OCPI_EXAMPLES / "location_example.json").read_text())
    location["coordinates"]["latitude"] = "north"
    location["evses"][1]["connectors"][0]["max_amperage"] = "lots"
    del location["evses"][0]["status"]
    location["time_zone"] = 7
    path = tmp_path / "location.json"
    path.write_text(json.dumps(location))
    code, out, err = run(
        capsys, "validate", path, OCPI_EXAMPLES / "session_example_1_simple_start.json"
    )
    assert code == 1
    for where in (
        "$.coordinates.latitude",
        "$.evses[1].connectors[0].max_amperage",
        "$.evses[0].status",
        "$.time_zone",
    ):
        assert f"{path}: {where}: " in err
    assert "INVALID OCPI 2.2.1 Location: 4 problem(s)" in err
    assert "session_example_1_simple_start.json: valid: OCPI 2.2.1 Session" in out


def test_validate_the_spec_example_that_breaks_the_spec(capsys):
    """The OCPI 2.2.1 EVSE PUT example lacks four required connector fields."""
    code, _, err = run(capsys, "validate", OCPI_EXAMPLES / "location_put_example_add_evse.json")
    assert code == 1
    for field in ("power_type", "max_voltage", "max_amperage", "last_updated"):
        assert f"$.connectors[0].{field}: Field required" in err
    assert "INVALID OCPI 2.2.1 EVSE: 5 problem(s)" in err


def test_validate_accepts_the_spec_examples_and_our_outputs(capsys, solved, root_offer):
    folder = solved[3]
    files = [
        OCPI_EXAMPLES / "location_example.json",
        OCPI_EXAMPLES / "cdr_example.json",
        OCPI_EXAMPLES / "tariff_4_complex.json",
        OCPI_EXAMPLES / "token_example_2_full_rfid.json",
        SCENARIOS / "office_depot.json",
        folder / "ocpi_charging_profiles.json",
        *sorted((folder / "ocpp").glob("*/*.json")),
        SITE,
    ]
    code, out, err = run(capsys, "validate", *files, "--ocpp-schemas", OCPP_SCHEMAS)
    assert code == 0, err
    assert "valid: OCPI 2.2.1 CDR" in out and "valid: fera_flex scenario" in out
    assert "an object of 6 by id, OCPI 2.2.1 ChargingProfile" in out
    assert "an array of 1 OCPP 2.0.1 SetChargingProfileRequest" in out
    assert f"{SITE}: valid: OCPI site references" in out


def test_validate_ocpp_against_the_oca_schema_and_the_rules(capsys, solved, tmp_path):
    (payload,) = json.loads(next((solved[3] / "ocpp").glob("*/evse-1.json")).read_text())
    del payload["chargingProfile"]["stackLevel"]
    payload["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] = "max"
    payload["evseId"] = -1
    frame = tmp_path / "call.json"
    frame.write_text(json.dumps([2, "msg-1", "SetChargingProfile", payload]))
    code, _, err = run(capsys, "validate", frame, "--ocpp-schemas", OCPP_SCHEMAS)
    assert code == 1
    assert (
        "$[3].chargingProfile.stackLevel: 'stackLevel' is a required property (OCA schema)" in err
    )
    assert "$[3].chargingProfile.chargingSchedule[0].chargingSchedulePeriod[0].limit: " in err
    assert "$[3].evseId: Input should be greater than or equal to 0" in err  # the model's rule
    assert sum("stackLevel" in line for line in err.splitlines()) == 1  # one finding per path


def test_validate_ocpp_without_schemas_says_so(capsys, solved, tmp_path, monkeypatch):
    from fera_flex import _cli_validate

    monkeypatch.setattr(_cli_validate, "default_schema_dir", lambda: None)
    path = next((solved[3] / "ocpp").glob("*/*.json"))
    code, out, err = run(capsys, "validate", path)
    assert code == 0 and "valid" in out
    assert "checked by fera_flex's models only" in err


def test_validate_site_folder_references(capsys, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    sessions = json.loads((site / "sessions.json").read_text())
    sessions[0]["evse_uid"] = "NO-SUCH-EVSE"
    sessions[2]["location_id"] = "NOWHERE"
    (site / "sessions.json").write_text(json.dumps(sessions))
    code, _, err = run(capsys, "validate", site)
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith(f"{site}: references: ")]
    assert len(lines) == 2 and "NO-SUCH-EVSE" in err and "NOWHERE" in err


def test_validate_type_is_forced(capsys, tmp_path):
    path = tmp_path / "prefs.json"
    path.write_text(json.dumps({"profile_type": "CHEAP", "energy_need": -3}))
    code, _, err = run(capsys, "validate", path, "--type", "ChargingPreferences")
    assert code == 1 and f"{path}: $.energy_need: " in err


def test_validate_empty_output_is_valid(capsys, tmp_path):
    (tmp_path / "none.json").write_text("{}")
    code, out, _ = run(capsys, "validate", tmp_path / "none.json")
    assert code == 0 and "valid: empty (nothing to check)" in out


def test_validate_unrecognised_and_not_json(capsys, tmp_path):
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps({"colour": "blue"}))
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": 1,\n "x": }')
    code, _, err = run(capsys, "validate", odd, broken, tmp_path / "missing.json")
    assert code == 1
    assert "cannot tell what this file holds; pass --type" in err
    assert f"{broken}: line 2 column 7: not valid JSON" in err
    assert "no such file or folder" in err


@st.composite
def json_and_location(draw):
    leaves = st.one_of(st.integers(), st.text(max_size=3), st.none())
    data = draw(
        st.recursive(
            leaves,
            lambda inner: (
                st.lists(inner, min_size=1, max_size=3)
                | st.dictionaries(st.text(min_size=1, max_size=4), inner, min_size=1, max_size=3)
            ),
            max_leaves=8,
        )
    )
    loc, node = [], data
    while isinstance(node, (list, dict)) and draw(st.booleans()):
        key = draw(
            st.sampled_from(list(range(len(node))) if isinstance(node, list) else list(node))
        )
        loc.append(key)
        node = node[key]
    return data, tuple(loc), node


def _resolve(data, path):
    """Follow a JSON path written by json_path."""
    import ast
    import re

    node = data
    for dotted, bracket in re.findall(
        r"\.([A-Za-z_]\w*)|\[((?:\d+)|(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"))\]", path[1:]
    ):
        key = dotted or ast.literal_eval(bracket)
        node = node[key]
    return node


@settings(max_examples=60, deadline=None)
@given(json_and_location())
def test_json_path_leads_back_to_the_value(case):
    data, loc, node = case
    path = json_path(data, loc)
    assert path.startswith("$") and "(as" not in path
    assert _resolve(data, path) == node


def test_json_path_keeps_union_members_apart():
    data = {"nodes": [{"import_capacity_kw": {"start": "x"}}]}
    loc = ("nodes", 0, "import_capacity_kw", "function-after[_one_form(), TimeSeries]", "start")
    assert json_path(data, loc) == "$.nodes[0].import_capacity_kw.start (as TimeSeries)"
    assert json_path(data, ("nodes", 0, "voltage_v"), missing=True) == "$.nodes[0].voltage_v"


# -- progress --------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_draws_on_a_terminal_only():
    terminal = Terminal()
    with Progress(2, "offers", stream=terminal) as progress:
        progress.advance("trafo")
        progress.advance("feeder-A")
        assert "1/2 feeder-A" in progress.line()
    text = terminal.getvalue()
    assert "offers [" in text and "0/2 trafo" in text and text.endswith("\r\x1b[2K")
    assert progress.done == 2
    piped = io.StringIO()
    with Progress(2, "offers", stream=piped) as progress:
        progress.advance("trafo")
    assert piped.getvalue() == "" and not progress.active


# -- demo ------------------------------------------------------------------------------------


def test_demo_without_paths_runs_the_bundled_examples(monkeypatch, tmp_path):
    from fera_flex import _demo

    seen = []
    monkeypatch.setattr(_demo, "run_demo", lambda paths, **kw: seen.append((paths, kw)) or 0)
    assert cli.main(["demo", "-o", str(tmp_path)]) == 0
    ((paths, options),) = seen
    assert SITE in paths and SCENARIOS / "office_depot.json" in paths
    assert options["folder"] == tmp_path


@pytest.mark.parametrize(("error", "code"), [(KeyboardInterrupt, 130), (BrokenPipeError, 141)])
def test_interrupt_and_closed_pipe_exit_quietly(monkeypatch, capsys, error, code):
    from fera_flex import _cli_commands

    def stop(*args):
        raise error

    monkeypatch.setattr(_cli_commands, "run", stop)
    assert cli.main(["validate", "x.json"]) == code
    assert "Traceback" not in capsys.readouterr().err
