import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from fera_flex import cli
from fera_flex._demo import load_site, run_demo
from fera_flex.errors import InputError
from fera_flex.models.fera import FlexibilityDispatch, FlexibilityOffer

SITE = Path(__file__).resolve().parents[1] / "examples" / "ocpi_site"


def test_demo_summarises_bundled_site(capsys):
    assert cli.main(["demo", str(SITE)]) == 0
    text = capsys.readouterr().out
    assert "Location DEPOT-UTR" in text
    assert "230 V x 32 A -> 22.1 kW" in text
    assert "S-2001 ACTIVE" in text and "V2G allowed" in text
    assert text.count("\n  S-") == 5


def test_all_broken_references_reported_together(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    sessions = json.loads((site / "sessions.json").read_text())
    sessions[0]["evse_uid"] = "NO-SUCH-EVSE"
    sessions[1]["location_id"] = "NOWHERE"
    (site / "sessions.json").write_text(json.dumps(sessions))
    prefs = json.loads((site / "charging_preferences.json").read_text())
    prefs["S-404"] = {"profile_type": "FAST"}
    (site / "charging_preferences.json").write_text(json.dumps(prefs))
    with pytest.raises(InputError) as info:
        load_site(site)
    message = str(info.value)
    assert "NO-SUCH-EVSE" in message and "NOWHERE" in message and "S-404" in message
    assert info.value.value == 3


def test_invalid_file_is_reported_not_raised(tmp_path):
    (tmp_path / "locations.json").write_text("[{")
    (tmp_path / "sessions.json").write_text("[]")
    out = io.StringIO()
    assert run_demo([tmp_path], out=out) == 1
    assert "locations.json" in out.getvalue() and "not valid JSON" in out.getvalue()


def test_missing_folder(tmp_path):
    out = io.StringIO()
    assert run_demo([tmp_path / "nope"], out=out) == 1
    assert "is not a folder" in out.getvalue()


def test_demo_summarises_bundled_scenarios():
    scenarios = SITE.parent / "scenarios"
    paths = [scenarios / "office_depot.json", scenarios / "residential_street.json"]
    out = io.StringIO()
    assert run_demo(paths, out=out) == 0  # no folder: nothing written
    text = out.getvalue()
    assert "Scenario office-depot-utrecht" in text and "40 EVSEs" in text
    assert "Scenario residential-street-amersfoort" in text
    assert "70..160 kW over time" in text
    assert text.count("status optimal") == 2
    assert "limit violations: 0" in text and "OCPI ChargingProfile for" in text
    # an offer of each root around its peak, dispatched and followed
    assert text.count("offer (box, deliverable) for 'trafo'") == 1
    assert text.count("offer (box, deliverable) for 'lv-feeder'") == 1
    assert text.count("dispatch (") == 2 and text.count("followed within") == 2
    assert "pictures" not in text


def test_demo_writes_offer_dispatch_profiles_and_pictures(capsys, tmp_path):
    path = SITE.parent / "scenarios" / "residential_street.json"
    assert cli.main(["demo", str(path), "-o", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    name = "residential-street-amersfoort"
    for picture in ("site", "sessions", "flexibility"):
        png = tmp_path / f"{name}-{picture}.png"
        assert png.read_bytes().startswith(b"\x89PNG") and str(png) in text
    offer = FlexibilityOffer.model_validate(
        json.loads((tmp_path / f"{name}-offer.json").read_text())[0]
    )
    dispatch = FlexibilityDispatch.model_validate_json(
        (tmp_path / f"{name}-dispatch.json").read_text()
    )
    assert dispatch.offer_id == offer.id and dispatch.node_id == offer.node_id
    low, high = np.array(offer.power_min_kw), np.array(offer.power_max_kw)
    assert ((low - 1e-9 <= dispatch.power_kw) & (dispatch.power_kw <= high + 1e-9)).all()
    summary = json.loads((tmp_path / f"{name}-dispatched" / "plan_summary.json").read_text())
    assert summary["plan"]["violations"] == [] and summary["plan"]["unmet_kwh"] < 1e-6
    assert list((tmp_path / f"{name}-dispatched" / "ocpp").glob("*/evse-*.json"))


def test_demo_errors_go_to_the_error_stream(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    assert run_demo([tmp_path / "nope"], out=out, err=err) == 1
    assert out.getvalue() == "" and "is not a folder" in err.getvalue()


def test_invalid_scenario_reported(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x"}')
    out = io.StringIO()
    assert run_demo([bad], out=out) == 1
    assert "horizon" in out.getvalue() and "Field required" in out.getvalue()
