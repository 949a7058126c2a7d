import io
import json
import shutil
from pathlib import Path

import pytest

from fera_flex import cli
from fera_flex._demo import load_site, run_demo
from fera_flex.errors import InputError

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


def test_demo_summarises_bundled_scenarios(capsys):
    scenarios = SITE.parent / "scenarios"
    paths = [str(scenarios / "office_depot.json"), str(scenarios / "residential_street.json")]
    assert cli.main(["demo", *paths]) == 0
    text = capsys.readouterr().out
    assert "Scenario office-depot-utrecht" in text and "40 EVSEs" in text
    assert "Scenario residential-street-amersfoort" in text
    assert "70..160 kW over time" in text
    assert text.count("status optimal") == 2
    assert "limit violations: 0" in text and "OCPI ChargingProfile for" in text


def test_invalid_scenario_reported(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x"}')
    out = io.StringIO()
    assert run_demo([bad], out=out) == 1
    assert "horizon" in out.getvalue() and "Field required" in out.getvalue()
