"""fera_flex's OCPP 2.0.1 output through a real OCPP stack: the ``ocpp`` package on ``websockets``.

``examples/ocpp_csms.py`` runs a CSMS and charging stations on 127.0.0.1; the
``ocpp`` package validates every message against its own OCPP 2.0.1 JSON
schemas on both ends. Here the stations compute their composite schedule with
an independent, deliberately narrow calculation (the one profile set a
station holding only the plan's TxProfiles has), and the CSMS checks it
against :func:`fera_flex.models.composite.composite_schedule`.
"""

import asyncio
import json
import runpy
import sys
from datetime import datetime
from pathlib import Path

import pytest
from ocpp.exceptions import OCPPError
from ocpp.messages import Call, validate_payload

from fera_flex import Scenario
from fera_flex.models import ocpp

EXAMPLE_PATH = Path(__file__).resolve().parents[1] / "examples" / "ocpp_csms.py"


@pytest.fixture(scope="module")
def example() -> dict:
    return runpy.run_path(str(EXAMPLE_PATH))


def reference_composite(
    profile: ocpp.ChargingProfile | None,
    now: datetime,
    duration_s: int,
    transaction_start: datetime,
    default_w: float,
) -> list[tuple[int, float]]:
    """(startPeriod, limit) of the composite of an EVSE holding at most one TxProfile [W].

    The profile's period limit from the later of its start and the transaction
    start until its duration ends; the EVSE's rating everywhere else; equal
    neighbours merged. Only the profiles a plan sends are handled.
    """
    t0, t1 = now.timestamp(), now.timestamp() + duration_s
    if profile is None:
        return [(0, default_w)]
    (schedule,) = profile.charging_schedule
    assert profile.charging_profile_purpose is ocpp.ChargingProfilePurpose.TX_PROFILE
    assert profile.charging_profile_kind is ocpp.ChargingProfileKind.ABSOLUTE
    assert schedule.charging_rate_unit is ocpp.ChargingRateUnit.W
    assert profile.valid_from is None and profile.valid_to is None
    begin = schedule.start_schedule.timestamp()
    applies = max(begin, transaction_start.timestamp())
    end = begin + schedule.duration if schedule.duration is not None else float("inf")
    steps = [(begin + p.start_period, p.limit) for p in schedule.charging_schedule_period]

    def limit_at(t: float) -> float:
        if not applies <= t < end:
            return default_w
        return [limit for start, limit in steps if start <= t][-1]

    edges = sorted({t0, applies, end, *(start for start, _ in steps)} - {float("inf")})
    merged: list[tuple[int, float]] = []
    for t in (t for t in edges if t0 <= t < t1):
        if not merged or merged[-1][1] != limit_at(t):
            merged.append((int(t - t0), limit_at(t)))
    return merged


@pytest.fixture(scope="module")
def independent_station(example):
    class IndependentStation(example["SimulatedStation"]):
        """Stores profiles like the example's station, computes its composite on its own."""

        def composite(self, evse_id: int, duration_s: int, unit: str) -> dict:
            assert unit == "W"
            installed = list(self.installed.get(evse_id, {}).values())
            assert len(installed) <= 1
            (started,) = [s for e, s in self.station.transactions.values() if e == evse_id]
            periods = reference_composite(
                installed[0] if installed else None,
                self.now,
                duration_s,
                started,
                self.station.ratings_w[evse_id],
            )
            return {
                "evseId": evse_id,
                "duration": duration_s,
                "scheduleStart": self.now.isoformat(),
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [
                    {"startPeriod": start, "limit": limit} for start, limit in periods
                ],
            }

    return IndependentStation


@pytest.fixture(scope="module")
def exchange(example, independent_station):
    scenario = Scenario.load(example["SCENARIO"])
    reports, stations = asyncio.run(example["run"](scenario, station_class=independent_station))
    return scenario, reports, stations


def test_stations_accept_store_and_report_what_fera_flex_computes(exchange):
    scenario, reports, stations = exchange
    active = {s.id for s in scenario.sessions if s.status.value == "ACTIVE"}
    assert sum(len(r.statuses) for r in reports.values()) == len(active) > 0
    assert {station.id for station in stations} == set(reports)
    for station in stations:
        report = reports[station.id]
        assert report.statuses == ["Accepted"] * len(station.station.requests)
        for request in station.station.requests:
            (stored,) = station.installed[request.evse_id].values()
            assert stored == request.charging_profile  # intact through both JSON conversions
            assert ocpp.to_json(stored) == ocpp.to_json(request.charging_profile)
        assert set(report.composites) == {e for e, _ in station.station.transactions.values()}
        for reported, expected in report.composites.values():
            assert reported == expected
            assert len(reported.charging_schedule_period) > 1  # the plan shows, not just the rating


def test_the_stack_validates_against_the_ocpp_schemas(exchange):
    _, _, stations = exchange
    payload = json.loads(ocpp.to_json(stations[0].station.requests[0]))
    asyncio.run(validate_payload(Call("1", "SetChargingProfile", payload), "2.0.1"))
    payload["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"] = []
    with pytest.raises(OCPPError):
        asyncio.run(validate_payload(Call("2", "SetChargingProfile", payload), "2.0.1"))


def test_the_example_runs(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [str(EXAMPLE_PATH), "--duration-s", "0.05"])
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(EXAMPLE_PATH), run_name="__main__")
    out = capsys.readouterr().out
    assert info.value.code == 0, out
    assert "CSMS listening on ws://127.0.0.1:" in out
    assert out.strip().endswith("all stations agree with fera_flex")
