r"""Battery offers: a power band and a cumulative-energy band, deliverable by construction.

A battery offer of a node over a window ``W`` says: any node load ``x`` with
``power_min_kw <= x <= power_max_kw`` in every slot of ``W`` whose energy
from the window's start to the end of each slot ``t`` lies within
``[energy_min_kwh[t], energy_max_kwh[t]]`` can be delivered; outside ``W``
the plan compensates. It is the S2 FRBC / PEBC view of a node: a storage
whose fill level is the energy drawn beyond the baseline.

Checking such a set against the exact g-polymatroid is hard (the greatest
energy it admits in a slot set is the smaller of two bounds, and the test is
a knapsack-constrained submodular question), so the offer is made
deliverable **by construction**, with a witness found by one LP:

- *participants*: the node's V1G sessions without minimum rates or power
  curves; the others keep their baseline power. In each
  slot of the window a participant plugged in for the whole slot (and the
  next one, or the slot is the window's last) holds a share ``w[i, t]`` of
  the node's *fill level* ``X[t]`` (the energy drawn beyond the baseline
  since the window's start), proportional to its power limit; the shares of
  a slot sum to 1 (no one eligible: the fill level must be 0 there);
- *the rule*: participant ``i`` draws its *anchor* power plus the change of
  its part of the fill level, ``w[i, t] d[t] + (w[i, t] - w[i, t-1]) X[t-1] / dt``
  for a node deviation ``d[t]``; a session leaving hands its part back
  while it is still plugged in, one arriving takes its part up; outside the
  window it compensates what it holds at the window's end with one of two
  profiles (for the highest and the lowest final fill level), scaled by how
  much of either the activation uses;
- *the LP* chooses the anchor (a split of the baseline node load in the
  window), the two compensation profiles and the bands (power ``U``, ``D``
  and fill level ``X_high``, ``X_low`` per slot) so that every session limit,
  shared EVSE rating, node limit of the subtree and energy range holds for
  the worst deviation and fill level the bands allow. Each such constraint
  is linear in ``(d[t], X[t-1])`` and is imposed at the worst corner of
  their box, and the compensation is linear in the final fill level, so
  every activation within the bands is met: it is deliverable. The LP
  maximises the least of the bands' kept fractions (up and down power in
  each slot, high and low fill level, against the exact per-slot room), so
  that no direction or slot is given up for another.

The bands are then shrunk by a relative ``1e-6`` so that the solver's
tolerance never makes an offer promise more than the exact set holds. For a
g-polymatroid (``NodeFlexibility.exact``) the exact box of
:func:`~fera_flex.flexibility.box_offer` is a battery too (its fill levels
the sums of its band); the offer is the one of the two that keeps more.

Examples
--------
>>> from fera_flex.scenarios import random_problem
>>> problem = random_problem(12, n_slots=16, seed=3)
>>> from fera_flex.flexibility import battery_offer
>>> offer = battery_offer(problem, 0, window=(4, 12))
>>> offer.shape, offer.energy_max_kwh.size
('battery', 8)
>>> bool((offer.power_min_kw <= offer.baseline_kw).all() and
...      (offer.energy_min_kwh <= offer.energy_max_kwh).all())
True
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import linprog

from fera_flex.flexibility.offer import (
    NodeOffer,
    _kept,
    _Market,
    _market,
    _rooms,
    _window_grid,
)
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.scheduling.standard_form import capped_energy_range

__all__ = ["BAND_SHRINK", "battery_of", "witness_box_kw"]

BAND_SHRINK = 1e-6
"""Relative shrink of the LP's bands (and their absolute floor in kW or kWh is this too)."""

ROOM_FLOOR_KWH = 1e-6
"""Room of a direction [kWh over the window] below which the LP does not balance it."""

SLOT_ROOM_RTOL = 1e-3
"""A slot's room below this fraction of the window's largest is not balanced (no 1/tiny rows)."""

SHARE_RULES = ("present", "cohort", "stayers")
"""Who holds the fill level (:meth:`_Witness._shares`); the witness LP tries each."""

SHARE_FLOOR = 1e-12
"""Change of a fill-level share between slots below which it is float rounding (kept at 0)."""


def battery_of(problem: ChargingProblem, node: int, plan, window, share, box) -> NodeOffer:
    """The battery offer of a node (see the module documentation).

    ``share``: the node's EV limit cut to its share of the limits above it
    (:func:`~fera_flex.flexibility.sharing.upstream_shares_kw`), or None;
    ``box``: for an exact set, its rooms and widest box (room up, room down,
    width up, width down [kW] over the window,
    :func:`~fera_flex.flexibility._level.widest_boxes_kw`), else None.
    :func:`fera_flex.flexibility.battery_offer` is the public form.
    """
    market = _market(problem, node, plan, window, share)
    baseline, first, stop = market.baseline_kw, market.first, market.stop
    dt_h = market.problem.grid.dt_h
    if box is not None:
        room_up, room_down, up_kw, down_kw = box
    else:  # the set's own per-slot extremes (an LP each)
        rooms = _rooms(market.flexibility, baseline, first, stop)
        room_up, room_down = (room[first:stop] for room in rooms)
    bands = _Witness(market).bands(room_up, room_down)
    if box is not None:  # the exact box is a battery too (its fill level: its band's sums)
        box = (up_kw, down_kw, np.cumsum(up_kw) * dt_h, np.cumsum(down_kw) * dt_h)
        bands = max(bands, box, key=lambda b: _kept_score(b, room_up, room_down, dt_h))
    up, down, fill_high, fill_low = bands
    inside = baseline[first:stop]
    cumulative = np.cumsum(inside) * dt_h
    return NodeOffer(
        node_id=problem.node_ids[node],
        grid=_window_grid(market.problem, first, stop),
        window=(first, stop),
        shape="battery",
        baseline_kw=inside,
        power_min_kw=inside - down,
        power_max_kw=inside + up,
        kept_up=_kept(up, room_up),
        kept_down=_kept(down, room_down),
        energy_min_kwh=cumulative - fill_low,
        energy_max_kwh=cumulative + fill_high,
    )


def _kept_score(bands, room_up: NDArray, room_down: NDArray, dt_h: float) -> float:
    """How much of the rooms a battery keeps: its power bands' and final fill levels' fractions."""
    up, down, fill_high, fill_low = bands
    energy = (room_up.sum() + room_down.sum()) * dt_h or 1.0
    return _kept(up, room_up) + _kept(down, room_down) + (fill_high[-1] + fill_low[-1]) / energy


def witness_box_kw(market: _Market, room_kw: tuple[NDArray, NDArray]) -> tuple[NDArray, NDArray]:
    """Up and down widths [kW] (W,) of a box around the baseline, deliverable by the same rule.

    For sets that are not g-polymatroids (where the box's dominance test does
    not prove a box deliverable): the witness LP with the fill level left to
    the power band, i.e. every profile of the box is met.
    """
    up, down, _, _ = _Witness(market, box=True).bands(*room_kw)
    return up, down


@dataclass
class _Layout:
    """Columns of the witness LP: the anchor per participant and window slot, then the bands."""

    n_part: int
    n_window: int

    def anchor(self, p: int, k: int) -> int:
        return p * self.n_window + k

    def band(self, which: int, k: int) -> int:
        """Band 0: up power ``U``, 1: down power ``D`` [kW], 2: ``X_high``, 3: ``X_low`` [kWh]."""
        return (self.n_part + which) * self.n_window + k

    @property
    def balance(self) -> int:
        """The least of the bands' kept fractions (the LP maximises it first)."""
        return self.band(4, 0)

    @property
    def n_cols(self) -> int:
        return self.balance + 1


class _Witness:
    """The witness LP of a battery offer (see the module documentation)."""

    def __init__(self, market: _Market, box: bool = False) -> None:
        problem, node = market.problem, market.node
        self.problem, self.node, self.first, self.stop = problem, node, market.first, market.stop
        self.box = box  # the fill level is whatever the power band makes it: a box offer
        sessions = problem.sessions_under(node)
        self.part = sessions[_participates(problem, sessions)]
        charge = market.net_kw
        self.baseline_kw = market.baseline_kw
        self.fixed_kw = charge.copy()
        self.fixed_kw[self.part] = 0.0  # what the other sessions draw (their baseline)
        self.fixed_node_kw = problem.node_loads_kw(self.fixed_kw)  # (m, T)
        self.power_kw = problem.power_max_kw[self.part]
        self.plan_kw = charge[self.part]
        self.share = self._shares(SHARE_RULES[0])
        self.groups = list(self._groups())
        self.energy_range_kwh = self._window_energy_range()

    def _shares(self, rule: str) -> NDArray[np.float64]:
        """``w[p, k]`` (n_part, W + 1): each participant's share of the fill level after slot k.

        Column 0 is the window's start (no fill level yet). A participant is
        eligible in a slot it is plugged in for entirely, as in the next one
        (or the slot is the window's last), so that it hands its part back
        in a whole slot before it leaves. Shares are proportional to the
        power limit among

        - ``"present"``: every eligible participant (an arrival takes up its
          part of the fill level, which the others hand back);
        - ``"cohort"``: the participants eligible in the first slot where any
          is, while they stay (only departures move the fill level between
          sessions);
        - ``"stayers"``: the participants eligible in every slot of the
          window, with constant shares (nobody hands anything over).
        """
        problem, first, stop = self.problem, self.first, self.stop
        full = problem.presence[self.part, first : stop + 1] == 1.0
        if stop == problem.n_slots:
            full = np.column_stack([full, np.ones(self.part.size, dtype=bool)])
        eligible = full[:, :-1] & full[:, 1:]
        eligible[:, -1] = full[:, -2]  # the window's last slot: compensated outside the window
        if rule == "cohort":
            opening = np.flatnonzero(eligible.any(axis=0))
            cohort = eligible[:, opening[0]] if opening.size else np.zeros(self.part.size, bool)
            eligible &= cohort[:, None]
        elif rule == "stayers":
            eligible &= eligible.all(axis=1)[:, None]
        weight = np.where(eligible, self.power_kw[:, first:stop], 0.0)
        total = weight.sum(axis=0)
        share = np.divide(weight, total, out=np.zeros_like(weight), where=total > 0)
        return np.column_stack([np.zeros(self.part.size), share])

    def bands(self, room_up_kw: NDArray, room_down_kw: NDArray) -> tuple[NDArray, ...]:
        """``U``, ``D`` [kW] and ``X_high``, ``X_low`` [kWh] per window slot (W,) each.

        The LP maximises the least kept fraction, then (a tenth as much) the
        bands' kept fractions summed: ``U[t] / room_up_kw[t]`` in every slot
        and ``sum(U) / sum(room_up_kw)``, the same for ``D``, and the mean
        fill levels against the power rooms' energies (for a box: the power
        bands only, the fill levels being their sums). It is
        solved for each share rule (:meth:`_shares`) and the better one kept.
        All zero (the baseline point) when nothing participates or no LP has
        a solution.
        """
        n_window = self.stop - self.first
        best, values = -np.inf, np.zeros(4 * n_window)
        if self.part.size == 0:
            return tuple(values.reshape(4, n_window))
        tried = []
        for rule in SHARE_RULES:
            self.share = self._shares(rule)
            if any(np.array_equal(self.share, share) for share in tried):
                continue  # the same shares as a rule already solved (e.g. one participant)
            tried.append(self.share)
            result = self._solve(room_up_kw, room_down_kw)
            if result is not None and -result.fun > best:
                best = -result.fun
                values = result.x[-1 - 4 * n_window : -1]
        values = values * (1.0 - BAND_SHRINK)
        values = np.where(values > BAND_SHRINK, values, 0.0)
        return tuple(values.reshape(4, n_window))

    def _solve(self, room_up_kw: NDArray, room_down_kw: NDArray):
        """The witness LP for the current shares: scipy's result, or None without a solution."""
        n_window = self.stop - self.first
        layout = _Layout(self.part.size, n_window)
        rows = _Rows(layout.n_cols)
        self._session_rows(layout, rows)
        self._group_rows(layout, rows)
        self._band_rows(layout, rows)
        cost = np.zeros(layout.n_cols)
        cost[layout.balance] = -1.0
        dt_h = self.problem.grid.dt_h
        rooms = (room_up_kw, room_down_kw) + (() if self.box else (room_up_kw, room_down_kw))
        for which, room in enumerate(rooms):
            energy = float(room.sum()) * dt_h
            if energy <= ROOM_FLOOR_KWH:  # no room that direction: nothing to balance
                continue
            columns = list(range(layout.band(which, 0), layout.band(which + 1, 0)))
            scale = dt_h / energy if which < 2 else 1.0 / (n_window * energy)
            cost[columns] -= 0.1 * scale
            if which >= 2:  # a fill level: its mean against the power room's energy
                rows.add_le([layout.balance, *columns], [1.0] + [-scale] * n_window, 0.0)
                continue
            floor = max(ROOM_FLOOR_KWH / dt_h, SLOT_ROOM_RTOL * float(room.max()))
            for column, slot_room in zip(columns, room, strict=True):
                if slot_room > floor:  # a power band: slot by slot (not a sliver of room)
                    rows.add_le([layout.balance, column], [1.0, -1.0 / slot_room], 0.0)
        result = linprog(
            cost,
            A_ub=rows.matrix(rows.le),
            b_ub=np.array(rows.le_rhs),
            A_eq=rows.matrix(rows.eq),
            b_eq=np.array(rows.eq_rhs),
            bounds=self._bounds(layout),
            method="highs-ipm",  # a third of the dual simplex's time on these LPs
        )
        return result if result.status == 0 else None

    def _bounds(self, layout: _Layout) -> NDArray:
        """The anchor within each session's power limit; no band where nobody holds a share."""
        high = np.full(layout.n_cols, np.inf)
        window = slice(self.first, self.stop)
        plugged = self.problem.presence[self.part, window] > 0
        high[: layout.band(0, 0)] = (self.power_kw[:, window] * plugged).ravel()
        nobody = self.share[:, 1:].sum(axis=0) == 0  # no fill level and no deviation there
        for which in range(4):
            high[layout.band(which, 0) : layout.band(which + 1, 0)][nobody] = 0.0
        return np.column_stack([np.zeros(layout.n_cols), high])

    def _worst(self, layout, k, share, previous):
        """Columns and coefficients of a load's worst rise and worst fall in window slot k.

        A load holding ``share`` of the fill level after slot k and
        ``previous`` before it moves by ``share d + (share - previous) X / dt``
        (``X`` the fill level before slot k): its most is ``share U`` plus the
        change times ``X_high`` or ``X_low``, its least the mirror image.
        """
        dt_h = self.problem.grid.dt_h
        change = share - previous
        if abs(change) <= SHARE_FLOOR:  # rounding of equal shares, not a hand-over
            change = 0.0
        rise_cols, rise_vals = [layout.band(0, k)], [share]
        fall_cols, fall_vals = [layout.band(1, k)], [share]
        if k > 0 and change != 0.0:
            high, low = layout.band(2, k - 1), layout.band(3, k - 1)
            grows, shrinks = max(change, 0.0) / dt_h, max(-change, 0.0) / dt_h
            rise_cols += [high, low]
            rise_vals += [grows, shrinks]
            fall_cols += [low, high]
            fall_vals += [grows, shrinks]
        return (rise_cols, rise_vals), (fall_cols, fall_vals)

    def _session_rows(self, layout: _Layout, rows: "_Rows") -> None:
        """Each participant's power limit at the worst deviation, its window energy in each case."""
        window = np.arange(self.first, self.stop)
        last = window.size - 1
        low_kwh, high_kwh = self.energy_range_kwh
        energy_h = self.problem.slot_energy_h[self.part][:, window]
        for p in range(self.part.size):
            share = self.share[p]
            for k, t in enumerate(window):
                if share[k + 1] == 0.0 and share[k] == 0.0:
                    continue
                anchor = layout.anchor(p, k)
                (rise_c, rise_v), (fall_c, fall_v) = self._worst(layout, k, share[k + 1], share[k])
                rows.add_le([anchor, *rise_c], [1.0, *rise_v], self.power_kw[p, t])
                rows.add_le([anchor, *fall_c], [-1.0, *fall_v], 0.0)
            columns = [layout.anchor(p, k) for k in range(window.size)]
            values = energy_h[p].tolist()
            final = share[-1]
            if np.isfinite(high_kwh[p]):  # the highest final fill level
                rows.add_le([*columns, layout.band(2, last)], [*values, final], high_kwh[p])
            negative = [-v for v in values]  # the lowest final fill level
            rows.add_le([*columns, layout.band(3, last)], [*negative, final], -low_kwh[p])

    def _window_energy_range(self) -> tuple[NDArray, NDArray]:
        """Each participant's grid energy in the window that the rest of its stay can balance.

        Its baseline window energy, less what it could make up outside the
        window (its energy range's slack above the need, plus more power in
        the slots outside, within its share of each limit's headroom there:
        :meth:`_outside_room_kw`), and plus what it could give back there (the
        slack below its most, plus all its baseline charging outside: less
        load never breaks a limit, except a lower bound or target band, and
        slots under one are left out) [kWh], (n_part,) twice.
        """
        problem = self.problem
        window = np.zeros(problem.n_slots, dtype=bool)
        window[self.first : self.stop] = True
        energy_h = problem.slot_energy_h[self.part]
        baseline = self.plan_kw * energy_h
        in_window = baseline[:, window].sum(axis=1)
        need, top = capped_energy_range(problem)
        efficiency = problem.charge_efficiency[self.part]
        total = baseline.sum(axis=1)
        below = np.maximum(total - need[self.part] / efficiency, 0.0)
        above = np.maximum(top[self.part] / efficiency - total, 0.0)
        more, floored = self._outside_room_kw()
        give_back = np.where(floored, 0.0, baseline)[:, ~window].sum(axis=1)
        make_up = (more * energy_h)[:, ~window].sum(axis=1)
        return in_window - below - make_up, in_window + above + give_back

    def _outside_room_kw(self) -> tuple[NDArray, NDArray[np.bool_]]:
        """More power each participant may draw per slot [kW] (n_part, T); where less is unsafe.

        Each limit's headroom over the baseline (``most`` minus the
        participants' weighted baseline) is split between its participants
        in proportion to their own room (power limit minus baseline), so
        that any combination of the shares stays within the limit; a session
        gets the least of its shares. Slots where a lower bound or target
        band needs some of the participants' load are marked: there less
        load could break it.
        """
        plugged = self.problem.presence[self.part] > 0
        own = np.maximum(self.power_kw * plugged - self.plan_kw, 0.0)
        room = own.copy()
        floored = np.zeros(own.shape, dtype=bool)
        for members, coef, least, most, _ in self.groups:
            limited = np.isfinite(most)
            headroom = np.maximum(most - coef @ self.plan_kw[members], 0.0)
            weighted = coef @ own[members]
            fraction = np.divide(
                headroom, weighted, out=np.zeros_like(headroom), where=limited & (weighted > 0)
            )
            share = np.where(limited, own[members] * fraction, np.inf)
            room[members] = np.minimum(room[members], share)
            floored[members] |= least > 0  # all of them at 0 would break it
        return room, floored

    def _group_rows(self, layout: _Layout, rows: "_Rows") -> None:
        """Node, phase and shared-EVSE limits of the subtree at the worst deviation (window)."""
        window = np.arange(self.first, self.stop)
        for members, coef, least, most, is_node in self.groups:
            share = coef @ self.share[members]
            coef = coef.tolist()
            for k, t in enumerate(window):
                anchor = [layout.anchor(p, k) for p in members]
                if is_node:  # the offered node: the anchor splits its baseline load
                    split_kw = self.baseline_kw[t] - self.fixed_node_kw[self.node, t]
                    rows.add_eq(anchor, coef, split_kw)
                (rise_c, rise_v), (fall_c, fall_v) = self._worst(layout, k, share[k + 1], share[k])
                if np.isfinite(most[t]):
                    rows.add_le([*anchor, *rise_c], [*coef, *rise_v], most[t])
                if np.isfinite(least[t]):
                    rows.add_le([*anchor, *fall_c], [-c for c in coef] + fall_v, -least[t])

    def _band_rows(self, layout: _Layout, rows: "_Rows") -> None:
        """The fill-level band and the power band agree, slot by slot.

        Every fill level of the band is reachable (``X_high[k] <= X_high[k-1]
        + U[k] dt``), and from every fill level of the band the next slot's
        band can be reached within the power band (``X_high[k-1] - D[k] dt <=
        X_high[k]``): an aggregator stepping through the window never gets
        stuck. The same for ``X_low`` with ``U`` and ``D`` swapped.
        """
        dt_h = self.problem.grid.dt_h
        for fill, toward, away in ((2, 0, 1), (3, 1, 0)):
            for k in range(self.stop - self.first):
                before = [layout.band(fill, k - 1)] if k > 0 else []
                if self.box:  # the fill level's extremes: the power band's, summed
                    rows.add_eq(
                        [layout.band(fill, k), layout.band(toward, k), *before],
                        [1.0, -dt_h, *[-1.0] * len(before)],
                        0.0,
                    )
                    continue
                rows.add_le(
                    [layout.band(fill, k), layout.band(toward, k), *before],
                    [1.0, -dt_h, *[-1.0] * len(before)],
                    0.0,
                )
                if before:
                    rows.add_le(
                        [*before, layout.band(away, k), layout.band(fill, k)],
                        [1.0, -dt_h, -1.0],
                        0.0,
                    )

    def _groups(self):
        """(participants, coefficients, least, most, is-the-node) per limit of the subtree.

        One group per node of the subtree, per phase of a node with a phase
        limit (a session on ``k`` phases draws ``1 / k`` of its power on each)
        and per shared EVSE. ``least`` / ``most`` (T,) bound the
        participants' weighted power [kW]: the limit (and any target band)
        minus what the other sessions under it draw in the baseline.
        """
        problem, part = self.problem, self.part
        ancestors = problem.ancestors()[problem.node_of_session[part]]
        fixed = self.fixed_node_kw
        phases = problem.session_phases
        per_phase = self.fixed_kw / phases.sum(axis=1)[:, None]
        phase_up, phase_down = problem.node_phase_room_kw()
        for n in problem.subtree_nodes(self.node):
            members = np.flatnonzero((ancestors == n).any(axis=1))
            if members.size == 0:
                continue
            most = np.minimum(problem.node_ev_max_kw[n], problem.node_target_max_kw[n]) - fixed[n]
            least = np.maximum(problem.node_ev_min_kw[n], problem.node_target_min_kw[n]) - fixed[n]
            yield members, np.ones(members.size), least, most, n == self.node
            if not np.isfinite(problem.phase_current_max_a[n]).any():
                continue
            under = np.zeros(problem.n_sessions, dtype=bool)
            under[problem.sessions_under(n)] = True
            for phase in range(3):
                on = members[phases[part[members], phase]]
                others = per_phase[under & phases[:, phase]].sum(axis=0)
                coef = 1.0 / phases[part[on]].sum(axis=1)
                yield on, coef, phase_down[n] - others, phase_up[n] - others, False
        evse = problem.evse_of_session[part]
        for e in np.unique(evse[evse >= 0]):
            members = np.flatnonzero(evse == e)
            others = self.fixed_kw[problem.evse_of_session == e].sum(axis=0)
            least = np.full(problem.n_slots, -np.inf)
            most = problem.evse_power_max_kw[e] - others
            yield members, np.ones(members.size), least, most, False


class _Rows:
    """Sparse constraint rows, gathered as coordinates."""

    def __init__(self, n_cols: int) -> None:
        self.n_cols = n_cols
        self.le: list[tuple[list[int], list[float]]] = []
        self.le_rhs: list[float] = []
        self.eq: list[tuple[list[int], list[float]]] = []
        self.eq_rhs: list[float] = []

    def add_le(self, columns, values, rhs) -> None:
        self.le.append((list(columns), list(values)))
        self.le_rhs.append(float(rhs))

    def add_eq(self, columns, values, rhs) -> None:
        self.eq.append((list(columns), list(values)))
        self.eq_rhs.append(float(rhs))

    def add_range(self, columns, values, low, high) -> None:
        if low == high:
            self.add_eq(columns, values, low)
            return
        if np.isfinite(high):
            self.add_le(columns, values, high)
        if np.isfinite(low):
            self.add_le(columns, [-v for v in values], -low)

    def matrix(self, rows) -> sp.csr_matrix | None:
        if not rows:
            return None
        row = np.concatenate([np.full(len(c), k) for k, (c, _) in enumerate(rows)])
        col = np.concatenate([c for c, _ in rows])
        val = np.concatenate([v for _, v in rows])
        kept = val != 0.0
        shape = (len(rows), self.n_cols)
        return sp.csr_matrix((val[kept], (row[kept], col[kept])), shape=shape)


def _participates(problem: ChargingProblem, sessions: NDArray) -> NDArray[np.bool_]:
    """Which sessions may follow the rule: V1G, without a minimum rate or a power curve."""
    v1g = ~(problem.discharge_max_kw[sessions] > 0).any(axis=1)
    no_minimum = problem.power_min_kw[sessions] == 0
    no_curve = ~np.isfinite(problem.curve_a_kw[sessions]).any(axis=1)
    return v1g & no_minimum & no_curve
