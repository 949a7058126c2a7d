"""Receding-horizon planning through a day: new arrivals and an intraday price update.

Run it from anywhere::

    .venv/bin/python examples/replanning.py               # re-plan every hour, 07:00-18:00 UTC
    .venv/bin/python examples/replanning.py --every 3     # every 3 hours

The day is the bundled ``examples/scenarios/office_depot.json`` (without its
four expected visitors). The SCSP knows a car only once it has plugged in
(its OCPI Session and ChargingPreferences arrive then), and at 11:00 UTC
an intraday price update makes 13:00-16:00 UTC 40 % dearer and 11:00-13:00
20 % cheaper than the day-ahead price.

The first plan is made at 06:30 UTC for the cars plugged in by then. At
each re-planning time ``now`` the plan made before has run until ``now``
(the slot holding ``now`` has begun, so it runs to that slot's end); the
scenario as the SCSP knows it then (the Sessions plugged in so far, their
``kwh`` the energy charged so far, the prices in force) goes to
:func:`fera_flex.replan`, which keeps the past and plans the rest. At the
end the executed day is checked against every limit of the whole day
(:func:`fera_flex.scheduling.verify.verify_power`), every need is compared
with what its car got, and the cost is compared with a plan that would
have known every arrival and the intraday prices from the start.
"""

import argparse
from datetime import timedelta
from pathlib import Path

import numpy as np

import fera_flex as ff
from fera_flex.models.fera import PriceSignal, TimeSeries
from fera_flex.scheduling.replan import remaining_problem
from fera_flex.scheduling.verify import verify_power

SCENARIO = Path(__file__).resolve().parent / "scenarios" / "office_depot.json"
UPDATE_HOUR = 11
DEARER_HOURS, CHEAPER_HOURS = (13, 16), (11, 13)


def intraday(day_ahead: PriceSignal, slots_per_hour: int) -> PriceSignal:
    """The day-ahead signal with the intraday update applied (same id, scope and currency)."""
    series = day_ahead.import_price_per_kwh
    values = np.array(series.values)
    for (first, stop), factor in ((DEARER_HOURS, 1.4), (CHEAPER_HOURS, 0.8)):
        values[first * slots_per_hour : stop * slots_per_hour] *= factor
    return day_ahead.model_copy(
        update={
            "import_price_per_kwh": TimeSeries(
                start=series.start, step_s=series.step_s, values=values.round(4).tolist()
            )
        }
    )


class Day:
    """What has happened so far: the energy and power each session got in each slot."""

    def __init__(self, truth: ff.Scenario) -> None:
        self.truth = truth
        n_slots = truth.horizon.n_slots
        self.charge_kw = {session.id: np.zeros(n_slots) for session in truth.sessions}
        self.discharge_kw = {session.id: np.zeros(n_slots) for session in truth.sessions}
        self.energy_kwh = {session.id: np.zeros(n_slots) for session in truth.sessions}

    def run(self, plan: ff.ChargingPlan, first: int, stop: int) -> None:
        """Execute a plan's slots ``first`` to ``stop`` (exclusive)."""
        gained = plan.problem.battery_gain_kwh(plan.charge_kw, plan.discharge_kw)
        for row, session_id in enumerate(plan.session_ids):
            self.charge_kw[session_id][first:stop] = plan.charge_kw[row, first:stop]
            self.discharge_kw[session_id][first:stop] = plan.discharge_kw[row, first:stop]
            self.energy_kwh[session_id][first:stop] = gained[row, first:stop]

    def known(self, now, prices: PriceSignal) -> ff.Scenario:
        """The scenario as the SCSP knows it at ``now``."""
        sessions = [
            session.model_copy(update={"kwh": float(self.energy_kwh[session.id].sum())})
            for session in self.truth.sessions
            if session.start_date_time <= now
        ]
        return self.truth.model_copy(
            update={
                "sessions": sessions,
                "charging_preferences": {
                    s.id: self.truth.charging_preferences[s.id] for s in sessions
                },
                "price_signals": [prices],
            }
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=1, help="hours between re-plans (default 1)")
    args = parser.parse_args(argv)
    if not 1 <= args.every <= 11:
        parser.error(f"--every {args.every}: must be 1 to 11 hours")

    truth = ff.Scenario.load(SCENARIO).model_copy(update={"arrival_estimates": []})
    grid_start, step = truth.horizon.start, timedelta(seconds=truth.horizon.step_s)
    slots_per_hour = timedelta(hours=1) // step
    [day_ahead] = truth.price_signals
    updated = intraday(day_ahead, slots_per_hour)
    day = Day(truth)

    def slot_after(now) -> int:  # the first slot that has not begun at ``now``
        return (now - grid_start) // step + 1

    now = grid_start + timedelta(hours=6, minutes=30)
    first = slot_after(now)
    known = ff.ChargingProblem.from_scenario(day.known(now, day_ahead))
    plan = ff.schedule(remaining_problem(known, first, np.zeros(known.n_sessions)))
    print(f"{'UTC':>5} {'known':>5} {'planned':>7} {'to go kWh':>9} {'plan EUR':>8}  prices")
    print(
        f"{now:%H:%M} {known.n_sessions:>5} {plan.problem.n_sessions:>7} "
        f"{plan.problem.energy_kwh.sum():>9.1f} {plan.cost_eur:>8.2f}  day-ahead"
    )
    for hour in range(7, 19, args.every):
        now = grid_start + timedelta(hours=hour)
        stop = slot_after(now)
        day.run(plan, first, stop)
        prices = updated if hour >= UPDATE_HOUR else day_ahead
        update = day.known(now, prices)
        plan = ff.replan(plan, now, update)
        assert ff.verify_plan(plan.problem, plan) == []
        print(
            f"{now:%H:%M} {len(update.sessions):>5} {plan.problem.n_sessions:>7} "
            f"{plan.problem.energy_kwh.sum():>9.1f} {plan.cost_eur:>8.2f}  "
            f"{'intraday' if prices is updated else 'day-ahead'}"
        )
        first = stop
    day.run(plan, first, truth.horizon.n_slots)

    # the executed day against the whole day's limits, needs and prices
    whole = ff.ChargingProblem.from_scenario(truth.model_copy(update={"price_signals": [updated]}))
    charge = np.array([day.charge_kw[i] for i in whole.session_ids])
    discharge = np.array([day.discharge_kw[i] for i in whole.session_ids])
    violations = verify_power(whole, charge, discharge)
    executed = ff.ChargingPlan(
        problem=whole,
        charge_kw=charge,
        discharge_kw=discharge,
        status=plan.status,
        backend="receding horizon",
    )
    short = np.maximum(whole.energy_kwh - executed.delivered_kwh, 0.0)
    foresight = ff.schedule(whole)
    print(
        f"executed day: {executed.delivered_kwh.sum():.1f} of {whole.energy_kwh.sum():.1f} kWh, "
        f"largest shortfall {short.max():.2e} kWh, limit violations: {len(violations)}"
    )
    print(
        f"cost {executed.cost_eur:.2f} EUR; with every arrival and the intraday prices known "
        f"at 00:00: {foresight.cost_eur:.2f} EUR"
    )
    return 1 if violations or short.max() > 1e-6 else 0


if __name__ == "__main__":
    raise SystemExit(main())
