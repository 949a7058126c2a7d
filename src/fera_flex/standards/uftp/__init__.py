"""USEF / Shapeshifter UFTP 3.1: FlexOffers, D-Prognoses, FlexOrders and FlexRequests in XML.

fera_flex speaks UFTP as the aggregator (AGR) to a DSO, per congestion point
(a grid node of the problem) and Period (a local date of the market's time
zone), with no runtime dependency on ``shapeshifter-uftp``: messages are
written with :mod:`xml.etree.ElementTree` and read with ``defusedxml``
(no DTD, entity or external reference; a size limit), sealed and unsealed
with PyNaCl (both in the ``uftp`` extra, imported when first needed).

Conventions
-----------
- **Sign and unit**: power in W, integer, positive for consumption (power
  towards the prosumer), negative for production.
- **ISPs**: numbered from 1 at local midnight of the Period, ``ISP-Duration``
  long (``PT15M``); 92 or 100 of them on the days the clocks change. A
  problem slot holds one or more whole ISPs.
- **Offers carry changes**: a FlexOffer's (and so a FlexOrder's) ISP power is
  the change against the baseline, not the absolute load; a FlexRequest's
  MinPower / MaxPower bound that change; a D-Prognosis carries the absolute
  planned load (the baseline). Loads are the net EV load of the node's
  subtree.
- **Activation**: a FlexOrder at ActivationFactor ``f`` asks for
  ``baseline + f * (option - baseline)``, deliverable for every ``f`` in
  ``[MinActivationFactor, 1]`` (see :mod:`fera_flex.standards.uftp.offers`).

Examples
--------
An options offer of a node, as a FlexOffer to the DSO, sealed with our key:

>>> from base64 import b64encode
>>> from datetime import datetime, timedelta, timezone
>>> from nacl.bindings import crypto_sign_keypair
>>> import fera_flex as ff
>>> from fera_flex.flexibility import options_offer
>>> from fera_flex.scenarios import residential_street
>>> problem = ff.ChargingProblem.from_scenario(residential_street())
>>> plan = ff.schedule(problem)
>>> link = UftpLink(agr_domain="agr.example.com", dso_domain="dso.example.com",
...                 congestion_points={"lv-feeder": "ea1.2026-03.dso.example.com:lv"})
>>> day, window = period_windows(problem.grid, link.time_zone)[0]
>>> day, window  # from 12:00 CET to local midnight
(datetime.date(2026, 3, 2), (0, 48))
>>> offer = options_offer(problem, "lv-feeder", plan, window=window)
>>> now = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
>>> sent = flex_offer(link, problem, offer, expires=now + timedelta(hours=6),
...                   min_activation_factor=0.5, baseline_reference="plan-1", now=now)
>>> sent.first_isp, sent.isp_power_w.shape[1]
(49, 48)
>>> public, private = (b64encode(key).decode() for key in crypto_sign_keypair())
>>> unseal(seal(sent.xml, private), public) == sent.xml
True
"""

from fera_flex.standards.uftp._flex_message import UftpMessage
from fera_flex.standards.uftp._periods import period_windows
from fera_flex.standards.uftp._wire import MAX_MESSAGE_BYTES, VERSION
from fera_flex.standards.uftp.link import UftpLink
from fera_flex.standards.uftp.offers import (
    ReceivedFlexOrder,
    SentFlexOffer,
    flex_offer,
    read_flex_order,
)
from fera_flex.standards.uftp.prognosis import d_prognosis
from fera_flex.standards.uftp.requests import ReceivedFlexRequest, read_flex_request
from fera_flex.standards.uftp.sealing import SignatureError, seal, unseal

__all__ = [
    "MAX_MESSAGE_BYTES",
    "VERSION",
    "ReceivedFlexOrder",
    "ReceivedFlexRequest",
    "SentFlexOffer",
    "SignatureError",
    "UftpLink",
    "UftpMessage",
    "d_prognosis",
    "flex_offer",
    "period_windows",
    "read_flex_order",
    "read_flex_request",
    "seal",
    "unseal",
]
