"""Pictures of plans and flexibility: a site plan, a flexibility band per node, a session Gantt.

Every function returns a :class:`matplotlib.figure.Figure` and, given
``path``, also writes it as a PNG. matplotlib comes with the ``plot`` extra
(``pip install 'fera_flex[plot]'``) and is imported only when a function runs.
Figures are made without ``pyplot``: no display, window or global figure
registry is needed (drawing and saving use matplotlib's Agg renderer), so the
functions work on a server, in threads and in notebooks (a Figure shows
itself there). To draw into a figure of your own (say, ``plt.figure()`` to
show it in a window) pass it as ``fig``.

Times are drawn in a time zone: ``tz`` is a ``tzinfo`` or an IANA name, UTC
when omitted; :func:`scenario_time_zone` gives a scenario's local zone (the
``time_zone`` its OCPI Locations share). Power is kW, energy kWh; the sign
convention is the library's (charging positive, discharge and generation
negative).

Examples
--------
>>> from fera_flex.scenarios import random_problem
>>> from fera_flex.scheduling.schedule import schedule
>>> plan = schedule(random_problem(6, n_slots=16, seed=1), "highs")
>>> fig = session_gantt(plan)
>>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()][3:]
['REGULAR', 'charging', 'discharging (V2G)', 'plugged in']
>>> site_plan(plan).axes[0].get_ylabel()
'power [kW]'
"""

from collections.abc import Sequence
from datetime import datetime, timezone, tzinfo
from os import PathLike
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from numpy.typing import NDArray

from fera_flex.errors import InputError

__all__ = [
    "flexibility_band",
    "scenario_time_zone",
    "session_gantt",
    "session_stays_s",
    "site_plan",
]

_DPI = 120
_TYPE_COLOURS = {  # OCPI ProfileType -> colour
    "CHEAP": "tab:blue",
    "FAST": "tab:red",
    "GREEN": "tab:green",
    "REGULAR": "tab:purple",
}
_OTHER = {"non-EV": "0.8", "other": "0.55"}
"""Colours of the non-EV layer and of the summed smaller layers of a site plan."""
_ON_KW = 1e-6
"""Power above which a slot counts as charging (or discharging) in the Gantt [kW]."""


def scenario_time_zone(scenario: Any) -> tzinfo:
    """The local time zone of a scenario: the ``time_zone`` all its Locations share, else UTC.

    Raises
    ------
    InputError
        If that zone is not a known IANA time zone.
    """
    zones = {location.time_zone for location in scenario.locations}
    if len(zones) != 1:
        return timezone.utc
    return _zone("Location", "time_zone", zones.pop())


def session_stays_s(problem: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Plug-in and plug-out time of every session of a problem [epoch s], (n,) twice.

    From the window and the plugged-in fractions of its first and last slot.
    In a one-slot stay only the duration is known: it is placed at the slot's
    start.
    """
    grid = problem.grid
    edges = grid.edges_s.astype(np.float64)
    rows = np.arange(problem.n_sessions)
    first, last = problem.arrival_slot, problem.departure_slot - 1
    start = edges[first] + (1.0 - problem.presence[rows, first]) * grid.step_s
    end = edges[last] + problem.presence[rows, last] * grid.step_s
    single = first == last
    start[single] = edges[first[single]]
    end[single] = start[single] + problem.presence[rows[single], first[single]] * grid.step_s
    return start, end


def site_plan(
    plan: Any,
    nodes: Sequence[int | str] | None = None,
    *,
    by: str | None = None,
    tz: tzinfo | str | None = None,
    max_layers: int = 8,
    fig: Any = None,
    path: str | PathLike[str] | None = None,
) -> Any:
    """The planned load through grid nodes, stacked, against each node's limit, with the price.

    One panel per node: the non-EV load through it (buildings, generation
    negative) at the bottom, the EV load stacked per EVSE under it or per
    child node (the largest ``max_layers`` layers, the rest summed as
    "other"), the total, and the node's import limit (and its export limit
    where the node exports). The first panel carries the import price on a
    second axis.

    Parameters
    ----------
    plan : ChargingPlan
    nodes : sequence of node ids or indices, optional
        The panels; by default the root and, when there are at most three,
        its children with sessions under them.
    by : {"evse", "node"}, optional
        Stack per EVSE, or per child node (sessions attached to the node
        itself form one more layer); ``"node"`` for nodes with children,
        ``"evse"`` otherwise.
    tz : tzinfo or str, optional
        Time zone of the time axis; UTC when omitted.
    max_layers : int
        Layers drawn one by one per panel (>= 1).
    fig : matplotlib Figure, optional
        Figure to draw into (it should be empty); a new one when omitted.
    path : path, optional
        Where to write the figure as a PNG.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require_matplotlib()
    problem = plan.problem
    zone = _time_zone(tz)
    if by not in (None, "evse", "node"):
        raise InputError("site_plan", "by", by, "must be 'evse' or 'node'")
    if isinstance(max_layers, bool) or not isinstance(max_layers, int) or max_layers < 1:
        raise InputError("site_plan", "max_layers", max_layers, "must be an integer >= 1")
    panels = _default_panels(problem) if nodes is None else [problem.node_index(k) for k in nodes]
    if not panels:
        raise InputError("site_plan", "nodes", nodes, "names no node")
    fig = _figure(fig, (11.0, 1.2 + 3.4 * len(panels)))
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    edges = _date_numbers(problem.grid.edges_s)
    loads = plan.node_load_kw
    for number, (ax, k) in enumerate(zip(axes, panels, strict=True)):
        children = np.flatnonzero(problem.node_parent == k)
        how = by or ("node" if children.size else "evse")
        layers = _node_layers(plan, k) if how == "node" else _evse_layers(plan, k)
        _stack(ax, edges, _largest(layers, max_layers))
        _step(ax, edges, loads[k], color="black", linewidth=1.2, label="total load")
        _limit_lines(ax, edges, problem, k, loads[k])
        ax.set_title(f"{problem.node_ids[k]}: planned load per {how} against the node's limit")
        ax.set_ylabel("power [kW]")
        ax.axhline(0.0, color="0.6", linewidth=0.6)
        ax.grid(alpha=0.3)
        extra = _price_axis(ax, edges, problem, k) if number == 0 else []
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(
            handles + extra,
            labels + [h.get_label() for h in extra],
            loc="upper left",
            bbox_to_anchor=(1.09 if extra else 1.01, 1.0),
            fontsize="small",
        )
    _time_axis(axes[-1], zone)
    return _saved(fig, path)


def flexibility_band(
    plan: Any,
    node: int | str = 0,
    *,
    envelope: Any = None,
    offer: Any = None,
    dispatch: Any = None,
    followed: Any = None,
    tz: tzinfo | str | None = None,
    fig: Any = None,
    path: str | PathLike[str] | None = None,
) -> Any:
    """A node's flexibility: its planned EV load, the outer envelope, an offer and a dispatch.

    Top panel: power per slot [kW]; bottom panel: energy since the start of
    the horizon [kWh] (the envelope's cumulative bounds and the plans').

    Parameters
    ----------
    plan : ChargingPlan
        The baseline plan.
    node : node id or index
    envelope : FlexibilityEnvelope, optional
        The node's outer bound; ``aggregate(plan.problem, node).envelope()``
        when omitted (it is never an offer: not every profile inside it is
        deliverable).
    offer : NodeOffer, optional
        A deliverable offer of the node (its range, and its options).
    dispatch : FlexibilityDispatch, optional
        An activation of the node.
    followed : ChargingPlan, optional
        The plan that delivers the dispatch (``disaggregate``): its node load is drawn.
    tz : tzinfo or str, optional
        Time zone of the time axis; UTC when omitted.
    fig : matplotlib Figure, optional
        Figure to draw into; a new one when omitted.
    path : path, optional
        Where to write the figure as a PNG.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require_matplotlib()
    problem = plan.problem
    k = problem.node_index(node)
    zone = _time_zone(tz)
    if envelope is None:
        from fera_flex.flexibility.aggregate import aggregate

        envelope = aggregate(problem, k).envelope()
    for name, value in (("offer", offer), ("envelope", envelope), ("dispatch", dispatch)):
        if value is not None and value.node_id != problem.node_ids[k]:
            raise InputError(
                "flexibility_band", name, value.node_id, f"is not for node {problem.node_ids[k]!r}"
            )
    fig = _figure(fig, (11.0, 7.0))
    power_ax, energy_ax = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    grid = problem.grid
    edges = _date_numbers(grid.edges_s)
    baseline = problem.node_loads_kw(plan.power_kw)[k]
    power_ax.stairs(
        envelope.power_max_kw,
        edges,
        baseline=envelope.power_min_kw,
        fill=True,
        color="tab:blue",
        alpha=0.18,
        label="envelope (outer bound, not an offer)",
    )
    if offer is not None:
        _offer_artists(power_ax, offer)
    _step(power_ax, edges, baseline, color="black", linewidth=1.4, label="baseline (planned)")
    cumulative = [("baseline (planned)", baseline, "black", "-")]
    if dispatch is not None:
        d_edges = _date_numbers(
            dispatch.start.timestamp() + dispatch.step_s * np.arange(len(dispatch.power_kw) + 1)
        )
        _step(
            power_ax,
            d_edges,
            np.asarray(dispatch.power_kw),
            color="tab:green",
            linewidth=2.6,
            alpha=0.8,
            label=f"dispatch {dispatch.id}",
        )
    if followed is not None:
        realised = followed.problem.node_loads_kw(followed.power_kw)[k]
        _step(
            power_ax,
            edges,
            realised,
            color="tab:red",
            linewidth=1.2,
            linestyle=":",
            label="realised after the dispatch",
        )
        cumulative.append(("realised after the dispatch", realised, "tab:red", ":"))
    power_ax.set_ylabel(f"EV load through {problem.node_ids[k]} [kW]")
    power_ax.set_title(f"Flexibility of node {problem.node_ids[k]}")
    energy_ax.stairs(
        envelope.energy_max_kwh,
        edges,
        baseline=envelope.energy_min_kwh,
        fill=True,
        color="tab:blue",
        alpha=0.18,
        label="envelope (outer bound)",
    )
    for label, load_kw, colour, style in cumulative:
        _step(
            energy_ax,
            edges,
            np.cumsum(load_kw) * grid.dt_h,
            color=colour,
            linestyle=style,
            label=label,
        )
    energy_ax.set_ylabel("energy since start [kWh]")
    for ax in (power_ax, energy_ax):
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    _time_axis(energy_ax, zone)
    return _saved(fig, path)


def session_gantt(
    plan: Any,
    *,
    tz: tzinfo | str | None = None,
    max_sessions: int = 60,
    fig: Any = None,
    path: str | PathLike[str] | None = None,
) -> Any:
    """Every session's stay, when it charges, and the energy delivered against the need.

    One row per session (earliest plug-in first): a light bar from plug-in
    to plug-out in the colour of its OCPI ProfileType, solid where it
    charges, hatched where it discharges, and ``delivered / need kWh`` next to
    it (with the unmet energy in red).

    Parameters
    ----------
    plan : ChargingPlan
    tz : tzinfo or str, optional
        Time zone of the time axis; UTC when omitted.
    max_sessions : int
        Rows drawn at most (the earliest ones; the title says how many there are).
    fig : matplotlib Figure, optional
        Figure to draw into; a new one when omitted.
    path : path, optional
        Where to write the figure as a PNG.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require_matplotlib()
    from matplotlib.patches import Patch

    from fera_flex.scheduling.problem import PROFILE_TYPES

    problem = plan.problem
    zone = _time_zone(tz)
    if isinstance(max_sessions, bool) or not isinstance(max_sessions, int) or max_sessions < 1:
        raise InputError("session_gantt", "max_sessions", max_sessions, "must be an integer >= 1")
    start_s, end_s = session_stays_s(problem)
    order = np.argsort(start_s, kind="stable")[:max_sessions]
    fig = _figure(fig, (11.0, 1.6 + 0.28 * order.size))
    ax = fig.subplots()
    edges = _date_numbers(problem.grid.edges_s)
    starts, ends = _date_numbers(start_s), _date_numbers(end_s)
    need, delivered, unmet = problem.energy_kwh, plan.delivered_kwh, plan.unmet_kwh
    for row, i in enumerate(order):
        kind = PROFILE_TYPES[problem.profile_type[i]].value
        colour = _TYPE_COLOURS[kind]
        ax.broken_barh(
            [(starts[i], ends[i] - starts[i])], (row - 0.4, 0.8), color=colour, alpha=0.25
        )
        for runs, hatch in (
            (plan.charge_kw[i] > _ON_KW, None),
            (plan.discharge_kw[i] > _ON_KW, "////"),
        ):
            clipped = [  # a partial first or last slot: only while plugged in
                (max(edges[a], starts[i]), min(edges[b], ends[i])) for a, b in _runs(runs)
            ]
            spans = [(low, high - low) for low, high in clipped]
            if spans:
                ax.broken_barh(
                    spans,
                    (row - 0.3, 0.6),
                    facecolor="white" if hatch else colour,
                    edgecolor=colour,
                    hatch=hatch,
                    linewidth=0.0 if hatch is None else 0.8,
                )
        text = f" {delivered[i]:.1f} / {need[i]:.1f} kWh"
        ax.text(ends[i], row, text, va="center", fontsize=7)
        if unmet[i] > 1e-6 * max(1.0, need[i]):
            ax.text(ends[i], row - 0.45, f"  unmet {unmet[i]:.1f} kWh", color="tab:red", fontsize=6)
    ax.set_yticks(range(order.size), [problem.session_ids[i] for i in order], fontsize=7)
    ax.set_ylim(order.size - 0.5, -0.7)
    ax.axvline(edges[-1], color="0.4", linewidth=0.8, linestyle=":")
    span = edges[-1] - edges[0]
    ax.set_xlim(edges[0], edges[-1] + 0.14 * span)
    ax.set_ylabel("session")
    shown = "" if order.size == problem.n_sessions else f" (first {order.size})"
    ax.set_title(f"{problem.n_sessions} sessions{shown}: stay, charging and energy")
    ax.grid(axis="x", alpha=0.3)
    handles = [Patch(color=_TYPE_COLOURS[t.value], label=t.value) for t in PROFILE_TYPES]
    handles += [
        Patch(facecolor="0.3", label="charging"),
        Patch(facecolor="white", edgecolor="0.3", hatch="////", label="discharging (V2G)"),
        Patch(facecolor="0.3", alpha=0.25, label="plugged in"),
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    _time_axis(ax, zone)
    return _saved(fig, path)


# -- helpers -------------------------------------------------------------------------------------


def _require_matplotlib() -> None:
    """Import matplotlib, or say how to install it."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as err:
        raise ModuleNotFoundError(
            "fera_flex.plot needs matplotlib: pip install 'fera_flex[plot]'", name="matplotlib"
        ) from err


def _figure(fig: Any, size: tuple[float, float]) -> Any:
    """``fig``, or a new Figure (not registered with pyplot) of ``size`` inches."""
    from matplotlib.figure import Figure

    return Figure(figsize=size, layout="constrained") if fig is None else fig


def _zone(where: str, field: str, name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(where, field, name, "is not a known IANA time zone") from None


def _time_zone(tz: tzinfo | str | None) -> tzinfo:
    if tz is None:
        return timezone.utc
    if isinstance(tz, tzinfo):
        return tz
    if isinstance(tz, str):
        return _zone("plot", "tz", tz)
    raise InputError("plot", "tz", tz, "must be a tzinfo or an IANA time zone name")


def _date_numbers(t_s: Any) -> NDArray[np.float64]:
    """Date numbers of matplotlib (days since its epoch) of epoch seconds."""
    import matplotlib.dates as mdates

    epoch = mdates.date2num(datetime(1970, 1, 1, tzinfo=timezone.utc))
    return epoch + np.asarray(t_s, dtype=np.float64) / 86_400.0


def _time_axis(ax: Any, zone: tzinfo) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(tz=zone)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=zone))
    ax.set_xlabel(f"time ({zone})")


def _saved(fig: Any, path: str | PathLike[str] | None) -> Any:
    if path is not None:
        fig.savefig(path, dpi=_DPI)
    return fig


def _step(ax: Any, edges: NDArray, values: NDArray, **style: Any) -> None:
    """A piecewise-constant line over slots (NaN values leave gaps)."""
    values = np.asarray(values, dtype=np.float64)
    ax.plot(np.repeat(edges, 2)[1:-1], np.repeat(values, 2), **style)


def _runs(on: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(first, stop) of every run of True slots."""
    padded = np.concatenate(([False], on, [False])).astype(np.int8)
    change = np.flatnonzero(np.diff(padded))
    return list(zip(change[::2].tolist(), change[1::2].tolist(), strict=True))


def _default_panels(problem: Any) -> list[int]:
    root = int(problem.node_order[0])
    children = [
        int(c)
        for c in np.flatnonzero(problem.node_parent == root)
        if problem.sessions_under(int(c)).size
    ]
    return [root, *children] if 0 < len(children) <= 3 else [root]


def _evse_layers(plan: Any, k: int) -> list[tuple[str, NDArray]]:
    """(label, kW per slot) per EVSE under node ``k``, and its non-EV load."""
    problem = plan.problem
    power: dict[str, NDArray] = {}
    for i in problem.sessions_under(k):
        name = problem.evse_uids[i] or problem.session_ids[i]
        power[name] = power.get(name, 0.0) + plan.power_kw[i]
    layers = [(f"EVSE {name}", load) for name, load in power.items()]
    return [*layers, ("non-EV load", problem.node_base_load_kw[k])]


def _node_layers(plan: Any, k: int) -> list[tuple[str, NDArray]]:
    """(label, kW per slot): the EV load under each child of node ``k``, at ``k`` itself, non-EV."""
    problem = plan.problem
    ev = problem.node_loads_kw(plan.power_kw)
    layers = [(problem.node_ids[c], ev[c]) for c in np.flatnonzero(problem.node_parent == k)]
    own = np.flatnonzero(problem.node_of_session == k)
    if own.size:
        layers.append((f"EVSEs at {problem.node_ids[k]}", plan.power_kw[own].sum(axis=0)))
    return [*layers, ("non-EV load", problem.node_base_load_kw[k])]


def _largest(layers: list[tuple[str, NDArray]], count: int) -> list[tuple[str, NDArray]]:
    """The non-EV layer first, then the ``count`` largest layers by energy, the rest as "other"."""
    *ev, base = layers
    ev = sorted(ev, key=lambda layer: -float(np.abs(layer[1]).sum()))
    kept = [layer for layer in ev[:count] if np.abs(layer[1]).max(initial=0.0) > 0]
    rest = ev[count:]
    if rest:
        kept.append((f"other ({len(rest)})", np.sum([load for _, load in rest], axis=0)))
    return ([base] if np.abs(base[1]).max(initial=0.0) > 0 else []) + kept


def _stack(ax: Any, edges: NDArray, layers: list[tuple[str, NDArray]]) -> None:
    """Stacked areas: positive parts up from 0, negative parts down from 0."""
    import matplotlib

    palette = matplotlib.colormaps["tab20"]
    up = np.zeros(edges.size - 1)
    down = np.zeros(edges.size - 1)
    for number, (label, load) in enumerate(layers):
        colour = _OTHER.get(label.split(" ")[0], palette(number % 20))
        load = np.broadcast_to(np.asarray(load, dtype=np.float64), up.shape)
        positive, negative = np.maximum(load, 0.0), np.minimum(load, 0.0)
        shown = False
        for part, base in ((positive, up), (negative, down)):
            if np.any(part != 0):
                ax.stairs(
                    base + part,
                    edges,
                    baseline=base.copy(),
                    fill=True,
                    color=colour,
                    label=None if shown else label,
                )
                shown = True
                base += part


def _limit_lines(ax: Any, edges: NDArray, problem: Any, k: int, plan_load_kw: NDArray) -> None:
    """The node's import limit, and its export limit where the node exports."""
    imports = problem.node_capacity_kw[k]
    if np.isfinite(imports).any():
        _step(
            ax,
            edges,
            np.where(np.isfinite(imports), imports, np.nan),
            color="tab:red",
            linestyle="--",
            linewidth=1.6,
            label="import limit",
        )
    exports = problem.export_capacity_kw[k]
    if np.isfinite(exports).any() and (plan_load_kw < 0).any():
        _step(
            ax,
            edges,
            np.where(np.isfinite(exports), -exports, np.nan),
            color="tab:orange",
            linestyle="--",
            linewidth=1.6,
            label="export limit",
        )


def _price_axis(ax: Any, edges: NDArray, problem: Any, k: int) -> list[Any]:
    """The import price of the node's sessions on a second axis; the legend handles."""
    price = np.asarray(problem.price_eur_per_kwh)
    twin = ax.twinx()
    twin.set_ylabel("import price [EUR/kWh]")
    if price.ndim == 2:
        rows = price[problem.sessions_under(k)] if problem.n_sessions else price
        if rows.size and not np.allclose(rows, rows[0]):
            twin.stairs(
                rows.max(axis=0),
                edges,
                baseline=rows.min(axis=0),
                fill=True,
                color="tab:olive",
                alpha=0.15,
            )
            _step(twin, edges, rows.mean(axis=0), color="tab:olive", label="mean import price")
            return twin.get_lines()
        price = rows[0] if rows.size else np.zeros(problem.n_slots)
    _step(twin, edges, price, color="tab:olive", linewidth=1.2, label="import price")
    return twin.get_lines()


def _offer_artists(ax: Any, offer: Any) -> None:
    """An offer's range in its window and, for options, each option."""
    edges = _date_numbers(offer.grid.edges_s)
    ax.stairs(
        offer.power_max_kw,
        edges,
        baseline=offer.power_min_kw,
        fill=True,
        color="tab:orange",
        alpha=0.45,
        label=f"{offer.shape} offer (deliverable)",
    )
    if offer.options_kw is None:
        return
    for number, (option, cost) in enumerate(
        zip(offer.options_kw, offer.option_cost_eur, strict=True)
    ):
        _step(
            ax,
            edges,
            option,
            color="tab:brown",
            linestyle="--",
            linewidth=1.0,
            label=f"option {number}: {cost:+.2f} EUR",
        )
