"""The aggregator-DSO relation UFTP messages travel on: domains, congestion points, market time.

Examples
--------
>>> link = UftpLink(
...     agr_domain="agr.example.com", dso_domain="dso.example.com",
...     congestion_points={"trafo": "ea1.2026-03.dso.example.com:trafo"})
>>> link.isp_s, link.node_of("ea1.2026-03.dso.example.com:trafo", "FlexOrder", "CongestionPoint")
(900, 'trafo')
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from fera_flex.errors import InputError
from fera_flex.standards.uftp._periods import isp_seconds, time_zone_of

__all__ = ["UftpLink"]

_DOMAIN = re.compile(r"([a-z0-9]+(-[a-z0-9]+)*\.)+[a-z]{2,}")
_ENTITY_ADDRESS = re.compile(r"(ea1\.[0-9]{4}-[0-9]{2}\..{1,244}:.{1,244}|ean\.[0-9]{12,34})")
_WHERE = "UftpLink"


@dataclass(frozen=True)
class UftpLink:
    """Who trades with whom, at which congestion points, in which market time.

    fera_flex is the aggregator (AGR) side: it writes FlexOffers and
    D-Prognoses to the DSO and reads the DSO's FlexRequests and FlexOrders,
    checking that they come from ``dso_domain`` and are addressed to
    ``agr_domain``.

    Parameters
    ----------
    agr_domain, dso_domain : str
        Internet domains of the aggregator (us) and the DSO.
    congestion_points : mapping of str to str
        Grid node id -> the congestion point's entity address
        (``ea1.yyyy-mm.domain:local`` or ``ean.`` + 12 to 34 digits).
    time_zone : str
        The market's IANA time zone: Periods are its local dates.
    isp_duration : str
        The market's ISP length, ISO 8601 in minutes.
    """

    agr_domain: str
    dso_domain: str
    congestion_points: Mapping[str, str]
    time_zone: str = "Europe/Amsterdam"
    isp_duration: str = "PT15M"
    zone: ZoneInfo = field(init=False, repr=False, compare=False)
    isp_s: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("agr_domain", "dso_domain"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _DOMAIN.fullmatch(value):
                raise InputError(_WHERE, name, value, "must be a lower-case internet domain")
        if not isinstance(self.congestion_points, Mapping) or not self.congestion_points:
            raise InputError(
                _WHERE,
                "congestion_points",
                self.congestion_points,
                "must map node ids to entity addresses",
            )
        points = {str(node): address for node, address in self.congestion_points.items()}
        for node, address in points.items():
            if not isinstance(address, str) or not _ENTITY_ADDRESS.fullmatch(address):
                raise InputError(
                    _WHERE,
                    f"congestion_points[{node!r}]",
                    address,
                    "must be an entity address (ea1.yyyy-mm.domain:name or ean.<12-34 digits>)",
                )
        if len(set(points.values())) != len(points):
            raise InputError(
                _WHERE, "congestion_points", points, "two nodes share one entity address"
            )
        object.__setattr__(self, "congestion_points", points)
        object.__setattr__(self, "zone", time_zone_of(self.time_zone, _WHERE))
        object.__setattr__(self, "isp_s", isp_seconds(self.isp_duration, _WHERE, "isp_duration"))

    def entity_address(self, node_id: str, where: str) -> str:
        """The congestion point of a node."""
        try:
            return self.congestion_points[node_id]
        except KeyError:
            raise InputError(
                where, "node", node_id, "is not a congestion point of the link"
            ) from None

    def node_of(self, entity_address: str, where: str, attribute: str) -> str:
        """The node of a congestion point (an unknown one is an error naming the message)."""
        for node, address in self.congestion_points.items():
            if address == entity_address:
                return node
        raise InputError(where, attribute, entity_address, "unknown congestion point")
