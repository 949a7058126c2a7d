"""The NL-Flex profile's shared rules: its error, its power values, the Service Provider's EAN13.

Every NL-Flex power is a number of kW with at most two decimals
(:func:`power_value`); fera_flex rounds what it writes down to the hundredth
(:func:`floor_hundredth`). A report's ``clientName`` is the Service
Provider's EAN13 code, check digit included (:func:`check_ean13`).

Examples
--------
>>> power_value(12.5), power_value(1.005), power_value(True)
(12.5, None, None)
>>> floor_hundredth(0.3 - 0.1), floor_hundredth(-1.234)
(0.19, -1.24)
>>> check_ean13("flex_delta_report", "8712423014022")
"""

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from fera_flex.errors import InputError

__all__ = ["NlFlexRuleError", "check_ean13", "floor_hundredth", "power_value", "require"]


class NlFlexRuleError(InputError):
    """A message breaks a rule of the NL-Flex profile (OpenADR DER profile v1.0.0)."""


def power_value(value: Any) -> float | None:
    """A payload value as an NL-Flex power [kW] (a number with at most two decimals), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        exponent = Decimal(str(value)).as_tuple().exponent
    except InvalidOperation:
        return None
    if not isinstance(exponent, int) or exponent < -2:
        return None
    return float(value)


def floor_hundredth(value: float) -> float:
    """The largest multiple of 0.01 not above ``value`` (on its decimal value), as a short float."""
    return math.floor(Decimal(repr(float(value))) * 100) / 100 + 0.0


def check_ean13(where: str, value: Any) -> None:
    """Raise :class:`NlFlexRuleError` unless ``value`` is an EAN13 with a valid check digit."""
    ok = isinstance(value, str) and len(value) == 13 and value.isascii() and value.isdigit()
    if ok:
        *body, check = (int(digit) for digit in value)
        weighted = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
        ok = (10 - weighted % 10) % 10 == check
    require(where, "clientName", value, ok, "must be the Service Provider's EAN13 (check digit)")


def require(where: str, field: str, value: Any, ok: bool, rule: str) -> None:
    """Raise :class:`NlFlexRuleError` naming ``field`` and ``value`` unless ``ok``."""
    if not ok:
        raise NlFlexRuleError(where, field, value, rule)
