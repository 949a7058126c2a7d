import subprocess
import sys

import fera_flex
from fera_flex.errors import FeraFlexError, InputError


def test_lazy_public_names():
    assert fera_flex.InputError is InputError
    for name in fera_flex.__all__:
        assert getattr(fera_flex, name) is not None
    assert issubclass(InputError, FeraFlexError)
    assert set(fera_flex.__all__) <= set(dir(fera_flex))


def test_import_is_light():
    code = (
        "import sys, fera_flex; "
        "heavy = ('numba', 'cvxpy', 'highspy', 'scipy', 'pydantic'); "
        "heavy = [m for m in heavy if m in sys.modules]; "
        "print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_unknown_attribute():
    import pytest

    with pytest.raises(AttributeError, match="no_such_name"):
        fera_flex.no_such_name  # noqa: B018
