"""The UFTP SignedMessage envelope: NaCl ``crypto_sign`` with the sender's Ed25519 key.

A message travels as ``<SignedMessage SenderDomain=".." SenderRole=".." Body=".."/>``
whose ``Body`` is the base64 of NaCl's sealed message: the 64-byte Ed25519
signature followed by the inner XML (Shapeshifter's cryptographic scheme 1).
:func:`seal` signs our outgoing XML with our 64-byte private signing key;
:func:`unseal` accepts an incoming envelope only when ``crypto_sign_open``
verifies it with the sender's public key, and only when the inner message's
``SenderDomain`` is the envelope's. Both need PyNaCl (the ``uftp`` extra).

Keys are given as base64 text, as Shapeshifter publishes and exchanges
them: the private key is the 64-byte NaCl signing key, the public key the
32-byte verify key, or the ``cs1.`` string a DNS record carries (verify key,
then optionally the 32-byte encryption key).

Examples
--------
>>> from base64 import b64encode
>>> from nacl.bindings import crypto_sign_keypair
>>> public, private = (b64encode(key).decode() for key in crypto_sign_keypair())
>>> inner = '<TestMessage Version="3.1.0" SenderDomain="agr.example.com"/>'
>>> unseal(seal(inner, private), public) == inner
True
"""

import binascii
from base64 import b64decode, b64encode
from typing import Any
from xml.etree import ElementTree

from fera_flex.errors import InputError
from fera_flex.standards.uftp._wire import MAX_MESSAGE_BYTES, Attributes, parse, render, require

__all__ = ["SignatureError", "seal", "unseal"]

_ROLES = ("AGR", "CRO", "DSO")
_SIGNATURE_BYTES = 64


class SignatureError(InputError):
    """A SignedMessage whose signature does not verify with the sender's public key."""


def seal(xml: str | bytes, private_key: str, *, sender_role: str = "AGR") -> str:
    """The SignedMessage envelope of one of our messages, signed with our private key.

    Parameters
    ----------
    xml : str or bytes
        The inner message (its ``SenderDomain`` becomes the envelope's).
    private_key : str
        Our 64-byte NaCl signing key, base64.
    sender_role : {"AGR", "CRO", "DSO"}

    Returns
    -------
    str
        The SignedMessage XML.
    """
    where = "seal"
    if sender_role not in _ROLES:
        raise InputError(where, "sender_role", sender_role, f"must be one of {_ROLES}")
    raw = xml.encode("utf-8") if isinstance(xml, str) else bytes(xml)
    sender = Attributes(parse(raw, where), where).text("SenderDomain")
    key = _key(private_key, where, "private_key", (_SIGNATURE_BYTES,))
    bindings = require("nacl.bindings", "sign messages")
    body = b64encode(bindings.crypto_sign(raw, key)).decode("ascii")
    envelope = ElementTree.Element(
        "SignedMessage", {"SenderDomain": sender, "SenderRole": sender_role, "Body": body}
    )
    return render(envelope)


def unseal(signed_xml: str | bytes, public_key: str, *, max_bytes: int = MAX_MESSAGE_BYTES) -> str:
    """The inner message of a SignedMessage, once its signature verifies.

    Parameters
    ----------
    signed_xml : str or bytes
        The SignedMessage envelope as received.
    public_key : str
        The sender's 32-byte verify key, base64 (or its ``cs1.`` DNS string).
    max_bytes : int
        Largest envelope and inner message accepted [bytes].

    Returns
    -------
    str
        The verified inner XML.

    Raises
    ------
    SignatureError
        When the signature does not verify with ``public_key`` (a tampered or
        wrongly signed message).
    InputError
        For an envelope that is not a well-formed SignedMessage, a Body that
        is not base64, or an inner message from another domain.
    """
    root = parse(signed_xml, "unseal", max_bytes)
    if root.tag != "SignedMessage":
        raise InputError("unseal", "root element", root.tag, "must be SignedMessage")
    envelope = Attributes(root, "SignedMessage")
    sender, role = envelope.text("SenderDomain"), envelope.text("SenderRole")
    envelope.where = f"SignedMessage from {sender} ({role})"
    if role not in _ROLES:
        raise envelope.error("SenderRole", role, f"must be one of {_ROLES}")
    text = envelope.text("Body")
    try:
        sealed = b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise envelope.error("Body", f"{len(text)} characters", "is not base64") from None
    key = _key(public_key, envelope.where, "public_key", (32,))
    nacl = require("nacl.exceptions", "verify signatures")
    bindings = require("nacl.bindings", "verify signatures")
    try:
        inner = bindings.crypto_sign_open(sealed, key)
    except nacl.BadSignatureError:
        raise SignatureError(
            envelope.where,
            "Body",
            f"{len(sealed)} bytes",
            "the signature does not verify with the sender's public key: message rejected",
        ) from None
    message = Attributes(parse(inner, envelope.where, max_bytes), envelope.where)
    inner_sender = message.text("SenderDomain")
    if inner_sender != sender:
        raise InputError(
            envelope.where,
            "SenderDomain",
            inner_sender,
            f"the inner {message.element.tag}'s sender is not the envelope's {sender!r}",
        )
    return inner.decode("utf-8")


def _key(value: Any, where: str, name: str, sizes: tuple[int, ...]) -> bytes:
    """A base64 key (a ``cs1.`` public key string keeps its first 32 bytes)."""
    if not isinstance(value, str):
        raise InputError(where, name, type(value).__name__, "must be a base64 string")
    text, scheme = (value[4:], True) if value.startswith("cs1.") else (value, False)
    try:
        key = b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(where, name, "(hidden)", "is not base64") from None
    if scheme and len(key) in (32, 64):
        key = key[:32]
    if len(key) not in sizes:
        raise InputError(where, name, f"{len(key)} bytes", f"must decode to {sizes[0]} bytes")
    return key
