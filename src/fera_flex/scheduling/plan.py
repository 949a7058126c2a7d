"""The result of scheduling: per-session power, what it delivers and costs, and its wire form.

Examples
--------
>>> from fera_flex.scenarios import random_problem
>>> from fera_flex.scheduling.schedule import schedule
>>> plan = schedule(random_problem(6, seed=2))
>>> plan.status.value, bool(plan.unmet_kwh.max() < 1e-6)
('optimal', True)
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from fera_flex.errors import InputError
from fera_flex.models import ocpi, ocpp
from fera_flex.models.conversions import ocpi_to_ocpp_profile, profile_to_ocpi
from fera_flex.scheduling.problem import ChargingProblem
from fera_flex.timeseries import Profile

__all__ = ["ChargingPlan", "PlanStatus"]


def _restore_plan(state: dict) -> "ChargingPlan":
    """Rebuild a plan from its fields (the pickle path)."""
    state["unmet_causes"] = MappingProxyType(state["unmet_causes"])
    state["timings_s"] = MappingProxyType(state["timings_s"])
    return ChargingPlan(**state)


class PlanStatus(Enum):
    """How a plan came about."""

    OPTIMAL = "optimal"  # every need met at least cost
    PARTIAL = "partial"  # some needs cannot be met: most energy delivered, shortfall shared
    TIME_LIMIT = "time_limit"  # the solver stopped early; the best safe plan found
    FAILED = "failed"  # no solution; a safe plan that does not charge


@dataclass(frozen=True)
class ChargingPlan:
    """Per-session charging and discharging power on the problem's grid.

    Attributes
    ----------
    problem : ChargingProblem
        The problem the plan solves.
    charge_kw, discharge_kw : ndarray, shape (n, T)
        Power drawn from and fed into the grid per session and slot [kW].
    status : PlanStatus
        How the plan came about.
    backend : str
        The solver backend used.
    objective_eur : float
        Value of the economic objective (see :mod:`fera_flex.scheduling.objective`).
    node_import_price_eur_per_kwh, node_export_price_eur_per_kwh : ndarray (m, T) or None
        Shadow prices of each node's import and export limits, >= 0: what one
        more kWh of room in that slot would save [EUR/kWh] (where the backend
        has duals).
    session_energy_price_eur_per_kwh : ndarray (n,) or None
        What one more kWh would cost each session at the optimum [EUR/kWh]
        (the dual of its energy row; where the backend has duals).
    unmet_causes : mapping
        For each session with unmet need: which limit caused it (from
        ``schedule()`` worked out on first use, see
        :class:`~fera_flex.scheduling.causes.UnmetCauses`).
    timings_s : mapping
        ``build``, ``solve`` (summed over the stages), ``safety``, ``verify``, ``causes``
        (finding the short sessions; their texts come on first use) and ``total`` times [s].
    message : str
        Solver messages.
    backend_reason : str
        Why that backend ran (``method="auto"`` picks the best that supports the problem).
    stages : tuple of str
        The energy stages solved, in order.
    """

    problem: ChargingProblem
    charge_kw: NDArray[np.float64]
    discharge_kw: NDArray[np.float64]
    status: PlanStatus
    backend: str
    objective_eur: float = float("nan")
    node_import_price_eur_per_kwh: NDArray[np.float64] | None = None
    node_export_price_eur_per_kwh: NDArray[np.float64] | None = None
    session_energy_price_eur_per_kwh: NDArray[np.float64] | None = None
    unmet_causes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    timings_s: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    message: str = ""
    backend_reason: str = ""
    stages: tuple[str, ...] = ()

    def __reduce__(self):
        state = {f.name: getattr(self, f.name) for f in fields(self)}
        state["unmet_causes"], state["timings_s"] = dict(self.unmet_causes), dict(self.timings_s)
        return _restore_plan, (state,)

    @property
    def session_ids(self) -> tuple[str, ...]:
        """Session ids, in row order."""
        return self.problem.session_ids

    @property
    def power_kw(self) -> NDArray[np.float64]:
        """Net power per session and slot [kW] (charging positive, discharge negative)."""
        return self.charge_kw - self.discharge_kw

    @property
    def delivered_kwh(self) -> NDArray[np.float64]:
        """Energy into each battery over the horizon [kWh]."""
        return self.problem.delivered_kwh(self.charge_kw, self.discharge_kw)

    @property
    def unmet_kwh(self) -> NDArray[np.float64]:
        """Need not delivered per session [kWh], >= 0."""
        return np.maximum(self.problem.energy_kwh - self.delivered_kwh, 0.0)

    @property
    def cost_eur(self) -> float:
        """Energy bought at the import price minus energy sold at the export price [EUR]."""
        p = self.problem
        hours = p.slot_energy_h
        bought = (self.charge_kw * hours * np.broadcast_to(p.price_eur_per_kwh, hours.shape)).sum()
        sold = (
            self.discharge_kw * hours * np.broadcast_to(p.export_price_eur_per_kwh, hours.shape)
        ).sum()
        return float(bought - sold)

    @property
    def emissions_g(self) -> float:
        """Emissions of the net energy drawn from the grid [gCO2]."""
        p = self.problem
        hours = p.slot_energy_h
        return float(
            (self.power_kw * hours * np.broadcast_to(p.emission_g_per_kwh, hours.shape)).sum()
        )

    @property
    def node_load_kw(self) -> NDArray[np.float64]:
        """Total load through every node per slot, EVs plus non-EV load [kW], shape (m, T)."""
        p = self.problem
        return p.node_loads_kw(self.power_kw) + p.subtree_sum(p.base_load_kw)

    def session_profile(self, index: int) -> Profile:
        """Net power of one session over its stay, as a Profile [kW]."""
        p = self.problem
        first, end = int(p.arrival_slot[index]), int(p.departure_slot[index])
        edges = p.grid.edges_s
        return Profile(edges[first:end], self.power_kw[index, first:end], end_s=int(edges[end]))

    def _wire(self, index: int) -> tuple[float, int]:
        """Voltage [V] and phase count used for the A unit of one session."""
        p = self.problem
        return float(p.node_voltage_v[p.node_of_session[index]]), int(p.session_phases[index].sum())

    def to_ocpi_profiles(self, unit: str = "W") -> dict[str, ocpi.ChargingProfile]:
        """One absolute OCPI ChargingProfile per session, compressed.

        Limits are rounded down to one decimal so a profile never exceeds
        the plan. OCPI 2.2.1 cannot express discharge: V2G slots are sent
        with limit 0.

        Parameters
        ----------
        unit : {'W', 'A'}
            ``W`` total over all phases, or ``A`` per phase (with each
            session's phase count and its node's voltage).

        Returns
        -------
        dict
            Session id -> profile.
        """
        if unit not in ("W", "A"):
            raise InputError("ChargingPlan.to_ocpi_profiles", "unit", unit, "must be 'W' or 'A'")
        result = {}
        for index, session_id in enumerate(self.session_ids):
            voltage_v, phases = self._wire(index)
            result[session_id] = profile_to_ocpi(
                self.session_profile(index), unit=unit, voltage_v=voltage_v, phases=phases
            )
        return result

    def to_ocpp_requests(
        self,
        evse_ids: Mapping[str, int],
        transaction_ids: Mapping[str, str] | None = None,
        *,
        stack_level: int = 0,
        first_profile_id: int = 1,
        unit: str = "W",
    ) -> list[ocpp.SetChargingProfileRequest]:
        """OCPP 2.0.1 SetChargingProfileRequests with TxProfiles, one per session.

        Parameters
        ----------
        evse_ids : mapping
            Session id -> OCPP evseId (> 0) of the EVSE the session is on.
        transaction_ids : mapping, optional
            Session id -> OCPP transactionId; the session id when omitted.
        stack_level : int
            Stack level of every profile.
        first_profile_id : int
            Profile ids are assigned consecutively from this one.
        unit : {'W', 'A'}
            Charging rate unit (``A`` writes ``numberPhases`` when not 3).

        Returns
        -------
        list of ocpp.SetChargingProfileRequest
        """
        where = "ChargingPlan.to_ocpp_requests"
        if unit not in ("W", "A"):
            raise InputError(where, "unit", unit, "must be 'W' or 'A'")
        missing = [s for s in self.session_ids if s not in evse_ids]
        if missing:
            raise InputError(where, "evse_ids", missing[:5], "has no evseId for these sessions")
        for session_id in self.session_ids:
            evse_id = evse_ids[session_id]
            if isinstance(evse_id, bool) or not isinstance(evse_id, int) or evse_id <= 0:
                raise InputError(
                    where, f"evse_ids[{session_id!r}]", evse_id, "must be an OCPP evseId: int > 0"
                )
        requests = []
        for index, (session_id, profile) in enumerate(self.to_ocpi_profiles(unit).items()):
            voltage_v, phases = self._wire(index)
            ocpp_profile = ocpi_to_ocpp_profile(
                profile,
                profile_id=first_profile_id + index,
                stack_level=stack_level,
                transaction_id=(transaction_ids or {}).get(session_id, session_id),
                voltage_v=voltage_v,
                phases=phases,
            )
            requests.append(
                ocpp.SetChargingProfileRequest(
                    evse_id=evse_ids[session_id], charging_profile=ocpp_profile
                )
            )
        return requests
