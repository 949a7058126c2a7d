"""UFTP XML on the wire: writing with the standard library, reading untrusted input safely.

Messages are written with :mod:`xml.etree.ElementTree` (no dependency) and
read with ``defusedxml`` (the ``uftp`` extra): no DTD, no entity, no external
reference is accepted, so XXE and entity-expansion ("billion laughs")
documents are refused before anything is expanded, and a message larger than
``max_bytes`` is refused before it is parsed.

Shapeshifter 3.1.0 messages have no XML namespace: the root element is the
message name (``FlexOffer``, ``D-Prognosis``, ...), every field an attribute.
"""

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from importlib import import_module
from types import ModuleType
from typing import Any
from xml.etree import ElementTree

import numpy as np

from fera_flex.errors import InputError

__all__ = [
    "MAX_MESSAGE_BYTES",
    "VERSION",
    "Attributes",
    "children",
    "isp_powers",
    "message",
    "parse",
    "render",
    "require",
    "write_isps",
]

VERSION = "3.1.0"
"""The Shapeshifter (UFTP) specification version written in every message."""

MAX_MESSAGE_BYTES = 1 << 20
"""Largest message read [bytes] (a day of 15-minute ISPs with four options is about 20 kB)."""

_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{0,9})?([+-]\d{2}:\d{2}|Z)")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def require(module: str, purpose: str) -> ModuleType:
    """Import an optional dependency of the ``uftp`` extra, with a clear message when missing."""
    try:
        return import_module(module)
    except ImportError as error:
        raise ImportError(
            f"fera_flex.standards.uftp needs {module.split('.')[0]} to {purpose}: "
            "install the extra with `pip install 'fera_flex[uftp]'`"
        ) from error


def render(root: ElementTree.Element) -> str:
    """A message as UTF-8 XML text with its declaration."""
    ElementTree.indent(root)
    return _DECLARATION + ElementTree.tostring(root, encoding="unicode") + "\n"


def parse(data: Any, where: str, max_bytes: int = MAX_MESSAGE_BYTES) -> ElementTree.Element:
    """The root element of an untrusted message (str or bytes), refusing DTDs and entities.

    Raises
    ------
    InputError
        For a message that is not text, is larger than ``max_bytes``, is not
        well-formed, or has a DTD, an entity or an external reference.
    """
    if isinstance(data, str):
        raw = data.encode("utf-8")
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    else:
        raise InputError(where, "xml", type(data).__name__, "must be str or bytes")
    if len(raw) > max_bytes:
        raise InputError(where, "xml", f"{len(raw)} bytes", f"exceeds the {max_bytes}-byte limit")
    defused = require("defusedxml", "read untrusted XML")
    etree = require("defusedxml.ElementTree", "read untrusted XML")
    try:
        return etree.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defused.DefusedXmlException as error:
        raise InputError(
            where,
            "xml",
            type(error).__name__,
            "refused: a UFTP message may not carry a DTD, entities or external references",
        ) from None
    except ElementTree.ParseError as error:
        raise InputError(where, "xml", str(error), "is not well-formed XML") from None


class Attributes:
    """Typed access to an element's attributes; errors name the message, the field and the value.

    Parameters
    ----------
    element : Element
    where : str
        The message, for errors (``"FlexOrder <MessageID>"``).
    prefix : str
        Prepended to field names in errors (``"ISP[3]."``).
    """

    def __init__(self, element: ElementTree.Element, where: str, prefix: str = "") -> None:
        self.element = element
        self.where = where
        self.prefix = prefix

    def error(self, name: str, value: Any, reason: str) -> InputError:
        """An :class:`InputError` about one attribute."""
        return InputError(self.where, self.prefix + name, value, reason)

    def text(self, name: str, default: str | None = None) -> str:
        """A string attribute (``default`` when absent; required when ``default`` is None)."""
        value = self.element.get(name)
        if value is None:
            if default is None:
                raise self.error(name, None, "is required")
            return default
        return value

    def optional(self, name: str) -> str | None:
        """A string attribute, or None when absent."""
        return self.element.get(name)

    def integer(self, name: str, default: int | None = None, low: int | None = None) -> int:
        """An ``xs:integer`` attribute, at least ``low`` when given."""
        text = self.text(name, None if default is None else str(default)).strip()
        if not _INTEGER.fullmatch(text):
            raise self.error(name, text, "must be an integer")
        value = int(text)
        if low is not None and value < low:
            raise self.error(name, value, f"must be >= {low}")
        return value

    def decimal(self, name: str, default: str | None = None) -> Decimal:
        """An ``xs:decimal`` attribute."""
        text = self.text(name, default).strip()
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise self.error(name, text, "must be a decimal number") from None
        if not value.is_finite() or "e" in text.lower():
            raise self.error(name, text, "must be a decimal number")
        return value

    def boolean(self, name: str) -> bool:
        """An ``xs:boolean`` attribute (false when absent)."""
        text = self.text(name, "false").strip()
        if text not in _BOOLEANS:
            raise self.error(name, text, "must be true or false")
        return _BOOLEANS[text]

    def day(self, name: str) -> date:
        """An ``xs:date`` attribute (``yyyy-mm-dd``)."""
        text = self.text(name).strip()
        try:
            if len(text) != 10:
                raise ValueError(text)
            return date.fromisoformat(text)
        except ValueError:
            raise self.error(name, text, "must be a date yyyy-mm-dd") from None

    def moment(self, name: str) -> datetime:
        """A UFTP DateTime attribute (ISO 8601 with a zone designator)."""
        text = self.text(name).strip()
        if not _DATE_TIME.fullmatch(text):
            raise self.error(name, text, "must be an ISO 8601 date-time with a zone designator")
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            raise self.error(name, text, "is not a valid date-time") from None

    def expect(self, name: str, wanted: str, reason: str) -> None:
        """Require an attribute to equal ``wanted``."""
        value = self.text(name)
        if value != wanted:
            raise self.error(name, value, f"{reason} ({wanted!r} expected)")


def message(root: ElementTree.Element, tag: str, context: str) -> Attributes:
    """The attributes of a received message whose root must be ``tag`` and of UFTP version 3."""
    if root.tag != tag:
        raise InputError(context, "root element", root.tag, f"must be {tag}")
    attributes = Attributes(root, f"{tag} {root.get('MessageID', '(no MessageID)')}")
    version = attributes.text("Version")
    if not re.fullmatch(r"3\.\d+\.\d+", version):
        raise attributes.error("Version", version, "must be a Shapeshifter 3.x version")
    return attributes


def children(attributes: Attributes, tag: str) -> list[Attributes]:
    """The attributes of each child element (every child must be a ``tag``; at least one)."""
    found = []
    for index, child in enumerate(attributes.element):
        if child.tag != tag:
            raise attributes.error(f"child [{index}]", child.tag, f"unexpected element: only {tag}")
        found.append(Attributes(child, attributes.where, f"{tag}[{index}]."))
    if not found:
        raise attributes.error(tag, None, "at least one element is required")
    return found


def isp_powers(
    elements: Sequence[Attributes], n_isps: int, value: Callable[[Attributes], Any]
) -> dict[int, Any]:
    """ISP number -> ``value(element)`` of ISP elements (``Start``, ``Duration``), each ISP once.

    Raises
    ------
    InputError
        For an ISP outside ``1..n_isps`` (the period) or addressed twice.
    """
    found: dict[int, Any] = {}
    for element in elements:
        start = element.integer("Start")
        duration = element.integer("Duration", default=1, low=1)
        if start < 1 or start + duration - 1 > n_isps:
            raise element.error(
                "Start",
                f"{start} (Duration {duration})",
                f"ISPs outside the period (1..{n_isps})",
            )
        item = value(element)
        for number in range(start, start + duration):
            if number in found:
                raise element.error("Start", start, f"ISP {number} is addressed twice")
            found[number] = item
    return found


def write_isps(parent: ElementTree.Element, first_isp: int, powers_w: np.ndarray) -> None:
    """ISP children of consecutive ISPs from ``first_isp``, equal neighbours merged by Duration."""
    values = [int(v) for v in powers_w]
    start = 0
    while start < len(values):
        stop = start + 1
        while stop < len(values) and values[stop] == values[start]:
            stop += 1
        ElementTree.SubElement(
            parent,
            "ISP",
            {
                "Power": str(values[start]),
                "Start": str(first_isp + start),
                "Duration": str(stop - start),
            },
        )
        start = stop
