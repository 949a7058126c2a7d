"""Apply OCPI PATCH bodies to stored objects (Locations, EVSEs, Connectors, Sessions, Tokens).

OCPI receivers must accept PATCH requests that carry only the fields that
changed. The rules implemented here:

- the body is a JSON object and SHALL contain ``last_updated``;
- each field in the body replaces the stored field whole (lists and nested
  objects included; OCPI defines no deeper merge);
- ``null`` removes an optional field; for a required field the result fails
  validation;
- the fields that make up the object's key (``country_code``, ``party_id``,
  ``id``/``uid``, a Token's ``type``) cannot be changed;
- unknown fields are kept, as everywhere in fera_flex;
- the result is validated as a whole and returned as a new object; the
  stored object is not modified.

Examples
--------
>>> from fera_flex.models.ocpi import Token
>>> token = Token.model_validate({
...     "country_code": "DE", "party_id": "TNM", "uid": "012345678", "type": "RFID",
...     "contract_id": "DE8ACC12E46L89", "issuer": "TheNewMotion", "valid": True,
...     "whitelist": "ALLOWED", "last_updated": "2018-12-10T17:16:15Z"})
>>> patched = apply_patch(token, {"valid": False, "last_updated": "2019-06-19T02:11:11Z"})
>>> patched.valid, token.valid
(False, True)
"""

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from fera_flex.errors import PatchError
from fera_flex.models.ocpi.locations import EVSE, Connector, Location
from fera_flex.models.ocpi.sessions import Session
from fera_flex.models.ocpi.tokens import Token

__all__ = ["apply_patch", "patch_location"]

Patchable = TypeVar("Patchable", Location, EVSE, Connector, Session, Token)

_KEY_FIELDS: dict[type, tuple[str, ...]] = {
    Location: ("country_code", "party_id", "id"),
    EVSE: ("uid",),
    Connector: ("id",),
    Session: ("country_code", "party_id", "id"),
    Token: ("country_code", "party_id", "uid", "type"),
}


def apply_patch(target: Patchable, patch: Mapping[str, Any] | str | bytes) -> Patchable:
    """Return ``target`` with an OCPI PATCH body applied, validated.

    Parameters
    ----------
    target : Location, EVSE, Connector, Session or Token
        The stored object.
    patch : mapping or JSON text
        The PATCH body: a partial object with ``last_updated``.

    Returns
    -------
    same type as ``target``
        A new, validated object.

    Raises
    ------
    PatchError
        If the body is not a JSON object, lacks ``last_updated``, changes a key
        field, or ``target`` is not a patchable OCPI object.
    pydantic.ValidationError
        If the patched object is invalid.
    """
    kind = type(target)
    if kind not in _KEY_FIELDS:
        raise PatchError(
            "apply_patch",
            "target",
            kind.__name__,
            "OCPI defines PATCH for Location, EVSE, Connector, Session and Token only",
        )
    body = _as_object(kind.__name__, patch)
    for key in _KEY_FIELDS[kind]:
        if key in body and not _same_key(body[key], getattr(target, key)):
            raise PatchError(
                f"{kind.__name__} PATCH",
                key,
                body[key],
                f"is part of the object's key and cannot change (stored: {getattr(target, key)!r})",
            )
    merged = target.model_dump(mode="json")
    for key, value in body.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return kind.model_validate(merged)


def patch_location(
    location: Location,
    patch: Mapping[str, Any] | str | bytes,
    evse_uid: str | None = None,
    connector_id: str | None = None,
) -> Location:
    """Apply a PATCH addressed to a Location, one of its EVSEs, or a Connector.

    This mirrors the receiver URL ``/locations/{cc}/{party}/{location_id}
    [/{evse_uid}[/{connector_id}]]``. When an EVSE or Connector is patched,
    the ``last_updated`` of its parents is set to the patch's
    ``last_updated`` (the spec requires a parent's timestamp to change with
    its children).

    Parameters
    ----------
    location : Location
        The stored Location.
    patch : mapping or JSON text
        The PATCH body.
    evse_uid : str, optional
        The EVSE the PATCH is addressed to.
    connector_id : str, optional
        The Connector the PATCH is addressed to (needs ``evse_uid``).

    Returns
    -------
    Location
        A new, validated Location.

    Raises
    ------
    PatchError
        As :func:`apply_patch`, or when the EVSE or Connector does not exist.
    """
    if evse_uid is None:
        if connector_id is not None:
            raise PatchError("patch_location", "connector_id", connector_id, "needs evse_uid")
        return apply_patch(location, patch)
    evse = _child(location.evse, "evse_uid", evse_uid)
    if connector_id is None:
        new_evse = apply_patch(evse, patch)
    else:
        new_connector = apply_patch(_child(evse.connector, "connector_id", connector_id), patch)
        connectors = [
            new_connector if c.id.casefold() == connector_id.casefold() else c
            for c in evse.connectors
        ]
        new_evse = evse.model_copy(
            update={"connectors": connectors, "last_updated": new_connector.last_updated}
        )
    evses = [new_evse if e.uid.casefold() == evse_uid.casefold() else e for e in location.evses]
    merged = location.model_dump(mode="json")
    merged["evses"] = [e.model_dump(mode="json") for e in evses]
    merged["last_updated"] = new_evse.model_dump(mode="json")["last_updated"]
    return Location.model_validate(merged)


def _child(lookup: Any, name: str, key: str) -> Any:
    try:
        return lookup(key)
    except KeyError as err:
        raise PatchError("patch_location", name, key, str(err.args[0])) from None


def _as_object(kind: str, patch: Mapping[str, Any] | str | bytes) -> dict[str, Any]:
    if isinstance(patch, (str, bytes)):
        try:
            patch = json.loads(patch)
        except ValueError as err:
            raise PatchError(f"{kind} PATCH", "body", patch, f"is not valid JSON: {err}") from None
    if not isinstance(patch, Mapping):
        raise PatchError(f"{kind} PATCH", "body", patch, "must be a JSON object")
    if "last_updated" not in patch:
        raise PatchError(
            f"{kind} PATCH", "last_updated", None, "is required in every OCPI PATCH body"
        )
    return dict(patch)


def _same_key(new: Any, stored: Any) -> bool:
    if isinstance(new, str) and isinstance(stored, str):
        return new.casefold() == stored.casefold()
    return new == stored
