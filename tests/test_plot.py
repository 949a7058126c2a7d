"""fera_flex.plot: the figures, their artists, their time zone, their PNGs and their errors."""

import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import matplotlib.dates as mdates
import numpy as np
import pytest
from matplotlib.figure import Figure

from fera_flex import plot
from fera_flex.errors import InputError
from fera_flex.flexibility import aggregate, box_offer, disaggregate, options_offer
from fera_flex.models.fera import FlexibilityDispatch
from fera_flex.scenarios import generate, random_problem
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.schedule import schedule
from fera_flex.timeseries import TimeGrid

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.fixture(scope="module")
def plan():
    """Two feeders whose limits bind (HiGHS: no JIT compilation in these tests)."""
    return schedule(random_problem(12, n_slots=16, seed=4, n_feeders=2, profile_mix=True), "highs")


@pytest.fixture(scope="module")
def free_plan():
    """Some V2G sessions, no node limits: the node's set is answered by small LPs (no JIT)."""
    problem = random_problem(12, n_slots=16, seed=4, n_feeders=2, profile_mix=True, v2g_share=0.3)
    return schedule(problem.replace(node_capacity_kw=np.inf), "highs")


@pytest.fixture(scope="module")
def short_plan():
    return schedule(random_problem(16, n_slots=16, seed=1, overload=1.6), "highs")


def legend_texts(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


def is_png(path):
    data = path.read_bytes()
    return data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5_000


def test_site_plan_panels_layers_limits_and_price(plan, tmp_path):
    fig = plot.site_plan(plan, path=tmp_path / "site.png", tz=AMSTERDAM)
    assert isinstance(fig, Figure) and is_png(tmp_path / "site.png")
    problem = plan.problem
    root = int(problem.node_order[0])
    children = np.flatnonzero(problem.node_parent == root)
    main, *rest = [ax for ax in fig.axes if ax.get_ylabel() == "power [kW]"]
    assert len(rest) == children.size  # the root, then one panel per feeder
    twin = next(ax for ax in fig.axes if ax.get_ylabel() == "import price [EUR/kWh]")
    assert twin.get_lines()
    labels = legend_texts(main)
    assert {"total load", "import limit", "import price"} <= set(labels)
    assert {problem.node_ids[c] for c in children} <= set(labels)
    assert main.get_xlabel() == "" and fig.axes[len(rest)].get_xlabel() == "time (Europe/Amsterdam)"
    # the total line is the root's load, slot by slot
    total = next(line for line in main.get_lines() if line.get_label() == "total load")
    np.testing.assert_allclose(total.get_ydata()[::2], plan.node_load_kw[root], atol=1e-12)


def test_site_plan_stacks_add_up_to_the_total(plan):
    fig = plot.site_plan(plan, nodes=[1], by="evse", max_layers=3)
    (ax,) = [a for a in fig.axes if a.get_ylabel() == "power [kW]"]
    labels = legend_texts(ax)
    sessions = plan.problem.sessions_under(1)
    assert sum(label.startswith("EVSE ") for label in labels) == min(3, sessions.size)
    assert any(label.startswith("other (") for label in labels) == (sessions.size > 3)
    tops = np.zeros(plan.problem.n_slots)
    for patch in ax.patches:  # the stacked stairs: each layer's top minus its bottom
        values, _, baseline = patch.get_data()
        tops += np.where(values > 0, values - baseline, 0.0)
    np.testing.assert_allclose(tops, np.maximum(plan.node_load_kw[1], 0.0), atol=1e-9)


def test_site_plan_draws_into_a_given_figure_and_checks_arguments(plan):
    own = Figure()
    assert plot.site_plan(plan, nodes=["n0"], fig=own) is own
    with pytest.raises(InputError, match="by = 'phase'"):
        plot.site_plan(plan, by="phase")
    with pytest.raises(InputError, match="max_layers"):
        plot.site_plan(plan, max_layers=0)
    with pytest.raises(InputError, match="no such node"):
        plot.site_plan(plan, nodes=["nowhere"])
    with pytest.raises(InputError, match="not a known IANA time zone"):
        plot.site_plan(plan, tz="Mars/Olympus")


def test_site_plan_export_limit_where_the_node_exports(tmp_path):
    problem = random_problem(8, n_slots=12, seed=2, v2g_share=1.0)
    problem = problem.replace(
        export_capacity_kw=20.0, base_load_kw=np.where(np.arange(problem.n_nodes) == 0, -40.0, 0.0)
    )
    fig = plot.site_plan(schedule(problem, "highs"), nodes=[0])
    labels = legend_texts(fig.axes[0])
    assert "export limit" in labels and "non-EV load" in labels


def test_flexibility_band_artists(free_plan, tmp_path):
    problem = free_plan.problem
    offer = box_offer(problem, 0, free_plan, window=(4, 10))
    dispatch = FlexibilityDispatch(
        id="d-1",
        node_id=offer.node_id,
        start=offer.grid.start,
        step_s=offer.grid.step_s,
        power_kw=offer.power_min_kw.tolist(),
    )
    followed = disaggregate(problem, dispatch, method="highs")
    envelope = aggregate(problem, 0).envelope()
    fig = plot.flexibility_band(
        free_plan,
        0,
        envelope=envelope,
        offer=offer,
        dispatch=dispatch,
        followed=followed,
        path=tmp_path / "band.png",
    )
    assert is_png(tmp_path / "band.png")
    power_ax, energy_ax = fig.axes
    assert legend_texts(power_ax) == [
        "envelope (outer bound, not an offer)",
        "box offer (deliverable)",
        "baseline (planned)",
        "dispatch d-1",
        "realised after the dispatch",
    ]
    assert power_ax.get_ylabel() == f"EV load through {problem.node_ids[0]} [kW]"
    assert energy_ax.get_ylabel() == "energy since start [kWh]"
    assert energy_ax.get_xlabel() == "time (UTC)"
    band = power_ax.patches[0]
    values, _, baseline = band.get_data()
    np.testing.assert_allclose(values, envelope.power_max_kw)
    np.testing.assert_allclose(baseline, envelope.power_min_kw)
    realised = next(x for x in power_ax.get_lines() if x.get_label().startswith("realised"))
    np.testing.assert_allclose(
        realised.get_ydata()[2 * 4 : 2 * 10 : 2], offer.power_min_kw, atol=1e-4
    )
    offered = power_ax.patches[1].get_data()
    np.testing.assert_allclose(offered.values, offer.power_max_kw)
    np.testing.assert_allclose(offered.baseline, offer.power_min_kw)
    assert (offer.power_min_kw < offer.power_max_kw - 1).any()  # a box with room to show


def test_flexibility_band_options_and_default_envelope(free_plan):
    offer = options_offer(free_plan.problem, 0, free_plan, window=(6, 10))
    fig = plot.flexibility_band(free_plan, free_plan.problem.node_ids[0], offer=offer)
    labels = legend_texts(fig.axes[0])
    assert "options offer (deliverable)" in labels
    assert sum(label.startswith("option ") for label in labels) == len(offer.options_kw)
    assert "EUR" in next(label for label in labels if label.startswith("option "))


def test_flexibility_band_rejects_another_nodes_offer(free_plan):
    offer = box_offer(free_plan.problem, 1, free_plan, window=(4, 6))
    with pytest.raises(InputError, match="offer = 'n1': is not for node 'n0'"):
        plot.flexibility_band(
            free_plan, 0, offer=offer, envelope=aggregate(free_plan.problem, 0).envelope()
        )


def test_session_gantt_rows_colours_and_energy(short_plan, tmp_path):
    fig = plot.session_gantt(short_plan, path=tmp_path / "gantt.png", tz="Europe/Amsterdam")
    assert is_png(tmp_path / "gantt.png")
    (ax,) = fig.axes
    problem = short_plan.problem
    start_s, _ = plot.session_stays_s(problem)
    order = np.argsort(start_s, kind="stable")
    assert [t.get_text() for t in ax.get_yticklabels()] == [problem.session_ids[i] for i in order]
    labels = legend_texts(ax)
    assert labels[:4] == ["CHEAP", "FAST", "GREEN", "REGULAR"]
    assert {"charging", "plugged in", "discharging (V2G)"} <= set(labels)
    texts = [t.get_text() for t in ax.texts]
    for i in range(problem.n_sessions):
        assert f" {short_plan.delivered_kwh[i]:.1f} / {problem.energy_kwh[i]:.1f} kWh" in texts
    short = short_plan.unmet_kwh > 1e-6 * np.maximum(1.0, problem.energy_kwh)
    assert short.any()
    assert sum(t.startswith("  unmet ") for t in texts) == short.sum()
    assert ax.get_xlabel() == "time (Europe/Amsterdam)"


def test_session_gantt_truncates(short_plan):
    fig = plot.session_gantt(short_plan, max_sessions=5)
    assert len(fig.axes[0].get_yticklabels()) == 5
    assert "(first 5)" in fig.axes[0].get_title()
    with pytest.raises(InputError, match="max_sessions"):
        plot.session_gantt(short_plan, max_sessions=0)


def test_time_axis_is_local():
    grid = TimeGrid(datetime(2026, 7, 1, 22, tzinfo=timezone.utc), 3600, 4)
    problem = ChargingProblem.from_arrays(
        grid=grid,
        arrival_slot=[0],
        departure_slot=[4],
        energy_kwh=[5.0],
        power_max_kw=11.0,
        node_of_session=[0],
        node_parent=[-1],
        node_capacity_kw=50.0,
        price_eur_per_kwh=0.3,
    )
    fig = plot.session_gantt(schedule(problem, "highs"), tz=AMSTERDAM)
    formatter = fig.axes[0].xaxis.get_major_formatter()
    midnight_utc = mdates.date2num(datetime(2026, 7, 2, tzinfo=timezone.utc))
    hours = [midnight_utc + k / 24 for k in range(3)]
    assert formatter.format_ticks(hours) == ["02:00", "03:00", "04:00"]  # CEST, UTC+2


def test_session_stays_use_the_partial_slots():
    grid = TimeGrid(datetime(2026, 3, 2, tzinfo=timezone.utc), 900, 8)
    problem = ChargingProblem.from_arrays(
        grid=grid,
        arrival_slot=[1, 3],
        departure_slot=[5, 4],
        energy_kwh=[2.0, 0.5],
        power_max_kw=11.0,
        node_of_session=[0, 0],
        node_parent=[-1],
        node_capacity_kw=50.0,
        price_eur_per_kwh=0.3,
        first_slot_fraction=[0.4, 0.5],
        last_slot_fraction=[0.6, 0.5],
    )
    start_s, end_s = plot.session_stays_s(problem)
    t0 = grid.start_s
    np.testing.assert_allclose(start_s - t0, [900 + 540, 2700])
    np.testing.assert_allclose(end_s - t0, [3600 + 540, 2700 + 450])


def test_scenario_time_zone():
    scenario = generate(n_evses=2, n_feeders=1, n_slots=8, step_s=3600, seed=0)
    assert plot.scenario_time_zone(scenario) == AMSTERDAM
    data = scenario.model_dump(mode="json")
    second = {**data["locations"][0], "id": "LOC-2", "time_zone": "Europe/London", "evses": []}
    data["locations"].append(second)
    mixed = type(scenario).model_validate(data)
    assert plot.scenario_time_zone(mixed) == timezone.utc
    data["locations"] = [{**data["locations"][0], "time_zone": "Nowhere/Special"}]
    with pytest.raises(InputError, match="Location: time_zone = 'Nowhere/Special'"):
        plot.scenario_time_zone(type(scenario).model_validate(data))


def test_without_matplotlib_the_message_says_how_to_install(plan, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'fera_flex\[plot\]'"):
        plot.session_gantt(plan)


def test_session_gantt_draws_charging_only_while_plugged_in():
    grid = TimeGrid(datetime(2026, 3, 2, tzinfo=timezone.utc), 900, 8)
    problem = ChargingProblem.from_arrays(
        grid=grid,
        arrival_slot=[1],
        departure_slot=[5],
        energy_kwh=[7.0],
        power_max_kw=11.0,
        node_of_session=[0],
        node_parent=[-1],
        node_capacity_kw=50.0,
        price_eur_per_kwh=0.3,
        first_slot_fraction=[0.4],
        last_slot_fraction=[0.6],
    )
    plan = schedule(problem, "highs")
    assert plan.charge_kw[0, 1] > 0 and plan.charge_kw[0, 4] > 0  # it charges in both part slots
    (ax,) = plot.session_gantt(plan).axes
    start_s, end_s = plot.session_stays_s(problem)
    epoch = mdates.date2num(datetime(1970, 1, 1, tzinfo=timezone.utc))
    low, high = epoch + start_s[0] / 86_400, epoch + end_s[0] / 86_400
    bars = [path.vertices[:, 0] for c in ax.collections for path in c.get_paths()]
    assert len(bars) >= 2
    for x in bars:
        assert low - 1e-9 <= x.min() and x.max() <= high + 1e-9
