"""The models against the official OCPP 2.0.1 JSON schemas.

1. Every message the models emit validates against its official schema
   (hypothesis: 200 generated instances per message type), and parses back
   to an equal model.
2. The models declare exactly the schemas' properties, required lists,
   types, lengths, array sizes, ranges and enum values.
3. The schema copies under ``tests/fixtures`` are the shared originals.
"""

import filecmp
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fera_flex.models import ocpp
from tests.models.ocpp.schemas import (
    SCHEMA_DIR,
    SHARED_SCHEMA_DIR,
    definition,
    load_schema,
    schema_names,
    validator,
)
from tests.models.ocpp.strategies import MESSAGES

EXAMPLES_PER_MESSAGE = 200

MODELS = sorted(
    (
        obj
        for obj in vars(ocpp).values()
        if isinstance(obj, type) and issubclass(obj, ocpp.OcppModel) and "ocpp_type" in vars(obj)
    ),
    key=lambda cls: cls.__name__,
)

ENUM_SCHEMA_NAMES = {
    ocpp.ChargingLimitSource: "ChargingLimitSourceEnumType",
    ocpp.ChargingProfileKind: "ChargingProfileKindEnumType",
    ocpp.ChargingProfilePurpose: "ChargingProfilePurposeEnumType",
    ocpp.ChargingProfileStatus: "ChargingProfileStatusEnumType",
    ocpp.ChargingRateUnit: "ChargingRateUnitEnumType",
    ocpp.ChargingState: "ChargingStateEnumType",
    ocpp.ClearChargingProfileStatus: "ClearChargingProfileStatusEnumType",
    ocpp.CostKind: "CostKindEnumType",
    ocpp.EnergyTransferMode: "EnergyTransferModeEnumType",
    ocpp.GenericStatus: "GenericStatusEnumType",
    ocpp.IdTokenKind: "IdTokenEnumType",
    ocpp.Measurand: "MeasurandEnumType",
    ocpp.MeasurementLocation: "LocationEnumType",
    ocpp.Phase: "PhaseEnumType",
    ocpp.ReadingContext: "ReadingContextEnumType",
    ocpp.RecurrencyKind: "RecurrencyKindEnumType",
    ocpp.StoppedReason: "ReasonEnumType",
    ocpp.TransactionEventKind: "TransactionEventEnumType",
    ocpp.TriggerReason: "TriggerReasonEnumType",
}


# --- 1. emitted messages validate ------------------------------------------------------------


def test_every_schema_has_a_model_and_a_strategy():
    assert set(schema_names()) == set(ocpp.MESSAGE_TYPES) == set(MESSAGES)


@pytest.mark.parametrize("name", sorted(MESSAGES))
@settings(max_examples=EXAMPLES_PER_MESSAGE)
@given(data=st.data())
def test_emitted_message_validates_against_official_schema(name, data):
    message = data.draw(MESSAGES[name], label=name)
    text = ocpp.to_json(message)
    tree = json.loads(text)

    problems = [
        f"{list(err.absolute_path)}: {err.message}" for err in validator(name).iter_errors(tree)
    ]
    assert not problems, problems
    assert message.model_dump(mode="json") == tree

    parsed = ocpp.parse_message(name, text)
    assert type(parsed) is type(message)
    assert parsed == message
    assert parsed.model_dump(mode="json") == tree


# --- 2. models declare what the schemas declare -------------------------------------------------


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Our JSON schema of one property: Optional unwrapped, $ref followed."""
    if "anyOf" in node:
        (node,) = [option for option in node["anyOf"] if option.get("type") != "null"]
    if "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _official(node: dict[str, Any]) -> dict[str, Any]:
    """An official property schema with its $ref (to a type definition) followed."""
    if "$ref" in node:
        return definition(node["$ref"].rsplit("/", 1)[1])
    return node


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_model_declares_the_schema_properties(cls):
    official = definition(cls.ocpp_type)
    aliases = {field.alias or name: field for name, field in cls.model_fields.items()}

    assert set(aliases) == set(official["properties"])
    required = {alias for alias, field in aliases.items() if field.is_required()}
    assert required == set(official.get("required", []))


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_model_types_lengths_sizes_and_ranges_match_the_schema(cls):
    official = definition(cls.ocpp_type)
    ours_root = cls.model_json_schema(by_alias=True)
    for prop, official_node in official["properties"].items():
        theirs = _official(official_node)
        ours = _resolve(ours_root["properties"][prop], ours_root)
        where = f"{cls.ocpp_type}.{prop}"
        assert ours.get("type") == theirs.get("type"), where
        for key in ("maxLength", "minItems", "maxItems", "enum", "format"):
            assert ours.get(key) == theirs.get(key), (where, key)
        # ranges: ours may be stricter (32-bit integers, spec rules), never looser
        if "minimum" in theirs:
            assert ours["minimum"] >= theirs["minimum"], where
        if "maximum" in theirs:
            assert ours["maximum"] <= theirs["maximum"], where
        if theirs.get("type") == "array":
            item_ours = _resolve(ours["items"], ours_root)
            item_theirs = _official(theirs["items"])
            assert item_ours["title"] in {model.__name__ for model in MODELS}, where
            assert set(item_ours["properties"]) == set(item_theirs["properties"]), where


@pytest.mark.parametrize("enum", ENUM_SCHEMA_NAMES, ids=lambda enum: enum.__name__)
def test_enum_values_match_the_schema(enum):
    assert [member.value for member in enum] == definition(ENUM_SCHEMA_NAMES[enum])["enum"]


def test_every_enum_is_checked():
    enums = {
        obj
        for obj in vars(ocpp.enums).values()
        if isinstance(obj, type) and obj.__module__ == ocpp.enums.__name__
    }
    assert enums == set(ENUM_SCHEMA_NAMES)


def test_shared_type_definitions_are_identical_across_schema_files():
    """Sound basis for :func:`definition`, which reads the first file with a type."""

    def without_descriptions(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: without_descriptions(v) for k, v in node.items() if k != "description"}
        if isinstance(node, list):
            return [without_descriptions(v) for v in node]
        return node

    seen: dict[str, Any] = {}
    for name in schema_names():
        for type_name, node in load_schema(name)["definitions"].items():
            stripped = without_descriptions(node)
            assert seen.setdefault(type_name, stripped) == stripped, (name, type_name)


# --- 3. the fixture copies ------------------------------------------------------------------------


def test_fixture_has_the_ten_v201_schemas():
    assert len(schema_names()) == 10
    assert (SCHEMA_DIR.parent / "SOURCES.md").is_file()


@pytest.mark.skipif(not SHARED_SCHEMA_DIR.is_dir(), reason="no shared/ folder beside the repo")
def test_fixture_schemas_are_byte_identical_to_the_shared_ones():
    names = [path.name for path in SCHEMA_DIR.glob("*.json")]
    match, mismatch, errors = filecmp.cmpfiles(SHARED_SCHEMA_DIR, SCHEMA_DIR, names, shallow=False)
    assert (sorted(match), mismatch, errors) == (sorted(names), [], [])
    assert filecmp.cmp(
        SHARED_SCHEMA_DIR.parent / "SOURCES.md", SCHEMA_DIR.parent / "SOURCES.md", shallow=False
    )
