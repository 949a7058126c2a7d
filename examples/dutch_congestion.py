"""Dutch congestion with NL-Flex: a DSO's baseline, the available flex, a 4-hour FLEX call.

Run it from anywhere::

    .venv/bin/python examples/dutch_congestion.py            # print the exchange
    .venv/bin/python examples/dutch_congestion.py -o out     # also write every OpenADR message

The street is the bundled ``examples/scenarios/residential_street.json``: 20
home chargers on one LV feeder that is congested in the evening. In this
example five of its cars (H-02, H-05, H-06, H-10, H-12) leave again at
22:30 local time (an evening shift), so the evening cannot simply be
emptied: some of their energy has to come during it.

The DSO's Business Logic (the OpenADR 3.1 VTN) and fera_flex (the Service
Provider's VEN, resource group = the feeder's EVs) speak the Dutch NL-Flex
profile (OpenADR DER profile v1.0.0):

1. the DSO publishes a **baseline event**: ``ACTIVE_BASELINE`` 40 kW for the group;
2. the VEN computes the reduction below it that *every* 2- or 4-hour block
   of the day can deliver, exactly from the feeder's aggregate
   (:func:`fera_flex.standards.openadr.available_flex`), and reports it as
   the ``ACTIVE_FLEX_DELTA`` of a **flex delta report**;
3. the DSO calls that much **FLEX** for 17:00-21:00 local time (a ``PT4H``
   dispatch with an adjacent hour at the baseline on either side);
4. the VEN reads the event (every NL-Flex rule checked), turns it into
   limits of the feeder (:func:`~fera_flex.standards.openadr.with_flex_dispatch`),
   plans, **acknowledges**, and reports the **DELIVERED_FLEX** per quarter hour.

The DSO's events are written here as the JSON a VTN serves; the VEN's
reports are what it POSTs (OpenADR ``reportRequest``). With ``-o DIR`` each
message is written there as JSON.
"""

import argparse
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

import fera_flex as ff
from fera_flex.standards import openadr

SCENARIO = Path(__file__).resolve().parent / "scenarios" / "residential_street.json"
GROUP = "lv-feeder"  # the resource group: the EVs under the feeder
SP = "8712423014022"  # the Service Provider's EAN13 (the VEN's clientName)
BASELINE_KW = 40.0
EVENING_SHIFT = ("H-02", "H-05", "H-06", "H-10", "H-12")
LEAVE = datetime(2026, 3, 2, 21, 30, tzinfo=timezone.utc)  # 22:30 local
CALL_START = datetime(2026, 3, 2, 16, tzinfo=timezone.utc)  # 17:00 local
CALL = timedelta(hours=4)
HOUR = timedelta(hours=1)


def street() -> ff.Scenario:
    """The bundled street, with five cars leaving again at 22:30 local."""
    scenario = ff.Scenario.load(SCENARIO)
    data = scenario.model_dump(mode="json")
    for session_id in EVENING_SHIFT:
        data["charging_preferences"][session_id]["departure_time"] = _z(LEAVE)
    return ff.Scenario.model_validate(data)


def _z(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event(event_id: str, payload_types: tuple[str, ...], **fields) -> dict:
    """The fields every event of the DSO's program shares."""
    return {
        "id": event_id,
        "createdDateTime": "2026-03-02T10:00:00Z",
        "modificationDateTime": "2026-03-02T10:00:00Z",
        "objectType": "EVENT",
        "programID": "nl-flex-amersfoort",
        "targets": [GROUP],
        "payloadDescriptors": [
            {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": kind, "units": "KW"}
            for kind in payload_types
        ],
        **fields,
    }


def baseline_event() -> dict:
    """The DSO: the group's baseline, asking for the flex delta report streams."""
    stream = {"reportIntervals": "OPEN_INTERVALS", "frequency": 0, "repeat": -1}
    return _event(
        "baseline-lv-feeder",
        ("ACTIVE_BASELINE", "RESERVED_BASELINE"),
        reportDescriptors=[
            {"payloadType": "ACTIVE_FLEX_DELTA", **stream},
            {"payloadType": "RESERVED_FLEX_DELTA", **stream},
        ],
        intervals=[
            {
                "id": 0,
                "payloads": [
                    {"type": "ACTIVE_BASELINE", "values": [BASELINE_KW]},
                    {"type": "RESERVED_BASELINE", "values": [0.0]},
                ],
            }
        ],
    )


def flex_event(window_start: datetime, flex_kw: float) -> dict:
    """The DSO: a 4-hour FLEX call with its adjacent hours, in a 24-hour event window."""
    parts = [
        (CALL_START - HOUR, "PT1H", 0.0),
        (CALL_START, "PT4H", flex_kw),
        (CALL_START + CALL, "PT1H", 0.0),
    ]
    return _event(
        "flex-lv-feeder-evening",
        ("FLEX",),
        intervalPeriod={"start": _z(window_start), "duration": "P1D"},
        reportDescriptors=[
            {"payloadType": "ACK", "frequency": 0},
            {"payloadType": "DELIVERED_FLEX", "reportIntervals": "INTERVALS"},
        ],
        intervals=[
            {
                "id": k,
                "intervalPeriod": {"start": _z(start), "duration": duration},
                "payloads": [{"type": "FLEX", "values": [value]}],
            }
            for k, (start, duration, value) in enumerate(parts)
        ],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, help="folder for the OpenADR messages")
    args = parser.parse_args(argv)

    problem = ff.ChargingProblem.from_scenario(street())
    grid = problem.grid
    window = (grid.start, grid.end)  # the event window: the 24 hours of the plan

    # 1-2. the baseline event in; the flex every block can deliver out
    baseline = openadr.read_baseline_event(json.dumps(baseline_event()))
    flexibility = ff.aggregate(problem, GROUP)
    available = openadr.available_flex(
        problem,
        GROUP,
        baseline.active_kw,
        window=window,
        max_duration=CALL,
        start_step=HOUR,
        flexibility=flexibility,
    )
    delta = openadr.flex_delta_report(baseline.event_id, SP, available.offered_kw)
    print(
        f"baseline {baseline.active_kw} kW for {GROUP!r}; available flex {available.flex_kw} kW "
        f"in every 2- or 4-hour block ({available.n_blocks} blocks; the least is the "
        f"{available.worst_duration / HOUR:.0f}-hour block from {available.worst_start:%H:%M} UTC)"
    )
    evening = openadr.block_flex_kw(
        problem, GROUP, baseline.active_kw, CALL_START, CALL, flexibility=flexibility
    )
    print(f"  the evening block alone could give {evening} kW")

    # 3-4. the DSO calls it all for the evening; the VEN plans within it
    event = flex_event(grid.start, openadr.read_flex_delta_report(openadr.to_json(delta)).active_kw)
    dispatch = openadr.read_flex_event(
        json.dumps(event), max_duration=CALL, available_kw=available.offered_kw
    )
    ack = openadr.ack_report(dispatch.event_id, SP)
    capped = openadr.with_flex_dispatch(problem, dispatch, baseline.active_kw)
    plan = ff.schedule(capped)
    violations = ff.verify_plan(capped, plan)
    free = ff.schedule(problem)
    offtake = openadr.offtake_profile(plan, GROUP)
    print(
        f"plan under the FLEX call: {plan.status.value}, {plan.delivered_kwh.sum():.1f} of "
        f"{problem.energy_kwh.sum():.1f} kWh, {plan.cost_eur:.2f} EUR (without the call "
        f"{free.cost_eur:.2f} EUR), limit violations: {len(violations)}"
    )
    k = problem.node_index(GROUP)
    ev_kw = problem.node_loads_kw(plan.power_kw)[k]
    free_kw = problem.node_loads_kw(free.power_kw)[k]
    for interval in dispatch.intervals:
        first = grid.index_of(int(interval.start.timestamp()))
        stop = first + int((interval.end - interval.start).total_seconds()) // grid.step_s
        print(
            f"  {interval.start:%H:%M}-{interval.end:%H:%M} UTC cap "
            f"{baseline.active_kw - interval.flex_kw:5.2f} kW: EV offtake up to "
            f"{ev_kw[first:stop].max():5.2f} kW (without the call {free_kw[first:stop].max():5.2f})"
        )
    delivered = openadr.delivered_flex_report(dispatch, baseline.active_kw, offtake, SP)
    called = next(i for i in dispatch.intervals if not i.adjacent)
    reported = next(
        i for i in openadr.to_json(delivered)["resources"][0]["intervals"] if i["id"] == called.id
    )["payloads"][0]["values"]
    print(
        f"DELIVERED_FLEX of the call: {len(reported)} quarter hours, at least "
        f"{np.min(reported)} kW (called {called.flex_kw} kW)"
    )

    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
        messages = {
            "baseline_event.json": baseline_event(),
            "flex_delta_report.json": openadr.to_json(delta),
            "flex_event.json": event,
            "ack_report.json": openadr.to_json(ack),
            "delivered_flex_report.json": openadr.to_json(delivered),
        }
        for name, message in messages.items():
            (args.output / name).write_text(json.dumps(message, indent=2) + "\n")
        print(f"wrote {', '.join(messages)} to {args.output}")
    return 1 if violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
