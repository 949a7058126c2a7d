"""The OCPP 2.0.1 enums used by the smart-charging messages and TransactionEvent.

Each class names the schema enum (``...EnumType``) it models. Values match the
schemas exactly and case-sensitively; member names are their UPPER_SNAKE form.

Examples
--------
>>> ChargingProfilePurpose("TxProfile") is ChargingProfilePurpose.TX_PROFILE
True
>>> str(ChargingRateUnit.W)
'W'
"""

from enum import StrEnum

__all__ = [
    "ChargingLimitSource",
    "ChargingProfileKind",
    "ChargingProfilePurpose",
    "ChargingProfileStatus",
    "ChargingRateUnit",
    "ChargingState",
    "ClearChargingProfileStatus",
    "CostKind",
    "EnergyTransferMode",
    "GenericStatus",
    "IdTokenKind",
    "Measurand",
    "MeasurementLocation",
    "Phase",
    "ReadingContext",
    "RecurrencyKind",
    "StoppedReason",
    "TransactionEventKind",
    "TriggerReason",
]


class ChargingProfilePurpose(StrEnum):
    """What a charging profile is for (``ChargingProfilePurposeEnumType``)."""

    CHARGING_STATION_EXTERNAL_CONSTRAINTS = "ChargingStationExternalConstraints"
    CHARGING_STATION_MAX_PROFILE = "ChargingStationMaxProfile"
    TX_DEFAULT_PROFILE = "TxDefaultProfile"
    TX_PROFILE = "TxProfile"


class ChargingProfileKind(StrEnum):
    """How a profile's schedule is anchored in time (``ChargingProfileKindEnumType``)."""

    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class RecurrencyKind(StrEnum):
    """Period of a recurring profile (``RecurrencyKindEnumType``)."""

    DAILY = "Daily"
    WEEKLY = "Weekly"


class ChargingRateUnit(StrEnum):
    """Unit of a schedule's limits (``ChargingRateUnitEnumType``).

    ``W`` is total power over all phases; ``A`` is current per phase.
    """

    W = "W"
    A = "A"


class CostKind(StrEnum):
    """Kind of cost in a sales tariff (``CostKindEnumType``)."""

    CARBON_DIOXIDE_EMISSION = "CarbonDioxideEmission"
    RELATIVE_PRICE_PERCENTAGE = "RelativePricePercentage"
    RENEWABLE_GENERATION_PERCENTAGE = "RenewableGenerationPercentage"


class ChargingProfileStatus(StrEnum):
    """Answer to SetChargingProfile (``ChargingProfileStatusEnumType``)."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class ClearChargingProfileStatus(StrEnum):
    """Answer to ClearChargingProfile (``ClearChargingProfileStatusEnumType``)."""

    ACCEPTED = "Accepted"
    UNKNOWN = "Unknown"


class GenericStatus(StrEnum):
    """Generic answer, e.g. to GetCompositeSchedule (``GenericStatusEnumType``)."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class EnergyTransferMode(StrEnum):
    """Energy transfer the EV requests (``EnergyTransferModeEnumType``)."""

    DC = "DC"
    AC_SINGLE_PHASE = "AC_single_phase"
    AC_TWO_PHASE = "AC_two_phase"
    AC_THREE_PHASE = "AC_three_phase"


class ChargingLimitSource(StrEnum):
    """Who installed a charging profile (``ChargingLimitSourceEnumType``)."""

    EMS = "EMS"
    OTHER = "Other"
    SO = "SO"
    CSO = "CSO"


class ChargingState(StrEnum):
    """Charging state of a transaction (``ChargingStateEnumType``)."""

    CHARGING = "Charging"
    EV_CONNECTED = "EVConnected"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    IDLE = "Idle"


class IdTokenKind(StrEnum):
    """Type of an identification token (``IdTokenEnumType``)."""

    CENTRAL = "Central"
    EMAID = "eMAID"
    ISO14443 = "ISO14443"
    ISO15693 = "ISO15693"
    KEY_CODE = "KeyCode"
    LOCAL = "Local"
    MAC_ADDRESS = "MacAddress"
    NO_AUTHORIZATION = "NoAuthorization"


class MeasurementLocation(StrEnum):
    """Where a value was sampled (``LocationEnumType``; default ``Outlet``)."""

    BODY = "Body"
    CABLE = "Cable"
    EV = "EV"
    INLET = "Inlet"
    OUTLET = "Outlet"


class Measurand(StrEnum):
    """Quantity of a sampled value (``MeasurandEnumType``)."""

    CURRENT_EXPORT = "Current.Export"
    CURRENT_IMPORT = "Current.Import"
    CURRENT_OFFERED = "Current.Offered"
    ENERGY_ACTIVE_EXPORT_REGISTER = "Energy.Active.Export.Register"
    ENERGY_ACTIVE_IMPORT_REGISTER = "Energy.Active.Import.Register"
    ENERGY_REACTIVE_EXPORT_REGISTER = "Energy.Reactive.Export.Register"
    ENERGY_REACTIVE_IMPORT_REGISTER = "Energy.Reactive.Import.Register"
    ENERGY_ACTIVE_EXPORT_INTERVAL = "Energy.Active.Export.Interval"
    ENERGY_ACTIVE_IMPORT_INTERVAL = "Energy.Active.Import.Interval"
    ENERGY_ACTIVE_NET = "Energy.Active.Net"
    ENERGY_REACTIVE_EXPORT_INTERVAL = "Energy.Reactive.Export.Interval"
    ENERGY_REACTIVE_IMPORT_INTERVAL = "Energy.Reactive.Import.Interval"
    ENERGY_REACTIVE_NET = "Energy.Reactive.Net"
    ENERGY_APPARENT_NET = "Energy.Apparent.Net"
    ENERGY_APPARENT_IMPORT = "Energy.Apparent.Import"
    ENERGY_APPARENT_EXPORT = "Energy.Apparent.Export"
    FREQUENCY = "Frequency"
    POWER_ACTIVE_EXPORT = "Power.Active.Export"
    POWER_ACTIVE_IMPORT = "Power.Active.Import"
    POWER_FACTOR = "Power.Factor"
    POWER_OFFERED = "Power.Offered"
    POWER_REACTIVE_EXPORT = "Power.Reactive.Export"
    POWER_REACTIVE_IMPORT = "Power.Reactive.Import"
    SOC = "SoC"
    VOLTAGE = "Voltage"


class Phase(StrEnum):
    """Phase or phase pair a value was measured on (``PhaseEnumType``)."""

    L1 = "L1"
    L2 = "L2"
    L3 = "L3"
    N = "N"
    L1_N = "L1-N"
    L2_N = "L2-N"
    L3_N = "L3-N"
    L1_L2 = "L1-L2"
    L2_L3 = "L2-L3"
    L3_L1 = "L3-L1"


class ReadingContext(StrEnum):
    """Why a value was sampled (``ReadingContextEnumType``; default ``Sample.Periodic``)."""

    INTERRUPTION_BEGIN = "Interruption.Begin"
    INTERRUPTION_END = "Interruption.End"
    OTHER = "Other"
    SAMPLE_CLOCK = "Sample.Clock"
    SAMPLE_PERIODIC = "Sample.Periodic"
    TRANSACTION_BEGIN = "Transaction.Begin"
    TRANSACTION_END = "Transaction.End"
    TRIGGER = "Trigger"


class StoppedReason(StrEnum):
    """Why a transaction stopped (``ReasonEnumType``)."""

    DE_AUTHORIZED = "DeAuthorized"
    EMERGENCY_STOP = "EmergencyStop"
    ENERGY_LIMIT_REACHED = "EnergyLimitReached"
    EV_DISCONNECTED = "EVDisconnected"
    GROUND_FAULT = "GroundFault"
    IMMEDIATE_RESET = "ImmediateReset"
    LOCAL = "Local"
    LOCAL_OUT_OF_CREDIT = "LocalOutOfCredit"
    MASTER_PASS = "MasterPass"
    OTHER = "Other"
    OVERCURRENT_FAULT = "OvercurrentFault"
    POWER_LOSS = "PowerLoss"
    POWER_QUALITY = "PowerQuality"
    REBOOT = "Reboot"
    REMOTE = "Remote"
    SOC_LIMIT_REACHED = "SOCLimitReached"
    STOPPED_BY_EV = "StoppedByEV"
    TIME_LIMIT_REACHED = "TimeLimitReached"
    TIMEOUT = "Timeout"


class TransactionEventKind(StrEnum):
    """Type of a transaction event (``TransactionEventEnumType``)."""

    ENDED = "Ended"
    STARTED = "Started"
    UPDATED = "Updated"


class TriggerReason(StrEnum):
    """Why the station sent a TransactionEvent (``TriggerReasonEnumType``)."""

    AUTHORIZED = "Authorized"
    CABLE_PLUGGED_IN = "CablePluggedIn"
    CHARGING_RATE_CHANGED = "ChargingRateChanged"
    CHARGING_STATE_CHANGED = "ChargingStateChanged"
    DEAUTHORIZED = "Deauthorized"
    ENERGY_LIMIT_REACHED = "EnergyLimitReached"
    EV_COMMUNICATION_LOST = "EVCommunicationLost"
    EV_CONNECT_TIMEOUT = "EVConnectTimeout"
    METER_VALUE_CLOCK = "MeterValueClock"
    METER_VALUE_PERIODIC = "MeterValuePeriodic"
    TIME_LIMIT_REACHED = "TimeLimitReached"
    TRIGGER = "Trigger"
    UNLOCK_COMMAND = "UnlockCommand"
    STOP_AUTHORIZED = "StopAuthorized"
    EV_DEPARTED = "EVDeparted"
    EV_DETECTED = "EVDetected"
    REMOTE_STOP = "RemoteStop"
    REMOTE_START = "RemoteStart"
    ABNORMAL_CONDITION = "AbnormalCondition"
    SIGNED_DATA_RECEIVED = "SignedDataReceived"
    RESET_COMMAND = "ResetCommand"
