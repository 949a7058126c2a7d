"""Fixtures: the OCPI 2.2.1 specification's own example JSON, unmodified."""

import json
from pathlib import Path
from typing import Any

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "ocpi_examples"


def load_example(name: str) -> Any:
    """The parsed JSON of one example file."""
    return json.loads((EXAMPLES_DIR / name).read_text(encoding="utf-8"))


@pytest.fixture
def example():
    return load_example
