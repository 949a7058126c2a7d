"""The official OCPP 2.0.1 JSON schemas (test fixtures) and validators over them."""

import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.protocols import Validator

REPO_ROOT = Path(__file__).resolve().parents[3]
SCHEMA_DIR = REPO_ROOT / "tests" / "fixtures" / "ocpp_schemas" / "v201"
SHARED_SCHEMA_DIR = REPO_ROOT / ".." / "shared" / "ocpp-schemas" / "v201"

# RFC 3339 date-time with at most 3 fractional digits (OCPP 2.0.1 Part 2, primitive dateTime)
_DATE_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})")
_FORMAT_CHECKER = jsonschema.FormatChecker(formats=())


@_FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_ocpp_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if _DATE_TIME_RE.fullmatch(value) is None:
        return False
    datetime.fromisoformat(value)  # the calendar check; raises ValueError
    return True


def schema_names() -> list[str]:
    """Message names with a schema file, sorted."""
    return sorted(path.stem for path in SCHEMA_DIR.glob("*.json"))


@cache
def load_schema(message_name: str) -> dict[str, Any]:
    """The parsed schema of one message."""
    return json.loads((SCHEMA_DIR / f"{message_name}.json").read_text(encoding="utf-8"))


@cache
def validator(message_name: str) -> Validator:
    """A validator of the schema's own draft, checking ``date-time`` formats too."""
    schema = load_schema(message_name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=_FORMAT_CHECKER)


def definition(type_name: str) -> dict[str, Any]:
    """A schema type by name: a ``definitions`` entry or a whole message schema.

    All v201 files define shared types identically (checked in the tests), so
    the first file that has the type is used.
    """
    if (SCHEMA_DIR / f"{type_name}.json").exists():
        return load_schema(type_name)
    for name in schema_names():
        found = load_schema(name)["definitions"].get(type_name)
        if found is not None:
            return found
    raise KeyError(type_name)
