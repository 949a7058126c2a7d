"""An aggregator's flexibility per feeder: box, battery and options offers, activations, OCPP out.

Run it from anywhere::

    .venv/bin/python examples/aggregator_offers.py            # print the offers and activations
    .venv/bin/python examples/aggregator_offers.py -o out     # also write offers and OCPP requests

The site is the bundled ``examples/scenarios/office_depot.json`` (two 160 kW
feeders of 20 EVSEs each under one transformer), without its four expected
visitors, so that every planned session has an OCPP transaction. The
baseline is the site's own plan. For both feeders, over 10:00-12:00 UTC,
:func:`fera_flex.flexibility_offers` makes

- **box** offers: a power range per quarter hour, every profile inside it deliverable;
- **battery** offers: a power band and a band on the energy drawn since the
  window's start (what S2 FRBC/PEBC carry);
- **options** offers: up to four alternative profiles, each priced by its
  opportunity cost against the baseline (what a USEF FlexOffer carries).

The offers of one call are deliverable *together*: the transformer's
headroom is shared between the two feeders first. The aggregator's buyer
then activates the bottom of both boxes at once, and separately a battery
trajectory on both feeders (as little as the bands allow, as early as they
allow), and one option of feeder B. :func:`fera_flex.disaggregate` turns each
activation into per-session charging, which is verified against every limit
and compared with the activation. The box activation goes out as OCPP 2.0.1
``SetChargingProfileRequest`` TxProfiles, one per session, addressed to the
charging station (the topology's ``charging_station`` node) and its evseId
(the EVSE's position in that node, from 1).

With ``-o DIR`` it writes ``offers.json`` (every offer as a FERA
FlexibilityOffer), ``activation.json`` (the box activation, FERA
FlexibilityDispatches) and ``ocpp_requests.json`` (station -> its requests).
"""

import argparse
import json
from pathlib import Path

import numpy as np

import fera_flex as ff
from fera_flex.flexibility import dispatch_deviation_kw
from fera_flex.models.fera import FlexibilityDispatch, NodeKind

SCENARIO = Path(__file__).resolve().parent / "scenarios" / "office_depot.json"
NODES = ("feeder-A", "feeder-B")
WINDOW = (40, 48)  # quarter-hour slots: 10:00-12:00 UTC


def dispatch_of(offer, power_kw, name: str) -> FlexibilityDispatch:
    """An activation of an offer: the node's load per slot of its window [kW]."""
    return FlexibilityDispatch(
        id=f"{name}-{offer.node_id}",
        node_id=offer.node_id,
        start=offer.grid.start,
        step_s=offer.grid.step_s,
        power_kw=[float(value) for value in power_kw],
    )


def lowest_trajectory_kw(offer) -> np.ndarray:
    """The battery offer's least load, slot by slot: the power band's bottom, raised
    only where the energy band's lower bound needs it (and within both bands)."""
    dt_h = offer.grid.dt_h
    drawn_kwh, power = 0.0, []
    for low, high, least_kwh in zip(
        offer.power_min_kw, offer.power_max_kw, offer.energy_min_kwh, strict=True
    ):
        value = min(max(low, (least_kwh - drawn_kwh) / dt_h), high)
        drawn_kwh += value * dt_h
        power.append(value)
    return np.array(power)


def follow(problem, plan_name, dispatches) -> ff.ChargingPlan:
    """Disaggregate, verify, and print how closely the activation is followed."""
    followed = ff.disaggregate(problem, dispatches)
    violations = ff.verify_plan(followed.problem, followed)
    gap_kw = np.abs(dispatch_deviation_kw(followed)).max()
    print(
        f"  {plan_name}: followed within {gap_kw:.1e} kW, {followed.delivered_kwh.sum():.1f} of "
        f"{problem.energy_kwh.sum():.1f} kWh delivered, cost {followed.cost_eur:.2f} EUR, "
        f"limit violations: {len(violations)}"
    )
    if violations:
        raise SystemExit(f"limits broken: {violations[:3]}")
    return followed


def evse_addresses(scenario: ff.Scenario) -> dict[str, tuple[str, int]]:
    """Session id -> (charging station, OCPP evseId): the EVSE's position in its station node."""
    position = {
        uid.casefold(): (node.id, k)
        for node in scenario.topology.nodes
        if node.kind is NodeKind.CHARGING_STATION
        for k, uid in enumerate(node.evse_uids, start=1)
    }
    return {session.id: position[session.evse_uid.casefold()] for session in scenario.sessions}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, help="folder for offers and OCPP requests")
    args = parser.parse_args(argv)

    scenario = ff.Scenario.load(SCENARIO).model_copy(update={"arrival_estimates": []})
    problem = ff.ChargingProblem.from_scenario(scenario)
    baseline = ff.schedule(problem)
    dt_h = problem.grid.dt_h
    print(
        f"baseline: {baseline.status.value}, {baseline.delivered_kwh.sum():.1f} kWh, "
        f"{baseline.cost_eur:.2f} EUR; offers over slots {WINDOW[0]}-{WINDOW[1]} (UTC 10-12)"
    )
    offers = {
        shape: ff.flexibility_offers(problem, baseline, nodes=NODES, shape=shape, window=WINDOW)
        for shape in ("box", "battery", "options")
    }
    print(
        f"  {'node':<9} {'shape':<8} {'base kWh':>8} {'least':>6} {'most':>6} {'kept up/down':>12}"
    )
    for shape, made in offers.items():
        for offer in made:
            least, most = offer.power_min_kw.sum() * dt_h, offer.power_max_kw.sum() * dt_h
            if offer.energy_max_kwh is not None:  # a battery: the energy band's ends
                least, most = offer.energy_min_kwh[-1], offer.energy_max_kwh[-1]
            print(
                f"  {offer.node_id:<9} {shape:<8} {offer.baseline_kw.sum() * dt_h:>8.1f} "
                f"{least:>6.1f} {most:>6.1f} {offer.kept_up:>6.2f}/{offer.kept_down:.2f}"
            )
            if offer.options_kw is not None:
                costs = ", ".join(
                    f"{profile.sum() * dt_h:.0f} kWh at {cost:.2f}"
                    for profile, cost in zip(offer.options_kw, offer.option_cost_eur, strict=True)
                )
                print(f"  {'':<9} options (kWh at opportunity cost, EUR): {costs}")

    print("activations:")
    box_activation = [dispatch_of(o, o.power_min_kw, "box-bottom") for o in offers["box"]]
    followed = follow(problem, "both boxes at their bottom", box_activation)
    follow(
        problem,
        "battery trajectories on both feeders",
        [dispatch_of(o, lowest_trajectory_kw(o), "battery-low") for o in offers["battery"]],
    )
    option_b = offers["options"][1]
    cheapest = int(np.argmin(option_b.option_cost_eur))
    follow(
        problem,
        f"option {cheapest} of feeder-B",
        [dispatch_of(option_b, option_b.options_kw[cheapest], "option")],
    )

    addresses = evse_addresses(scenario)
    requests = followed.to_ocpp_requests(
        {session: evse_id for session, (_, evse_id) in addresses.items()}
    )
    per_station: dict[str, list] = {}
    for session_id, request in zip(followed.session_ids, requests, strict=True):
        per_station.setdefault(addresses[session_id][0], []).append(
            request.model_dump(mode="json", by_alias=True)
        )
    print(
        f"OCPP: {len(requests)} SetChargingProfileRequests (TxProfile) to "
        f"{len(per_station)} charging stations"
    )
    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
        made = [
            offer.to_fera(f"{offer.node_id}-{shape}").model_dump(mode="json")
            for shape, group in offers.items()
            for offer in group
        ]
        files = {
            "offers.json": made,
            "activation.json": [d.model_dump(mode="json") for d in box_activation],
            "ocpp_requests.json": per_station,
        }
        for name, data in files.items():
            (args.output / name).write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {', '.join(files)} to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
