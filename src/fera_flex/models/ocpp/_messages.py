"""Parse any supported OCPP 2.0.1 message by name, and write one as JSON.

An OCPP-J CALL frame ``[2, id, "SetChargingProfile", {...}]`` names the action;
its CALLRESULT ``[3, id, {...}]`` does not, so the caller (who matched the id)
says that it is a response. :func:`parse_message` takes exactly that:

- ``parse_message("SetChargingProfile", payload)``: the request;
- ``parse_message("SetChargingProfile", payload, response=True)``: the response;
- ``parse_message("SetChargingProfileResponse", payload)``: the full message
  name (the schema file's name) works too.

All messages go through one :class:`~pydantic.TypeAdapter` over a union
tagged by message name, so a validation error's location starts with the
message name, then ``payload``, then the wire path.
"""

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any, Literal, Union

from pydantic import ConfigDict, Field, Tag, TypeAdapter
from typing_extensions import TypedDict

from fera_flex.errors import InputError
from fera_flex.models.ocpp._base import OcppObject
from fera_flex.models.ocpp._ev_charging import (
    NotifyEVChargingNeedsRequest,
    NotifyEVChargingScheduleRequest,
)
from fera_flex.models.ocpp._smart_charging import (
    ClearChargingProfileRequest,
    ClearChargingProfileResponse,
    GetCompositeScheduleRequest,
    GetCompositeScheduleResponse,
    ReportChargingProfilesRequest,
    SetChargingProfileRequest,
    SetChargingProfileResponse,
)
from fera_flex.models.ocpp._transaction import TransactionEventRequest

__all__ = ["MESSAGE_TYPES", "message_name", "parse_message", "to_json"]

MESSAGE_TYPES: Mapping[str, type[OcppObject]] = MappingProxyType(
    {
        cls.ocpp_type: cls
        for cls in (
            SetChargingProfileRequest,
            SetChargingProfileResponse,
            ClearChargingProfileRequest,
            ClearChargingProfileResponse,
            GetCompositeScheduleRequest,
            GetCompositeScheduleResponse,
            ReportChargingProfilesRequest,
            NotifyEVChargingNeedsRequest,
            NotifyEVChargingScheduleRequest,
            TransactionEventRequest,
        )
    }
)
"""Message name (``"SetChargingProfileRequest"``) -> model class, for every supported message."""

_REQUEST, _RESPONSE = "Request", "Response"


def _envelope(name: str, cls: type[OcppObject]) -> Any:
    fields = {"message": Literal[name], "payload": cls}
    return Annotated[TypedDict(f"{name}Envelope", fields), Tag(name)]


_MESSAGE_ADAPTER: TypeAdapter[Any] = TypeAdapter(
    Annotated[
        # a Union built from a sequence: "X | Y" cannot be written for a variable count
        Union[tuple(_envelope(name, cls) for name, cls in MESSAGE_TYPES.items())],  # noqa: UP007
        Field(discriminator="message"),
    ],
    config=ConfigDict(title="OcppMessage"),
)


def message_name(action: str, *, response: bool = False) -> str:
    """Resolve an OCPP action (and direction) to a supported message name.

    Parameters
    ----------
    action : str
        An OCPP action (``"SetChargingProfile"``) or a full message name
        (``"SetChargingProfileRequest"``, ``"SetChargingProfileResponse"``).
    response : bool, default False
        With a bare action: the response (CALLRESULT) rather than the request.

    Returns
    -------
    str
        A key of :data:`MESSAGE_TYPES`.

    Raises
    ------
    InputError
        If the name is unknown (the message lists the known ones), or a full
        request name is combined with ``response=True``.

    Examples
    --------
    >>> message_name("GetCompositeSchedule", response=True)
    'GetCompositeScheduleResponse'
    """
    if action in MESSAGE_TYPES:
        if response and not action.endswith(_RESPONSE):
            raise InputError(
                "parse_message", "response", response, f"{action!r} names a request, not a response"
            )
        return action
    name = action + (_RESPONSE if response else _REQUEST)
    if name not in MESSAGE_TYPES:
        raise InputError(
            "parse_message",
            "action",
            action,
            f"not a supported OCPP 2.0.1 message ({name!r} unknown); known messages: "
            + ", ".join(sorted(MESSAGE_TYPES)),
        )
    return name


def parse_message(
    action: str, payload: Mapping[str, Any] | str | bytes, *, response: bool = False
) -> OcppObject:
    """Validate an OCPP 2.0.1 message payload into its model.

    Parameters
    ----------
    action : str
        An OCPP action (``"SetChargingProfile"``) or a full message name
        (``"SetChargingProfileResponse"``); see :func:`message_name`.
    payload : Mapping, str or bytes
        The message payload: the JSON object of the OCPP-J frame, parsed or as text.
    response : bool, default False
        With a bare action: parse the response (CALLRESULT) payload.

    Returns
    -------
    OcppObject
        An instance of ``MESSAGE_TYPES[message_name(action, response=response)]``.

    Raises
    ------
    InputError
        For an unknown message name or a payload that is not JSON.
    pydantic.ValidationError
        If the payload breaks the schema or a rule of the specification.

    Examples
    --------
    >>> parse_message("ClearChargingProfile", b'{"status": "Unknown"}', response=True).status
    <ClearChargingProfileStatus.UNKNOWN: 'Unknown'>
    """
    name = message_name(action, response=response)
    if isinstance(payload, str | bytes | bytearray):
        try:
            payload = json.loads(payload)
        except ValueError as err:
            raise InputError(
                "parse_message", "payload", payload, f"not valid JSON: {err}"
            ) from None
    envelope = _MESSAGE_ADAPTER.validate_python({"message": name, "payload": payload})
    return envelope["payload"]


def to_json(message: OcppObject) -> str:
    """Write a message (or any OCPP object) as its OCPP 2.0.1 JSON payload.

    camelCase names, absent optional fields omitted, unknown fields written
    back, dateTimes in UTC with ``Z``. ``message.model_dump(mode="json")``
    gives the same as a Python dict.

    Parameters
    ----------
    message : OcppObject
        The message.

    Returns
    -------
    str
        Compact JSON text.
    """
    return message.model_dump_json(by_alias=True)
