"""A CSMS that sends a fera_flex plan to charging stations over OCPP 2.0.1 and checks their answers.

Run from the repository root::

    .venv/bin/python examples/ocpp_csms.py [--scenario PATH] [--duration-s SECONDS]

The script schedules a scenario (the bundled office depot by default) and
starts a CSMS on a free port of 127.0.0.1 with the ``ocpp`` package's OCPP
2.0.1 stack over ``websockets`` (the package validates every message against
the OCPP JSON schemas, in both directions). It then connects one simulated
charging station per station of the scenario's grid topology that has an
active transaction. Each station boots, is sent the TxProfile of each of its
transactions (``ChargingPlan.to_ocpp_requests``), accepts and stores it, and
answers a GetCompositeScheduleRequest for each EVSE; the CSMS compares every
answer with :func:`fera_flex.models.composite.composite_schedule` over the
profiles it sent.

These simulated stations compute their composite schedule with fera_flex as
well; ``tests/test_ocpp_stack.py`` runs the same CSMS against stations with an
independent calculation. With ``--duration-s`` the CSMS then stays up that
long for real stations (``ws://127.0.0.1:PORT/<station id>``, subprotocol
``ocpp2.0.1``), which it answers BootNotification and sends nothing else.
"""

import argparse
import asyncio
import contextlib
import json
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ocpp.routing import on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from fera_flex import ChargingPlan, ChargingProblem, Scenario, schedule, units
from fera_flex.models import ocpi, ocpp
from fera_flex.models.composite import composite_schedule

SCENARIO = Path(__file__).resolve().parent / "scenarios" / "office_depot.json"
SUBPROTOCOL = "ocpp2.0.1"


@dataclass
class Station:
    """What the CSMS knows of one charging station."""

    id: str
    ratings_w: dict[int, float]  # evseId -> the EVSE's rating [W], its limit where no profile is
    transactions: dict[str, tuple[int, datetime]]  # transactionId -> (evseId, start)
    requests: list[ocpp.SetChargingProfileRequest] = field(default_factory=list)


@dataclass
class Report:
    """What one station answered: the status of each SetChargingProfileRequest, in order, and
    per evseId the composite schedule it reported with the one fera_flex computes."""

    statuses: list[str]
    composites: dict[int, tuple[ocpp.CompositeSchedule, ocpp.CompositeSchedule]]


def stations_of(scenario: Scenario, plan: ChargingPlan) -> dict[str, Station]:
    """The stations (grid nodes with EVSEs) with active transactions, and their TxProfiles.

    An EVSE's evseId is its position in its node's ``evse_uids`` (from 1); the
    transactionId of a session is its id (``to_ocpp_requests``' default).
    """
    topology, evses = scenario.topology, scenario.evses()
    active = {s.id: s for s in scenario.sessions if s.status is ocpi.SessionStatus.ACTIVE}
    evse_ids, nodes = {}, {}
    for session_id, uid in zip(plan.session_ids, plan.problem.evse_uids, strict=True):
        node = topology.node_of_evse(uid)
        folded = [u.casefold() for u in node.evse_uids]
        evse_ids[session_id], nodes[session_id] = folded.index(uid.casefold()) + 1, node
    stations: dict[str, Station] = {}
    for session_id, request in zip(plan.session_ids, plan.to_ocpp_requests(evse_ids), strict=True):
        if session_id not in active:  # an expected arrival: no transaction yet
            continue
        node = nodes[session_id]
        ratings = {
            k + 1: units.wire_limit(evses[uid.casefold()][1].max_power_kw, "W")
            for k, uid in enumerate(node.evse_uids)
        }
        station = stations.setdefault(node.id, Station(node.id, ratings, {}))
        station.transactions[session_id] = (request.evse_id, active[session_id].start_date_time)
        station.requests.append(request)
    return stations


class CsmsSide(ChargePoint):
    """The CSMS's end of one station's connection."""

    def __init__(self, station_id: str, connection) -> None:
        super().__init__(station_id, connection)
        self.booted = asyncio.Event()

    @on(Action.boot_notification)
    def on_boot_notification(self, charging_station, reason, **_):
        self.booted.set()
        now = datetime.now(timezone.utc).isoformat()
        return call_result.BootNotification(current_time=now, interval=300, status="Accepted")

    async def send_plan(self, station: Station, query_s: int) -> Report:
        """Send the station its profiles, then ask each EVSE for its composite schedule."""
        await self.booted.wait()
        statuses = []
        for request in station.requests:
            payload = json.loads(ocpp.to_json(request))  # fera_flex's wire JSON, as it is
            result = await self.call(
                call.SetChargingProfile(
                    evse_id=payload["evseId"], charging_profile=payload["chargingProfile"]
                ),
                suppress=False,
            )
            statuses.append(result.status)
        composites = {}
        for evse_id, started in sorted(station.transactions.values()):
            result = await self.call(
                call.GetCompositeSchedule(
                    duration=query_s, evse_id=evse_id, charging_rate_unit="W"
                ),
                suppress=False,
            )
            reported = ocpp.CompositeSchedule.model_validate(result.schedule)
            expected = composite_schedule(
                [r for r in station.requests if r.evse_id == evse_id],
                evse_id=evse_id,
                start=reported.schedule_start,
                duration_s=reported.duration,
                transaction_start=started,
                default_limit=station.ratings_w[evse_id],
            ).schedule
            composites[evse_id] = (reported, expected)
        return Report(statuses, composites)


class SimulatedStation(ChargePoint):
    """A charging station that stores the TxProfiles of its transactions and reports composites."""

    def __init__(self, station: Station, connection, now: datetime) -> None:
        super().__init__(station.id, connection)
        self.station, self.now = station, now
        self.installed: dict[int, dict[int, ocpp.ChargingProfile]] = {}  # evseId -> id -> profile

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, evse_id, charging_profile, **_):
        profile = ocpp.ChargingProfile.model_validate(charging_profile)
        owner = self.station.transactions.get(profile.transaction_id)
        if owner is None or owner[0] != evse_id:  # K01.FR.09: no such transaction there
            return call_result.SetChargingProfile(status="Rejected")
        self.installed.setdefault(evse_id, {})[profile.id] = profile  # an id replaces (K01.FR.05)
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, duration, evse_id, charging_rate_unit="W", **_):
        schedule_ = self.composite(evse_id, duration, charging_rate_unit)
        return call_result.GetCompositeSchedule(status="Accepted", schedule=schedule_)

    def composite(self, evse_id: int, duration_s: int, unit: str) -> dict:
        """The composite schedule from now, as the JSON object of a CompositeScheduleType."""
        started = [s for e, s in self.station.transactions.values() if e == evse_id]
        result = composite_schedule(
            self.installed.get(evse_id, {}).values(),
            evse_id=evse_id,
            start=self.now,
            duration_s=duration_s,
            charging_rate_unit=unit,
            transaction_start=started[0] if started else None,
            default_limit=self.station.ratings_w[evse_id],
        )
        return json.loads(ocpp.to_json(result.schedule))

    async def run(self) -> None:
        """Boot, then serve the CSMS until it closes the connection."""
        serving = asyncio.create_task(self.start())
        await self.call(
            call.BootNotification(
                charging_station={"model": "simulated", "vendor_name": "fera_flex"},
                reason="PowerUp",
            )
        )
        with contextlib.suppress(ConnectionClosed):
            await serving


async def run(
    scenario: Scenario, *, duration_s: float = 0.0, station_class: type = SimulatedStation
) -> tuple[dict[str, Report], list]:
    """Schedule the scenario, run the CSMS and the simulated stations; the reports and stations."""
    problem = ChargingProblem.from_scenario(scenario)
    stations = stations_of(scenario, schedule(problem))
    grid = problem.grid
    latest = max(start for s in stations.values() for _, start in s.transactions.values())
    step = timedelta(seconds=grid.step_s)
    now = grid.start - ((grid.start - latest) // step) * step  # the slot edge after the last start
    query_s = int((grid.end - now).total_seconds())
    reports: dict[str, Report] = {}

    async def handler(connection) -> None:
        side = CsmsSide(connection.request.path.strip("/"), connection)
        serving = asyncio.create_task(side.start())
        station = stations.get(side.id)
        if station is not None:
            reports[side.id] = await side.send_plan(station, query_s)
            await connection.close()
        with contextlib.suppress(ConnectionClosed):
            await serving

    async with serve(handler, "127.0.0.1", 0, subprotocols=[SUBPROTOCOL]) as server:
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"

        async def station_run(station: Station):
            async with connect(f"{url}/{station.id}", subprotocols=[SUBPROTOCOL]) as connection:
                simulated = station_class(station, connection, now)
                await simulated.run()
            return simulated

        simulated = await asyncio.gather(*(station_run(s) for s in stations.values()))
        if duration_s > 0:
            print(f"CSMS listening on {url}/<station id> for {duration_s:g} s")
            await asyncio.sleep(duration_s)
    return reports, simulated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=SCENARIO)
    parser.add_argument("--duration-s", type=float, default=0.0, help="stay up for real stations")
    args = parser.parse_args(argv)
    reports, stations = asyncio.run(run(Scenario.load(args.scenario), duration_s=args.duration_s))
    good = {station.id for station in stations} == set(reports)  # every exchange completed
    for station_id, report in sorted(reports.items()):
        accepted = report.statuses.count("Accepted")
        matching = [e for e, (got, want) in report.composites.items() if got == want]
        good &= accepted == len(report.statuses) and len(matching) == len(report.composites)
        periods = sum(len(got.charging_schedule_period) for got, _ in report.composites.values())
        print(
            f"{station_id}: {accepted}/{len(report.statuses)} TxProfiles accepted; composite "
            f"schedules of {len(matching)}/{len(report.composites)} EVSEs equal fera_flex's "
            f"({periods} periods)"
        )
    print("all stations agree with fera_flex" if good else "MISMATCH")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
