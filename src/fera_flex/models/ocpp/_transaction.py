"""TransactionEventRequest (use cases E01-E15): the transaction a TxProfile is for.

A smart-charging service needs it to learn which ``transactionId`` runs on
which EVSE, and the meter values of the session. Besides the schema's own
constraints, ``EVSEType.id`` is > 0 (schema description: "a number (> 0)").
"""

from typing import Annotated, ClassVar

from pydantic import Field

from fera_flex.models.ocpp._base import OcppObject
from fera_flex.models.ocpp._types import (
    Boolean,
    DateTime,
    Integer,
    NonNegativeInteger,
    Number,
    PositiveInteger,
    String,
)
from fera_flex.models.ocpp.enums import (
    ChargingState,
    IdTokenKind,
    Measurand,
    MeasurementLocation,
    Phase,
    ReadingContext,
    StoppedReason,
    TransactionEventKind,
    TriggerReason,
)

__all__ = [
    "AdditionalInfo",
    "Evse",
    "IdToken",
    "MeterValue",
    "SampledValue",
    "SignedMeterValue",
    "Transaction",
    "TransactionEventRequest",
    "UnitOfMeasure",
]


class AdditionalInfo(OcppObject):
    """An additional identifier of an IdToken (schema ``AdditionalInfoType``).

    Attributes
    ----------
    additional_id_token : str
        The additional token, at most 36 characters.
    type : str
        Its custom type, at most 50 characters.
    """

    ocpp_type: ClassVar[str] = "AdditionalInfoType"

    additional_id_token: String(36)
    type: String(50)


class IdToken(OcppObject):
    """A case-insensitive identifier used for authorization (schema ``IdTokenType``).

    Attributes
    ----------
    additional_info : list of AdditionalInfo or None
        At least one additional identifier, if present.
    id_token : str
        The identifier, at most 36 characters.
    type : IdTokenKind
        Kind of identifier.
    """

    ocpp_type: ClassVar[str] = "IdTokenType"

    additional_info: Annotated[list[AdditionalInfo], Field(min_length=1)] | None = None
    id_token: String(36)
    type: IdTokenKind


class Evse(OcppObject):
    """An EVSE and optionally one of its connectors (schema ``EVSEType``).

    Attributes
    ----------
    id : int
        EVSE id, > 0.
    connector_id : int or None
        Connector index on the EVSE.
    """

    ocpp_type: ClassVar[str] = "EVSEType"

    id: PositiveInteger
    connector_id: Integer | None = None


class UnitOfMeasure(OcppObject):
    """Unit and decimal multiplier of a sampled value (schema ``UnitOfMeasureType``).

    Attributes
    ----------
    unit : str or None
        Unit, at most 20 characters (absent means ``Wh`` for energy measurands).
    multiplier : int or None
        Decimal exponent (absent means 0).
    """

    ocpp_type: ClassVar[str] = "UnitOfMeasureType"

    unit: String(20) | None = None
    multiplier: Integer | None = None


class SignedMeterValue(OcppObject):
    """A signed meter reading (schema ``SignedMeterValueType``).

    Attributes
    ----------
    signed_meter_data : str
        Base64 signed data, at most 2500 characters.
    signing_method : str
        Signature method, at most 50 characters.
    encoding_method : str
        Encoding of the meter values before signing, at most 50 characters.
    public_key : str
        Base64 public key, at most 2500 characters.
    """

    ocpp_type: ClassVar[str] = "SignedMeterValueType"

    signed_meter_data: String(2500)
    signing_method: String(50)
    encoding_method: String(50)
    public_key: String(2500)


class SampledValue(OcppObject):
    """One sampled value (schema ``SampledValueType``).

    Attributes
    ----------
    value : float
        The value, in :attr:`unit_of_measure` (absent: Wh of imported active energy).
    context : ReadingContext or None
        Why it was sampled.
    measurand : Measurand or None
        What was measured.
    phase : Phase or None
        Phase it was measured on; absent means an overall value.
    location : MeasurementLocation or None
        Where it was measured.
    signed_meter_value : SignedMeterValue or None
        Signed form of the value.
    unit_of_measure : UnitOfMeasure or None
        Unit and multiplier.
    """

    ocpp_type: ClassVar[str] = "SampledValueType"

    value: Number
    context: ReadingContext | None = None
    measurand: Measurand | None = None
    phase: Phase | None = None
    location: MeasurementLocation | None = None
    signed_meter_value: SignedMeterValue | None = None
    unit_of_measure: UnitOfMeasure | None = None


class MeterValue(OcppObject):
    """Values sampled at one instant (schema ``MeterValueType``).

    Attributes
    ----------
    sampled_value : list of SampledValue
        At least one value.
    timestamp : datetime
        When they were sampled (aware, UTC).
    """

    ocpp_type: ClassVar[str] = "MeterValueType"

    sampled_value: Annotated[list[SampledValue], Field(min_length=1)]
    timestamp: DateTime


class Transaction(OcppObject):
    """The transaction an event belongs to (schema ``TransactionType``).

    Attributes
    ----------
    transaction_id : str
        Transaction id, at most 36 characters (what a TxProfile's ``transactionId`` refers to).
    charging_state : ChargingState or None
        Current charging state.
    time_spent_charging : int or None
        Time energy flowed in this transaction [s].
    stopped_reason : StoppedReason or None
        Why the transaction stopped.
    remote_start_id : int or None
        Id of the RequestStartTransactionRequest that started it.
    """

    ocpp_type: ClassVar[str] = "TransactionType"

    transaction_id: String(36)
    charging_state: ChargingState | None = None
    time_spent_charging: NonNegativeInteger | None = None
    stopped_reason: StoppedReason | None = None
    remote_start_id: Integer | None = None


class TransactionEventRequest(OcppObject):
    """A transaction started, changed or ended (schema ``TransactionEventRequest``).

    Attributes
    ----------
    event_type : TransactionEventKind
        ``Started``, ``Updated`` or ``Ended``.
    meter_value : list of MeterValue or None
        At least one meter value, if present.
    timestamp : datetime
        When the event occurred (aware, UTC).
    trigger_reason : TriggerReason
        Why the station sent the event.
    seq_no : int
        Incremental sequence number within the transaction.
    offline : bool or None
        The event happened while the station was offline (absent means false).
    number_of_phases_used : int or None
        Phases used for charging.
    cable_max_current : int or None
        Maximum current of the connected cable [A].
    reservation_id : int or None
        Reservation this transaction ends.
    transaction_info : Transaction
        The transaction.
    evse : Evse or None
        EVSE (and connector) of the transaction.
    id_token : IdToken or None
        Token that authorized the transaction.
    """

    ocpp_type: ClassVar[str] = "TransactionEventRequest"

    event_type: TransactionEventKind
    meter_value: Annotated[list[MeterValue], Field(min_length=1)] | None = None
    timestamp: DateTime
    trigger_reason: TriggerReason
    seq_no: Integer
    offline: Boolean | None = None
    number_of_phases_used: Integer | None = None
    cable_max_current: Integer | None = None
    reservation_id: Integer | None = None
    transaction_info: Transaction
    evse: Evse | None = None
    id_token: IdToken | None = None
