"""OCPI 2.2.1 Sessions module: Session and ChargingPreferences.

ChargingPreferences travel on their own (a PUT on the session's
``/charging_preferences`` endpoint), so the rule that relates them to their
Session is a function, :func:`check_preferences_for_session`.
"""

from typing import Self

from pydantic import model_validator

from fera_flex.errors import OcpiRuleError
from fera_flex.models._scalars import require_order
from fera_flex.models.ocpi._base import OcpiModel
from fera_flex.models.ocpi._types import (
    Boolean,
    CiString,
    DateTime,
    NonNegativeNumber,
    String,
    format_datetime,
)
from fera_flex.models.ocpi.cdrs import CdrToken, ChargingPeriod
from fera_flex.models.ocpi.enums import AuthMethod, ProfileType, SessionStatus
from fera_flex.models.ocpi.generic import Price

__all__ = ["ChargingPreferences", "Session", "check_preferences_for_session"]


class ChargingPreferences(OcpiModel):
    """A driver's smart-charging wishes for one session.

    ``energy_need`` [kWh] must be >= 0. ``discharge_allowed`` absent means
    false (V2G not allowed); use :attr:`allows_discharge` for the effective
    value.
    """

    profile_type: ProfileType
    departure_time: DateTime | None = None
    energy_need: NonNegativeNumber | None = None
    discharge_allowed: Boolean | None = None

    @property
    def allows_discharge(self) -> bool:
        """Whether V2G discharge is allowed (the spec's default is false)."""
        return bool(self.discharge_allowed)


class Session(OcpiModel):
    """A charging session at an EVSE, as the CPO reports it.

    ``kwh`` [kWh] must be >= 0 and ``end_date_time`` must not be before
    ``start_date_time``. ``evse_uid`` and ``connector_id`` may be ``#NA`` for a
    reservation that has no EVSE yet.
    """

    country_code: CiString(2)
    party_id: CiString(3)
    id: CiString(36)
    start_date_time: DateTime
    end_date_time: DateTime | None = None
    kwh: NonNegativeNumber
    cdr_token: CdrToken
    auth_method: AuthMethod
    authorization_reference: CiString(36) | None = None
    location_id: CiString(36)
    evse_uid: CiString(36)
    connector_id: CiString(36)
    meter_id: String(255) | None = None
    currency: String(3)
    charging_periods: list[ChargingPeriod] | None = None
    total_cost: Price | None = None
    status: SessionStatus
    last_updated: DateTime

    @model_validator(mode="after")
    def _end_not_before_start(self) -> Self:
        require_order(
            "start_date_time",
            self.start_date_time,
            "end_date_time",
            self.end_date_time,
            strict=False,
        )
        return self


def check_preferences_for_session(preferences: ChargingPreferences, session: Session) -> None:
    """Check ChargingPreferences against the Session they are sent for.

    The departure time, when given, must lie after the session start.

    Parameters
    ----------
    preferences : ChargingPreferences
        The driver's preferences.
    session : Session
        The session the preferences are for.

    Raises
    ------
    OcpiRuleError
        Naming ``ChargingPreferences.departure_time`` and its value.

    Examples
    --------
    >>> session = Session.model_validate({
    ...     "country_code": "NL", "party_id": "ABC", "id": "s1",
    ...     "start_date_time": "2024-03-01T08:00:00Z", "kwh": 0,
    ...     "cdr_token": {"country_code": "NL", "party_id": "MSP", "uid": "t1",
    ...                   "type": "RFID", "contract_id": "NL-MSP-C1"},
    ...     "auth_method": "WHITELIST", "location_id": "L1", "evse_uid": "E1",
    ...     "connector_id": "1", "currency": "EUR", "status": "ACTIVE",
    ...     "last_updated": "2024-03-01T08:00:00Z"})
    >>> early = ChargingPreferences(profile_type="CHEAP", departure_time="2024-03-01T07:00:00Z")
    >>> check_preferences_for_session(early, session)
    Traceback (most recent call last):
    ...
    fera_flex.errors.OcpiRuleError: ChargingPreferences: departure_time = ...
    """
    departure = preferences.departure_time
    if departure is None:
        return
    if departure <= session.start_date_time:
        raise OcpiRuleError(
            "ChargingPreferences",
            "departure_time",
            format_datetime(departure),
            f"must be after the start of session {session.id!r} "
            f"({format_datetime(session.start_date_time)})",
        )
