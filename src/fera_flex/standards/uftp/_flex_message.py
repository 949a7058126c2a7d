"""The attributes every Flex* message shares, written for the DSO and checked when received.

Metadata (Version, SenderDomain, RecipientDomain, TimeStamp, MessageID,
ConversationID) and the flex attributes (ISP-Duration, TimeZone, Period,
CongestionPoint).
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from xml.etree import ElementTree

from fera_flex._time import require_aware
from fera_flex.standards.uftp._periods import Period, period
from fera_flex.standards.uftp._wire import VERSION, Attributes, children, message
from fera_flex.standards.uftp.link import UftpLink

__all__ = ["Received", "UftpMessage", "outgoing", "received", "timestamp"]


@dataclass(frozen=True)
class UftpMessage:
    """A message we wrote.

    Attributes
    ----------
    message_id, conversation_id : str
        Its MessageID and ConversationID (UUIDs).
    xml : str
        The message (seal it with :func:`~fera_flex.standards.uftp.seal` to send it).
    """

    message_id: str
    conversation_id: str
    xml: str


def timestamp(value: datetime) -> str:
    """A UFTP DateTime (ISO 8601 to the second, with its UTC offset)."""
    return value.replace(microsecond=0).isoformat()


def outgoing(
    tag: str,
    link: UftpLink,
    node_id: str,
    day: date,
    conversation_id: str | None,
    now: datetime | None,
    where: str,
) -> tuple[ElementTree.Element, str, str]:
    """The root of a message from the AGR to the DSO, its MessageID and ConversationID."""
    now = datetime.now(timezone.utc) if now is None else require_aware(where, "now", now)
    message_id = str(uuid.uuid4())
    conversation_id = str(uuid.uuid4()) if conversation_id is None else str(conversation_id)
    root = ElementTree.Element(
        tag,
        {
            "Version": VERSION,
            "SenderDomain": link.agr_domain,
            "RecipientDomain": link.dso_domain,
            "TimeStamp": timestamp(now),
            "MessageID": message_id,
            "ConversationID": conversation_id,
            "ISP-Duration": link.isp_duration,
            "TimeZone": link.time_zone,
            "Period": day.isoformat(),
            "CongestionPoint": link.entity_address(node_id, where),
        },
    )
    return root, message_id, conversation_id


@dataclass(frozen=True)
class Received:
    """The shared attributes of a Flex* message from the DSO, checked against the link."""

    attributes: Attributes
    message_id: str
    conversation_id: str
    time_stamp: datetime
    node_id: str
    period: Period
    isps: list[Attributes]


def received(root: ElementTree.Element, tag: str, link: UftpLink, context: str) -> Received:
    """Check a DSO message: its type, version, domains, market time and congestion point."""
    attributes = message(root, tag, context)
    attributes.expect("SenderDomain", link.dso_domain, "must be the DSO's domain")
    attributes.expect("RecipientDomain", link.agr_domain, "must be our (the AGR's) domain")
    attributes.expect("ISP-Duration", link.isp_duration, "must be the market's ISP duration")
    attributes.expect("TimeZone", link.time_zone, "must be the market's time zone")
    node_id = link.node_of(attributes.text("CongestionPoint"), attributes.where, "CongestionPoint")
    return Received(
        attributes=attributes,
        message_id=attributes.text("MessageID"),
        conversation_id=attributes.text("ConversationID"),
        time_stamp=attributes.moment("TimeStamp"),
        node_id=node_id,
        period=period(attributes.day("Period"), link.zone, link.isp_s),
        isps=children(attributes, "ISP"),
    )
