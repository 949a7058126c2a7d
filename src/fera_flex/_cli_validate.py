"""``fera-flex validate``: check OCPI objects, OCPP messages, FERA objects and scenario files.

What a file holds is told by ``--type`` or recognised from its content: one
object, a JSON array of objects of one kind, an object of objects keyed by
id (like ``charging_preferences.json``), or an OCPP-J CALL frame
``[2, id, action, payload]``. A folder is read as an OCPI site folder
(``locations.json``, ``sessions.json``, ``charging_preferences.json``) and
its cross references are checked too.

OCPI and FERA objects and scenarios are checked by fera_flex's models (OCPI
publishes no JSON schema). OCPP 2.0.1 messages are checked by the models
(which add the specification's rules the schemas cannot state) and against
the official OCA JSON schema of the message: from ``--ocpp-schemas DIR`` or
from the ``ocpp`` package when it is installed (with ``jsonschema``); without
either, a note says that only the models checked them.

Every problem is reported with its JSON path (``$.evses[0].connectors[1].max_voltage``).
Rules that relate the fields of an object (time order, a TxProfile's
transactionId) are checked once those fields are valid themselves: fix the
field errors first, then validate again.
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel, ValidationError

from fera_flex.models import ocpi, ocpp
from fera_flex.models.fera import FlexibilityDispatch, FlexibilityOffer
from fera_flex.models.scenario import Scenario, session_reference_problems

__all__ = [
    "KINDS",
    "Finding",
    "Kind",
    "json_path",
    "pydantic_findings",
    "run_validate",
    "validation_findings",
]


@dataclass(frozen=True)
class Kind:
    """A kind of object that ``validate`` knows."""

    name: str
    title: str
    model: type[BaseModel]
    ocpp_message: str | None = None

    @property
    def fields(self) -> set[str]:
        """Wire names of the model's fields."""
        return {f.alias or name for name, f in self.model.model_fields.items()}

    @property
    def required(self) -> set[str]:
        """Wire names of the required fields."""
        return {f.alias or name for name, f in self.model.model_fields.items() if f.is_required()}


def _kinds() -> dict[str, Kind]:
    kinds = [Kind("scenario", "fera_flex scenario", Scenario)]
    kinds += [
        Kind(f"ocpi:{cls.__name__}", f"OCPI {ocpi.OCPI_VERSION} {cls.__name__}", cls)
        for cls in (
            ocpi.Location,
            ocpi.EVSE,
            ocpi.Connector,
            ocpi.Session,
            ocpi.CDR,
            ocpi.Tariff,
            ocpi.Token,
            ocpi.ChargingPreferences,
            ocpi.ChargingProfile,
            ocpi.SetChargingProfile,
            ocpi.ActiveChargingProfile,
            ocpi.ChargingProfileResponse,
            ocpi.ChargingProfileResult,
            ocpi.ActiveChargingProfileResult,
            ocpi.ClearProfileResult,
        )
    ]
    kinds += [
        Kind(f"ocpp:{name}", f"OCPP 2.0.1 {name}", cls, ocpp_message=name)
        for name, cls in ocpp.MESSAGE_TYPES.items()
    ]
    kinds += [
        Kind(f"fera:{cls.__name__}", f"FERA {cls.__name__}", cls)
        for cls in (FlexibilityOffer, FlexibilityDispatch)
    ]
    return {kind.name.casefold(): kind for kind in kinds}


KINDS: dict[str, Kind] = _kinds()
"""Every kind by its case-folded name (``ocpi:location``, ``ocpp:setchargingprofilerequest``)."""


def kind_named(text: str) -> Kind | None:
    """A kind by its name, with or without its prefix, in any case."""
    folded = text.casefold()
    if folded in KINDS:
        return KINDS[folded]
    found = [kind for name, kind in KINDS.items() if name.split(":")[-1] == folded]
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True)
class Finding:
    """One problem in a file: where (a JSON path) and what."""

    path: str
    message: str


def json_path(data: Any, loc: tuple[Any, ...], missing: bool = False) -> str:
    """The JSON path of a pydantic error location, walking the data it was found in.

    Union members and validators that pydantic names in a location (``float``,
    ``TimeSeries``) are not keys of the data: they are kept as ``(as ...)``.
    """
    parts, via = ["$"], []
    node = data
    for position, item in enumerate(loc):
        last = position == len(loc) - 1
        if isinstance(item, int) and isinstance(node, list) and 0 <= item < len(node):
            parts.append(f"[{item}]")
            node = node[item]
        elif isinstance(item, str) and (
            (isinstance(node, dict) and item in node) or (missing and last)
        ):
            parts.append(f".{item}" if re.fullmatch(r"[A-Za-z_]\w*", item) else f"[{item!r}]")
            node = node.get(item) if isinstance(node, dict) else None
        else:
            via.append(_member(str(item)))
    text = "".join(parts)
    return f"{text} (as {' / '.join(via)})" if via else text


def _member(label: str) -> str:
    """A union member's name: ``TimeSeries`` of ``function-after[_one_form(), TimeSeries]``."""
    inner = re.fullmatch(r"[\w-]+\[(.*)\]", label)
    if inner:
        label = inner.group(1).split(", ")[-1]
    return label.removeprefix("constrained-")


def pydantic_findings(error: ValidationError, data: Any, prefix: str = "$") -> list[Finding]:
    """Every error of a ValidationError, with its JSON path in ``data`` (found at ``prefix``)."""
    found = []
    for item in error.errors(include_url=False):
        where = json_path(data, tuple(item["loc"]), missing=item["type"] == "missing")
        where = prefix + where[1:]
        message = item["msg"]
        numbered = re.fullmatch(
            r"Value error, \d+ inconsistent reference\(s\): \(1\) (.*)", message, flags=re.S
        )
        if numbered:  # a scenario lists every broken reference in one message: one line each
            found += [Finding(where, part) for part in re.split(r"; \(\d+\) ", numbered.group(1))]
            continue
        found.append(Finding(where, message.removeprefix("Value error, ")))
    return found


@cache
def _schema_validator(directory: str, message: str) -> Any:
    """A jsonschema validator for an OCPP message, or None without the schema."""
    path = Path(directory) / f"{message}.json"
    if not path.is_file():
        return None
    import jsonschema

    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=jsonschema.FormatChecker())


def default_schema_dir() -> Path | None:
    """The OCPP 2.0.1 schemas of the installed ``ocpp`` package, if it and jsonschema are there."""
    if find_spec("jsonschema") is None:
        return None
    spec = find_spec("ocpp")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "v201" / "schemas"
    return folder if folder.is_dir() else None


def _schema_findings(validator: Any, payload: Any, prefix: str) -> list[Finding]:
    found = []
    for error in sorted(validator.iter_errors(payload), key=lambda e: list(map(str, e.path))):
        loc = tuple(error.absolute_path)
        missing = re.fullmatch(r"'(.+)' is a required property", error.message)
        if error.validator == "required" and missing:  # name the missing field, as pydantic does
            loc = (*loc, missing.group(1))
        where = json_path(payload, loc, missing=missing is not None)
        found.append(Finding(prefix + where[1:], f"{error.message} (OCA schema)"))
    return found


def validation_findings(kind: Kind, item: Any, prefix: str, schemas: Path | None) -> list[Finding]:
    """Every problem of one object of a kind (``prefix`` is its JSON path in the file)."""
    found: list[Finding] = []
    if kind.ocpp_message is not None and schemas is not None:
        validator = _schema_validator(str(schemas), kind.ocpp_message)
        if validator is not None:
            found += _schema_findings(validator, item, prefix)
    try:
        kind.model.model_validate_json(json.dumps(item))
    except ValidationError as error:
        seen = {finding.path for finding in found}
        found += [f for f in pydantic_findings(error, item, prefix) if f.path not in seen]
    return found


def _score(kind: Kind, item: Any) -> int:
    """How well an object's keys fit a kind: fields matched minus unknown keys and missing ones."""
    if not isinstance(item, dict):
        return -(10**6)
    keys = set(item)
    fields = kind.fields
    return len(keys & fields) - len(keys - fields) - len(kind.required - keys)


def _best(items: list[Any]) -> tuple[Kind | None, int]:
    scored = [(sum(_score(kind, item) for item in items), kind) for kind in KINDS.values()]
    score, kind = max(scored, key=lambda pair: pair[0])
    return (kind, score) if score > 0 else (None, score)


def _parts(data: Any, forced: Kind | None) -> tuple[Kind | None, list[tuple[str, Any]], str]:
    """The kind, the (JSON path, object) pairs to check, and what the file is."""
    if isinstance(data, list) and len(data) == 4 and data[0] == 2 and isinstance(data[2], str):
        name = data[2] + "Request"
        kind = forced or KINDS.get(f"ocpp:{name}".casefold())
        return kind, [("$[3]", data[3])], "the payload of an OCPP-J CALL of"
    if isinstance(data, list):
        kind = forced or _best(data)[0]
        return kind, [(f"$[{i}]", item) for i, item in enumerate(data)], f"an array of {len(data)}"
    if isinstance(data, dict):
        values = list(data.values())
        keyed = bool(values) and all(isinstance(value, dict) for value in values)
        by_id = False
        if forced is not None:
            kind = forced
            by_id = keyed and _score(forced, data) < min(_score(forced, v) for v in values)
        else:
            kind, score = _best([data])
            if keyed:  # or an object of objects keyed by id?
                mapped, mapped_score = _best(values)
                if mapped is not None and mapped_score / len(values) > score:
                    kind, by_id = mapped, True
        if by_id:
            keyed_parts = [(json_path(data, (key,)), value) for key, value in data.items()]
            return kind, keyed_parts, f"an object of {len(values)} by id,"
        return kind, [("$", data)], "one"
    return forced, [("$", data)], "one"


def check_file(path: Path, forced: Kind | None, schemas: Path | None) -> tuple[str, list[Finding]]:
    """What a file holds and every problem in it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        return "unreadable", [Finding("$", f"cannot be read: {err.strerror}")]
    except UnicodeDecodeError as err:
        return "unreadable", [Finding("$", f"is not UTF-8 text ({err.reason})")]
    try:
        data = json.loads(text)
    except ValueError as err:
        where = f"line {err.lineno} column {err.colno}" if hasattr(err, "lineno") else "$"
        return "not JSON", [Finding(where, f"not valid JSON: {err}")]
    if data == [] or data == {}:
        return "empty (nothing to check)", []
    kind, parts, amount = _parts(data, forced)
    if kind is None:
        return "unrecognised content", [
            Finding("$", "cannot tell what this file holds; pass --type (see --help for the kinds)")
        ]
    found = [f for where, item in parts for f in validation_findings(kind, item, where, schemas)]
    what = kind.title if amount == "one" else f"{amount} {kind.title}"
    return what, found


_SITE_FILES = (
    ("locations.json", "ocpi:location", True),
    ("sessions.json", "ocpi:session", True),
    ("charging_preferences.json", "ocpi:chargingpreferences", False),
)


def check_site(folder: Path, schemas: Path | None) -> Iterator[tuple[Path, str, list[Finding]]]:
    """Each file of an OCPI site folder, then its cross references."""
    valid = True
    for name, kind_name, required in _SITE_FILES:
        path = folder / name
        if not path.exists():
            if required:
                valid = False
                yield path, "missing", [Finding("$", "an OCPI site folder needs this file")]
            continue
        what, found = check_file(path, KINDS[kind_name], schemas)
        valid &= not found
        yield path, what, found
    if valid:
        data = {
            name: json.loads((folder / name).read_text(encoding="utf-8"))
            for name, _, _ in _SITE_FILES
            if (folder / name).exists()
        }
        problems = session_reference_problems(
            [ocpi.Location.model_validate(item) for item in data["locations.json"]],
            [ocpi.Session.model_validate(item) for item in data["sessions.json"]],
            {
                key: ocpi.ChargingPreferences.model_validate(value)
                for key, value in data.get("charging_preferences.json", {}).items()
            },
        )
        yield folder, "OCPI site references", [Finding("references", p) for p in problems]


def run_validate(
    paths: list[str], type_name: str | None, schema_dir: str | None, out: TextIO, err: TextIO
) -> int:
    """Check each path: what is valid goes to ``out``, every problem to ``err``; the exit code."""
    forced = None
    if type_name is not None:
        forced = kind_named(type_name)
        if forced is None:
            known = ", ".join(sorted(k.name for k in KINDS.values()))
            print(
                f"fera-flex validate: error: unknown --type {type_name!r}; one of: {known}",
                file=err,
            )
            return 2
    if schema_dir is not None:
        schemas: Path | None = Path(schema_dir)
        if not schemas.is_dir():
            print(
                f"fera-flex validate: error: --ocpp-schemas {schema_dir!r} is not a folder",
                file=err,
            )
            return 2
    else:
        schemas = default_schema_dir()
    status, noted = 0, False
    for text in paths:
        path = Path(text)
        if path.is_dir():
            results = list(check_site(path, schemas))
        elif path.exists():
            results = [(path, *check_file(path, forced, schemas))]
        else:
            results = [(path, "missing", [Finding("$", "no such file or folder")])]
        for where, what, found in results:
            if "OCPP" in what and schemas is None and not noted:
                print(
                    "note: OCPP messages were checked by fera_flex's models only; for the official "
                    "OCA schemas install 'ocpp' and 'jsonschema' or pass --ocpp-schemas DIR",
                    file=err,
                )
                noted = True
            if not found:
                print(f"{where}: valid: {what}", file=out)
                continue
            status = 1
            for finding in found:
                print(f"{where}: {finding.path}: {finding.message}", file=err)
            print(f"{where}: INVALID {what}: {len(found)} problem(s)", file=err)
    return status
