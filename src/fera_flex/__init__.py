"""fera_flex: EV smart-charging flexibility for SCSPs and aggregators (FERA).

``import fera_flex`` is cheap: it compiles nothing and imports neither numba
nor the solvers. The public names below are loaded on first use.

Examples
--------
>>> import fera_flex
>>> issubclass(fera_flex.FeraFlexError, Exception)
True
"""

from importlib import import_module
from typing import Any

__version__ = "0.1.0.dev0"

# public name -> module that defines it (imported lazily, PEP 562)
_LAZY = {
    "FeraFlexError": "fera_flex.errors",
    "InputError": "fera_flex.errors",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'fera_flex' has no attribute {name!r}") from None
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
