"""The standards of ``fera-flex offers --format`` and ``dispatch``: S2, USEF, OSCP, OpenADR.

Writers (``offers --format``), one file per offer (two for S2), named after
the offer's node, shape and window (``trafo_options_40-56.flex-offer.xml``):

- ``s2`` (battery offers): ``.s2-frbc.json`` and ``.s2-pebc.json``, each a
  JSON array of S2 messages (``s2-python``'s classes): a
  ResourceManagerDetails whose ``name`` is the node id (its ``resource_id``
  a UUID derived from the scenario's name and the node id) and that offers
  both control types, then the FRBC (or PEBC) messages of the node's offer
  (:mod:`fera_flex.standards.s2`).
- ``usef`` (options offers): ``.flex-offer.xml``, a UFTP 3.1 FlexOffer
  (:func:`fera_flex.standards.uftp.flex_offer`); offers are made per local
  day of the scenario's time zone (a FlexOffer covers one Period).
- ``oscp``: ``.oscp-adjust.json``, the OSCP 2.0 AdjustGroupCapacityForecast
  of the node's baseline plan (:func:`fera_flex.standards.oscp.adjust_forecast`,
  group id = node id) over the offer's window.
- ``openadr``: ``.openadr-flex-delta.json``, the NL-Flex flex delta report
  answering the node's baseline event: minus the reduction below
  ``ACTIVE_BASELINE`` that every 2/4/6-hour block of the offer's window can
  deliver (:func:`fera_flex.standards.openadr.available_flex`).

Defaults of the USEF link (:class:`~fera_flex.standards.uftp.UftpLink`): we
(the aggregator) are ``--sender-domain`` (``agr.example.com``), the DSO is
``--recipient-domain`` (``dso.example.com``); each node is a congestion
point at entity address ``ea1.<yyyy-mm>.<DSO domain>:<node id>``, the month
that of the horizon's start (UTC); the time zone is the one all the
scenario's Locations share; ISPs are 15 minutes. The FlexOffer's TimeStamp
is now, its ExpirationDateTime ``--expires`` (an hour from now by default),
its baseline named by a BaselineReference (a D-Prognosis must cover whole
local days, which a scenario's horizon rarely does).

Readers (``dispatch``), told apart by content or ``--type``: a USEF
FlexOrder (XML) read against the FlexOffer it answers (``--offer``); an S2
FRBC.Instruction or PEBC.Instruction (JSON, one or an array) read against
the S2 messages sent (``--offer``); an NL-Flex FLEX event (JSON) read into
the group node's limits (with ``--baseline-event`` and, to check the FLEX
called against what was offered, ``--offer`` the flex delta report).
The offer behind a FlexOffer or S2 messages is computed again from the
scenario, exactly as ``offers`` made it (same ``--method``), and must match
what the file says (to 1 W; S2 to float precision), else the file is refused.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any

from fera_flex.errors import InputError

__all__ = [
    "DEFAULT_RECIPIENT_DOMAIN",
    "DEFAULT_SENDER_DOMAIN",
    "DISPATCH_TYPES",
    "MAX_DURATIONS",
    "OpenAdrContext",
    "UsefContext",
    "WriteContext",
    "dispatch_type",
    "read_flex_event",
    "read_s2_instructions",
    "read_text",
    "read_usef_order",
    "write_openadr",
    "write_oscp",
    "write_s2",
    "write_usef",
]

DEFAULT_SENDER_DOMAIN = "agr.example.com"
"""Our (the aggregator's) UFTP domain unless ``--sender-domain`` says otherwise."""

DEFAULT_RECIPIENT_DOMAIN = "dso.example.com"
"""The DSO's UFTP domain unless ``--recipient-domain`` says otherwise."""

DISPATCH_TYPES = {
    "native": "a FERA FlexibilityDispatch (JSON object or array)",
    "usef": "a USEF/UFTP FlexOrder (XML; --offer: the FlexOffer it answers)",
    "s2": "S2 FRBC.Instruction or PEBC.Instruction messages (JSON; --offer: the S2 messages sent)",
    "openadr": "an NL-Flex (OpenADR 3.1) FLEX event (JSON; with --baseline-event)",
}
"""``dispatch --type`` values and what each file holds."""

MAX_DURATIONS = {"PT2H": timedelta(hours=2), "PT4H": timedelta(hours=4), "PT6H": timedelta(hours=6)}
"""NL-Flex MAX_DURATION values (``--max-duration``)."""

_WATT_TOLERANCE = 1.0
"""How far a FlexOffer's ISP power may be from the offer computed again [W] (its rounding)."""

_S2_RTOL, _S2_ATOL = 1e-9, 1e-9
"""How closely S2 messages must match the offer computed again (relative, and W or kWh)."""

_S2_FRBC, _S2_PEBC = "FRBC.Instruction", "PEBC.Instruction"


def _extra(module: str, extra: str) -> ModuleType:
    """Import an optional dependency, naming the extra that installs it when it is missing."""
    try:
        return import_module(module)
    except ImportError as error:
        raise ModuleNotFoundError(
            f"{module.split('.')[0]} is not installed: `pip install 'fera_flex[{extra}]'`"
        ) from error


def read_text(path: str, field: str, where: str = "fera-flex dispatch") -> str:
    """A file's text; an unreadable file is an :class:`InputError` naming the option."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise InputError(where, field, path, reason) from None


def _json(text: str, path: str, field: str, where: str = "fera-flex dispatch") -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise InputError(where, field, path, f"not valid JSON: {error}") from None


def _stem(offer: Any) -> str:
    """The file name stem of an offer: node, shape and window."""
    from fera_flex._cli_plan import _file_name

    first, stop = offer.window
    return _file_name(f"{offer.node_id}_{offer.shape}_{first}-{stop}")


@dataclass(frozen=True)
class WriteContext:
    """What a standard's writer gets besides the offers.

    Attributes
    ----------
    problem : ChargingProblem
    plan : ChargingPlan
        The baseline the offers were made around.
    prepared : object, optional
        What the format's ``prepare`` built (a :class:`UsefContext`, an
        :class:`OpenAdrContext`).
    """

    problem: Any
    plan: Any
    prepared: Any = None


# -- S2 --------------------------------------------------------------------------------------


def _resource_details(scenario: Any, resource: Any) -> Any:
    """The ResourceManagerDetails of a node's S2 resource: its name is the node id."""
    common = _extra("s2python.common", "s2")
    offer = resource.offer
    electricity = common.Commodity.ELECTRICITY
    roles = [common.Role(role=common.RoleType.ENERGY_CONSUMER, commodity=electricity)]
    if float(offer.power_min_kw.min()) < 0:  # it can discharge
        roles.append(common.Role(role=common.RoleType.ENERGY_PRODUCER, commodity=electricity))
    return common.ResourceManagerDetails(
        message_id=uuid.uuid4(),
        resource_id=uuid.uuid5(uuid.NAMESPACE_URL, f"fera-flex:{scenario.name}:{offer.node_id}"),
        name=offer.node_id,
        roles=roles,
        instruction_processing_delay=common.Duration(0),
        available_control_types=[
            common.ControlType.FILL_RATE_BASED_CONTROL,
            common.ControlType.POWER_ENVELOPE_BASED_CONTROL,
        ],
        provides_forecast=False,
        provides_power_measurement_types=[common.CommodityQuantity(resource.commodity_quantity)],
    )


def _s2_json(messages: Any) -> str:
    return json.dumps([json.loads(message.to_json()) for message in messages], indent=2) + "\n"


def write_s2(offers: Any, scenario: Any, context: WriteContext) -> dict[str, str]:
    """Each battery offer as its FRBC and its PEBC messages (see the module documentation)."""
    from fera_flex.standards.s2 import S2Resource, frbc_export, pebc_export

    files = {}
    for _, offer in offers:
        resource = S2Resource.of_node(context.problem, offer)
        details = _resource_details(scenario, resource)
        stem = _stem(offer)
        files[f"{stem}.s2-frbc.json"] = _s2_json([details, *frbc_export(resource).messages])
        files[f"{stem}.s2-pebc.json"] = _s2_json([details, *pebc_export(resource).messages])
    return files


def read_s2_instructions(text: str, path: str, offer_path: str | None, problem: Any, plan: Any):
    """The dispatch S2 instructions ask for, read against the S2 messages of ``offer_path``.

    Returns
    -------
    FlexibilityDispatch
        The node load the instructions ask for (see
        :func:`fera_flex.standards.s2.read_frbc_instructions` /
        :func:`~fera_flex.standards.s2.read_pebc_instructions`).
    """
    from fera_flex.standards.s2 import read_frbc_instructions, read_pebc_instructions

    where = "fera-flex dispatch"
    if offer_path is None:
        raise InputError(
            where,
            "--offer",
            None,
            "S2 instructions are read against the S2 messages they answer: give --offer FILE "
            "(the .s2-frbc.json or .s2-pebc.json that `fera-flex offers --format s2` wrote)",
        )
    data = _json(text, path, "DISPATCH")
    instructions = data if isinstance(data, list) else [data]
    kinds = {item.get("message_type") if isinstance(item, dict) else None for item in instructions}
    if len(kinds) != 1 or not kinds <= {_S2_FRBC, _S2_PEBC}:
        raise InputError(
            where,
            "DISPATCH",
            path,
            f"must hold {_S2_FRBC} or {_S2_PEBC} messages of one kind "
            f"(found {sorted(map(str, kinds))})",
        )
    frbc = kinds == {_S2_FRBC}
    sent = _sent_s2_messages(offer_path)
    details = [m for m in sent if m.message_type == "ResourceManagerDetails"]
    if len(details) != 1 or not details[0].name:
        raise InputError(
            f"--offer {offer_path}",
            "ResourceManagerDetails",
            len(details),
            "must be one, naming the node (`fera-flex offers --format s2` writes it first)",
        )
    node = details[0].name
    if node not in problem.node_ids:
        where = f"--offer {offer_path}"
        raise InputError(where, "ResourceManagerDetails.name", node, "is no node of the scenario")
    resource_id = str(details[0].resource_id)
    if frbc:
        export = _frbc_export(sent, offer_path, problem, plan, node, resource_id)
        return read_frbc_instructions(export, instructions)
    export = _pebc_export(sent, offer_path, problem, plan, node, resource_id)
    return read_pebc_instructions(export, instructions)


def _sent_s2_messages(offer_path: str) -> list[Any]:
    """The S2 messages of an ``--offer`` file, each parsed by s2-python's S2Parser."""
    parser = _extra("s2python.s2_parser", "s2").S2Parser
    invalid = _extra("s2python.s2_validation_error", "s2").S2ValidationError
    where = f"--offer {offer_path}"
    data = _json(read_text(offer_path, "--offer"), offer_path, "--offer")
    if not isinstance(data, list) or not data:
        kind = type(data).__name__
        raise InputError(where, "messages", kind, "must be a JSON array of S2 messages")
    messages = []
    for index, item in enumerate(data):
        try:
            messages.append(parser.parse_as_any_message(item))
        except invalid as error:
            raise InputError(where, f"[{index}]", error.msg, "refused by s2-python") from None
    return messages


def _of_type(messages: list[Any], message_type: str, where: str, hint: str) -> list[Any]:
    """The messages of one type (at least one)."""
    found = [m for m in messages if m.message_type == message_type]
    if not found:
        raise InputError(where, "messages", message_type, f"none found: {hint}")
    return found


def _single(messages: list[Any], message_type: str, where: str, hint: str) -> Any:
    """The one message of a type."""
    found = _of_type(messages, message_type, where, hint)
    if len(found) > 1:
        raise InputError(where, "messages", f"{len(found)} {message_type}", "must be one")
    return found[0]


def _s2_window(problem: Any, start: datetime, span_ms: int, where: str, field: str):
    """The problem slots ``(first, stop)`` that ``span_ms`` from ``start`` covers exactly."""
    grid = problem.grid
    step_ms = grid.step_s * 1000
    end_ms = (start.timestamp() - grid.start_s) * 1000 + span_ms
    if (
        not grid.is_aligned(start)
        or span_ms <= 0
        or span_ms % step_ms
        or not grid.start <= start
        or end_ms > grid.n * step_ms
    ):
        raise InputError(
            where,
            field,
            f"{start.isoformat()} + {span_ms} ms",
            f"must cover whole {grid.step_s} s slots of the scenario's horizon",
        )
    first = grid.index_of(start)
    return first, first + span_ms // step_ms


def _mismatch(where: str, field: str, got: float, wanted: float, node: str) -> InputError:
    return InputError(
        where,
        field,
        got,
        f"the scenario's battery offer for node {node!r} gives {wanted!r}: these messages come "
        "from another scenario, --method or window",
    )


def _close(where: str, field: str, got: float, wanted: float, node: str) -> None:
    if not abs(got - wanted) <= _S2_ATOL + _S2_RTOL * abs(wanted):
        raise _mismatch(where, field, got, wanted, node)


def _battery_resource(problem, plan, node, window, quantity):
    from fera_flex._cli_offers import make_offer
    from fera_flex.standards.s2 import S2Resource

    offer = make_offer(problem, plan, problem.node_index(node), "battery", window)
    return S2Resource.of_node(problem, offer, quantity)


def _frbc_power(description: Any, where: str, field: str) -> tuple[Any, Any, Any]:
    """The actuator id, operation mode id and power range of a system description of ours.

    ``offers --format s2`` writes one actuator with one operation mode of one
    element with one power range; anything else is not its file.
    """
    actuators = description.actuators
    modes = actuators[0].operation_modes if len(actuators) == 1 else []
    elements = modes[0].elements if len(modes) == 1 else []
    ranges = elements[0].power_ranges if len(elements) == 1 else []
    if len(ranges) != 1:
        raise InputError(
            where,
            f"{field}.actuators",
            len(actuators),
            "must be one actuator, one operation mode, one element, one power range",
        )
    return actuators[0].id, modes[0].id, ranges[0]


def _frbc_export(sent, offer_path, problem, plan, node, export_id):
    """The FrbcExport the messages are, after checking them against the offer computed again."""
    from fera_flex.standards.s2 import FrbcExport
    from fera_flex.units import w_from_kw

    where = f"--offer {offer_path}"
    hint = "an FRBC.Instruction answers FRBC messages (the .s2-frbc.json file)"
    descriptions = sorted(
        _of_type(sent, "FRBC.SystemDescription", where, hint), key=lambda d: d.valid_from
    )
    status = _single(sent, "FRBC.StorageStatus", where, hint)
    profile = _single(sent, "FRBC.FillLevelTargetProfile", where, hint)
    lengths = sorted({element.duration.root for element in profile.elements})
    if len(lengths) != 1:
        field = "FRBC.FillLevelTargetProfile.elements"
        raise InputError(where, field, lengths, "must all last one slot")
    window = _s2_window(
        problem,
        profile.start_time,
        len(profile.elements) * lengths[0],
        where,
        "FRBC.FillLevelTargetProfile",
    )
    powers = [
        _frbc_power(d, where, f"FRBC.SystemDescription[{k}]") for k, d in enumerate(descriptions)
    ]
    ids = {(actuator, mode) for actuator, mode, _ in powers}
    if len(ids) != 1:
        field = "FRBC.SystemDescription"
        raise InputError(where, field, len(ids), "must share one actuator and operation mode")
    ((actuator_id, mode_id),) = ids
    resource = _battery_resource(problem, plan, node, window, powers[0][2].commodity_quantity.value)
    offer, grid = resource.offer, resource.offer.grid
    stretches = resource.stretches()
    if len(stretches) != len(descriptions):
        raise _mismatch(where, "FRBC.SystemDescription", len(descriptions), len(stretches), node)
    for k, ((first, _), description, (_, _, power)) in enumerate(
        zip(stretches, descriptions, powers, strict=True)
    ):
        field = f"FRBC.SystemDescription[{k}]"
        begins = grid.start + timedelta(seconds=first * grid.step_s)
        if description.valid_from != begins:
            got = description.valid_from.isoformat()
            raise _mismatch(where, f"{field}.valid_from", got, begins.isoformat(), node)
        _close(
            where,
            f"{field} power start_of_range",
            power.start_of_range,
            float(w_from_kw(offer.power_min_kw[first])),
            node,
        )
        _close(
            where,
            f"{field} power end_of_range",
            power.end_of_range,
            float(w_from_kw(offer.power_max_kw[first])),
            node,
        )
    _close(
        where,
        "FRBC.StorageStatus.present_fill_level",
        status.present_fill_level,
        resource.fill_start_kwh,
        node,
    )
    for k, element in enumerate(profile.elements):
        band = element.fill_level_range
        field = f"FRBC.FillLevelTargetProfile.elements[{k}].fill_level_range"
        low = resource.fill_start_kwh + float(offer.energy_min_kwh[k])
        high = resource.fill_start_kwh + float(offer.energy_max_kwh[k])
        _close(where, f"{field}.start_of_range", band.start_of_range, low, node)
        _close(where, f"{field}.end_of_range", band.end_of_range, high, node)
    return FrbcExport(
        resource=resource,
        id=export_id,
        actuator_id=actuator_id,
        operation_mode_id=mode_id,
        system_descriptions=tuple(descriptions),
        storage_status=status,
        fill_level_target_profile=profile,
    )


def _pebc_export(sent, offer_path, problem, plan, node, export_id):
    """The PebcExport the messages are, after checking them against the offer computed again."""
    from fera_flex.standards.s2 import PebcExport
    from fera_flex.units import w_from_kw

    where = f"--offer {offer_path}"
    hint = "a PEBC.Instruction answers PEBC messages (the .s2-pebc.json file)"
    constraints = sorted(
        _of_type(sent, "PEBC.PowerConstraints", where, hint), key=lambda c: c.valid_from
    )
    energy = _single(sent, "PEBC.EnergyConstraint", where, hint)
    span_ms = (energy.valid_until - energy.valid_from) // timedelta(milliseconds=1)
    window = _s2_window(problem, energy.valid_from, span_ms, where, "PEBC.EnergyConstraint")
    quantity = constraints[0].allowed_limit_ranges[0].commodity_quantity.value
    resource = _battery_resource(problem, plan, node, window, quantity)
    offer, grid = resource.offer, resource.offer.grid
    stretches = resource.stretches()
    if len(stretches) != len(constraints):
        raise _mismatch(where, "PEBC.PowerConstraints", len(constraints), len(stretches), node)
    for k, ((first, stop), constraint) in enumerate(zip(stretches, constraints, strict=True)):
        field = f"PEBC.PowerConstraints[{k}]"
        begins = grid.start + timedelta(seconds=first * grid.step_s)
        ends = grid.start + timedelta(seconds=stop * grid.step_s)
        if (constraint.valid_from, constraint.valid_until) != (begins, ends):
            got = f"{constraint.valid_from.isoformat()}..{constraint.valid_until.isoformat()}"
            raise _mismatch(where, f"{field}.valid_from", got, f"{begins}..{ends}", node)
        for j, allowed in enumerate(constraint.allowed_limit_ranges):
            boundary = allowed.range_boundary
            name = f"{field}.allowed_limit_ranges[{j}].range_boundary"
            _close(
                where,
                f"{name}.start_of_range",
                boundary.start_of_range,
                float(w_from_kw(offer.power_min_kw[first])),
                node,
            )
            _close(
                where,
                f"{name}.end_of_range",
                boundary.end_of_range,
                float(w_from_kw(offer.power_max_kw[first])),
                node,
            )
    hours = grid.n * grid.dt_h
    _close(
        where,
        "PEBC.EnergyConstraint.upper_average_power",
        energy.upper_average_power,
        float(w_from_kw(float(offer.energy_max_kwh[-1]) / hours)),
        node,
    )
    _close(
        where,
        "PEBC.EnergyConstraint.lower_average_power",
        energy.lower_average_power,
        float(w_from_kw(float(offer.energy_min_kwh[-1]) / hours)),
        node,
    )
    return PebcExport(resource, export_id, tuple(constraints), energy)


# -- USEF / UFTP -----------------------------------------------------------------------------


def _link(problem: Any, agr_domain: str, dso_domain: str, time_zone: str, isp_duration: str):
    """The UFTP link with every node as a congestion point (see the module documentation)."""
    from fera_flex.standards.uftp import UftpLink

    month = f"{problem.grid.start:%Y-%m}"
    return UftpLink(
        agr_domain=agr_domain,
        dso_domain=dso_domain,
        congestion_points={node: f"ea1.{month}.{dso_domain}:{node}" for node in problem.node_ids},
        time_zone=time_zone,
        isp_duration=isp_duration,
    )


def _moment(text: str, where: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(where, field, text, "must be an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise InputError(where, field, text, "a time needs its UTC offset (or Z)")
    return moment


@dataclass(frozen=True)
class UsefContext:
    """What the ``usef`` writer needs: the link, the offers' expiry and activation, the clock.

    Attributes
    ----------
    link : UftpLink
    grid : TimeGrid
        The problem's slots (to cut windows into periods).
    expires, now : datetime
    min_activation_factor : str
    baseline_reference : str
    """

    link: Any
    grid: Any
    expires: datetime
    now: datetime
    min_activation_factor: str
    baseline_reference: str

    @classmethod
    def prepare(cls, args: Any, scenario: Any, problem: Any, nodes: Any) -> "UsefContext":
        """The link and the offer settings from ``--sender-domain`` and the other options."""
        del nodes  # every node is a congestion point
        from zoneinfo import ZoneInfo

        from fera_flex.plot import scenario_time_zone

        where = "fera-flex offers"
        zone = scenario_time_zone(scenario)
        if not isinstance(zone, ZoneInfo):
            raise InputError(
                where,
                "--format usef",
                str(zone),
                "UFTP needs the market's time zone: the scenario's Locations must share one "
                "time_zone (e.g. Europe/Amsterdam)",
            )
        now = datetime.now(timezone.utc).replace(microsecond=0)
        expires = now + timedelta(hours=1)
        if args.expires is not None:
            expires = _moment(args.expires, where, "--expires")
            if expires <= now:
                raise InputError(where, "--expires", args.expires, "must be after now")
        options = {"agr_domain": "--sender-domain", "dso_domain": "--recipient-domain"}
        try:
            link = _link(problem, args.sender_domain, args.recipient_domain, zone.key, "PT15M")
        except InputError as error:
            if error.field not in options:
                raise
            raise InputError(where, options[error.field], error.value, error.reason) from None
        return cls(
            link=link,
            grid=problem.grid,
            expires=expires,
            now=now,
            min_activation_factor=args.min_activation_factor,
            baseline_reference=f"{scenario.name}: fera-flex baseline plan",
        )

    def windows(self, window: tuple[int, int] | None) -> list[tuple[int, int]]:
        """The window cut at local midnight: one FlexOffer per Period."""
        from fera_flex.standards.uftp import period_windows

        first, stop = (0, self.grid.n) if window is None else window
        cut = [
            (max(a, first), min(b, stop))
            for _, (a, b) in period_windows(self.grid, self.link.time_zone)
            if max(a, first) < min(b, stop)
        ]
        if not cut:
            raise InputError(
                "fera-flex offers",
                "--window",
                (first, stop),
                f"holds no slot inside one local day of {self.link.time_zone}",
            )
        return cut


def write_usef(offers: Any, scenario: Any, context: WriteContext) -> dict[str, str]:
    """Each options offer as a UFTP FlexOffer (see the module documentation)."""
    del scenario  # named in the prepared BaselineReference
    from fera_flex.standards.uftp import flex_offer

    prepared = context.prepared
    files = {}
    for _, offer in offers:
        sent = flex_offer(
            prepared.link,
            context.problem,
            offer,
            expires=prepared.expires,
            min_activation_factor=prepared.min_activation_factor,
            baseline_reference=prepared.baseline_reference,
            now=prepared.now,
        )
        files[f"{_stem(offer)}.flex-offer.xml"] = sent.xml
    return files


def read_usef_order(text: str, path: str, offer_path: str | None, problem: Any, plan: Any):
    """The dispatch a FlexOrder asks for, read against the FlexOffer of ``offer_path``.

    Returns
    -------
    FlexibilityDispatch
        ``baseline + f * (option - baseline)`` on the offer's window
        (:func:`fera_flex.standards.uftp.read_flex_order`).
    """
    from fera_flex.standards.uftp import read_flex_order

    if offer_path is None:
        raise InputError(
            "fera-flex dispatch",
            "--offer",
            None,
            "a USEF FlexOrder is read against the FlexOffer it answers: give --offer FILE "
            "(the .flex-offer.xml that `fera-flex offers --format usef` wrote)",
        )
    sent, link = _sent_flex_offer(read_text(offer_path, "--offer"), offer_path, problem, plan)
    return read_flex_order(link, text, [sent]).dispatch


def _sent_flex_offer(xml: str, offer_path: str, problem: Any, plan: Any):
    """Our FlexOffer read back (and its link), its options computed again and compared."""
    import numpy as np

    from fera_flex._cli_offers import make_offer
    from fera_flex.standards.uftp import SentFlexOffer
    from fera_flex.standards.uftp._periods import period
    from fera_flex.standards.uftp._wire import children, isp_powers, message, parse
    from fera_flex.units import w_from_kw

    where = f"--offer {offer_path}"
    attributes = message(parse(xml, where), "FlexOffer", where)
    link = _link(
        problem,
        attributes.text("SenderDomain"),
        attributes.text("RecipientDomain"),
        attributes.text("TimeZone"),
        attributes.text("ISP-Duration"),
    )
    node = link.node_of(attributes.text("CongestionPoint"), attributes.where, "CongestionPoint")
    found = period(attributes.day("Period"), link.zone, link.isp_s)
    options = children(attributes, "OfferOption")
    powers = [
        isp_powers(children(option, "ISP"), found.n_isps, lambda isp: isp.integer("Power"))
        for option in options
    ]
    numbers = sorted(powers[0])
    if any(sorted(p) != numbers for p in powers) or numbers != list(
        range(numbers[0], numbers[-1] + 1)
    ):
        raise attributes.error("ISP", numbers, "options must cover the same consecutive ISPs")
    grid = problem.grid
    per_slot = grid.step_s // link.isp_s
    start_s = found.start_s + (numbers[0] - 1) * link.isp_s
    first, rest = divmod(start_s - grid.start_s, grid.step_s)
    if grid.step_s % link.isp_s or rest or len(numbers) % per_slot or first < 0:
        raise attributes.error("ISP", numbers[0], "does not start a slot of the scenario's horizon")
    window = (first, first + len(numbers) // per_slot)
    offer = make_offer(problem, plan, problem.node_index(node), "options", window)
    change_w = np.repeat(np.rint(w_from_kw(offer.options_kw - offer.baseline_kw)), per_slot, axis=1)
    written = np.array([[p[n] for n in numbers] for p in powers], dtype=np.int64)
    if written.shape != change_w.shape or np.abs(written - change_w).max() > _WATT_TOLERANCE:
        raise attributes.error(
            "OfferOption",
            f"{len(options)} options",
            f"are not the options the scenario gives node {node!r} on slots {window}: the "
            "offer was made from another scenario or --method",
        )
    factors = {option.decimal("MinActivationFactor", "1.00") for option in options}
    if len(factors) != 1:
        raise attributes.error("MinActivationFactor", sorted(map(str, factors)), "must be one")
    sent = SentFlexOffer(
        message_id=attributes.text("MessageID"),
        conversation_id=attributes.text("ConversationID"),
        xml=xml,
        node_id=node,
        congestion_point=link.entity_address(node, where),
        period=found.day,
        expires=attributes.moment("ExpirationDateTime"),
        offer=offer,
        option_references=tuple(option.text("OptionReference") for option in options),
        first_isp=numbers[0],
        isp_power_w=written,
        prices=tuple(option.decimal("Price") for option in options),
        min_activation_factor=factors.pop(),
        currency=attributes.text("Currency"),
    )
    return sent, link


# -- OSCP ------------------------------------------------------------------------------------


def write_oscp(offers: Any, scenario: Any, context: WriteContext) -> dict[str, str]:
    """Each node's AdjustGroupCapacityForecast of the baseline plan over the offer's window."""
    del scenario
    from fera_flex.standards.oscp import (
        AdjustGroupCapacityForecast,
        ForecastedBlock,
        adjust_forecast,
    )

    files = {}
    for _, offer in offers:
        whole = adjust_forecast(context.plan, offer.node_id)
        start, end = offer.grid.start, offer.grid.end
        forecast = AdjustGroupCapacityForecast(
            group_id=whole.group_id,
            type=whole.type,
            forecasted_blocks=[
                ForecastedBlock(
                    capacity=block.capacity,
                    phase=block.phase,
                    unit=block.unit,
                    start_time=max(block.start_time, start),
                    end_time=min(block.end_time, end),
                )
                for block in whole.forecasted_blocks
                if block.start_time < end and block.end_time > start
            ],
        )
        files[f"{_stem(offer)}.oscp-adjust.json"] = forecast.model_dump_json(indent=2) + "\n"
    return files


# -- OpenADR / NL-Flex -----------------------------------------------------------------------


def _baselines(paths: list[str] | None, problem: Any, where: str) -> dict[str, Any]:
    """Node id -> the NL-Flex baseline of the ``--baseline-event`` files that target it."""
    from pydantic import ValidationError

    from fera_flex._cli_commands import InvalidFileError
    from fera_flex.standards.openadr import read_baseline_event

    if not paths:
        raise InputError(
            where,
            "--baseline-event",
            None,
            "NL-Flex flex is reckoned below the group's ACTIVE_BASELINE: give the DSO's "
            "baseline event (--baseline-event FILE, one per group node)",
        )
    found: dict[str, Any] = {}
    for path in paths:
        try:
            baseline = read_baseline_event(read_text(path, "--baseline-event", where))
        except ValidationError as error:
            raise InvalidFileError(Path(path), error) from None
        for target in baseline.targets:
            if target not in problem.node_ids:
                raise InputError(
                    f"NL-Flex baseline event {baseline.event_id!r}",
                    "targets",
                    target,
                    "is no node of the scenario (the resource group is a grid node)",
                )
            if target in found:
                raise InputError(
                    where,
                    "--baseline-event",
                    path,
                    f"a second baseline for {target!r} (also event {found[target].event_id!r})",
                )
            found[target] = baseline
    return found


@dataclass(frozen=True)
class OpenAdrContext:
    """What the ``openadr`` writer needs: each node's baseline, our EAN13, the MAX_DURATION.

    Attributes
    ----------
    baselines : dict of str to NlFlexBaseline
    client_name : str
    max_duration : timedelta
    """

    baselines: dict[str, Any]
    client_name: str
    max_duration: timedelta

    @classmethod
    def prepare(cls, args: Any, scenario: Any, problem: Any, nodes: Any) -> "OpenAdrContext":
        """The baselines of the offered nodes and the Service Provider's EAN13, checked."""
        del scenario
        from fera_flex.standards.openadr._rules import check_ean13

        where = "fera-flex offers"
        if args.client_name is None:
            raise InputError(
                where,
                "--client-name",
                None,
                "NL-Flex reports are signed with the Service Provider's EAN13: give --client-name",
            )
        check_ean13(where, args.client_name)
        baselines = _baselines(args.baseline_event, problem, where)
        missing = [problem.node_ids[k] for k in nodes if problem.node_ids[k] not in baselines]
        if missing:
            raise InputError(
                where,
                "--baseline-event",
                missing,
                "no baseline event targets these nodes (pick them with --node, or add events)",
            )
        return cls(baselines, args.client_name, MAX_DURATIONS[args.max_duration])


def write_openadr(offers: Any, scenario: Any, context: WriteContext) -> dict[str, str]:
    """Each node's NL-Flex flex delta report (see the module documentation)."""
    del scenario
    from fera_flex.standards.openadr import available_flex, flex_delta_report, to_json

    prepared = context.prepared
    files = {}
    for _, offer in offers:
        baseline = prepared.baselines[offer.node_id]
        available = available_flex(
            context.problem,
            offer.node_id,
            baseline.active_kw,
            window=(offer.grid.start, offer.grid.end),
            max_duration=prepared.max_duration,
        )
        report = flex_delta_report(baseline.event_id, prepared.client_name, available.offered_kw)
        files[f"{_stem(offer)}.openadr-flex-delta.json"] = (
            json.dumps(to_json(report), indent=2) + "\n"
        )
    return files


def read_flex_event(text: str, path: str, args: Any, problem: Any):
    """An NL-Flex FLEX event, every rule checked, and the baseline of its group.

    With ``args.offer`` (our flex delta report for the group's baseline
    event) no FLEX value may exceed the flex it offered.

    Returns
    -------
    (FlexDispatch, NlFlexBaseline)
    """
    from pydantic import ValidationError

    from fera_flex._cli_commands import InvalidFileError
    from fera_flex.standards import openadr

    where = "fera-flex dispatch"
    baselines = _baselines(args.baseline_event, problem, where)
    offered = None
    if args.offer is not None:
        try:
            offered = openadr.read_flex_delta_report(read_text(args.offer, "--offer"))
        except ValidationError as error:
            raise InvalidFileError(Path(args.offer), error) from None
    max_duration = MAX_DURATIONS[args.max_duration]
    try:
        dispatch = openadr.read_flex_event(
            text,
            max_duration=max_duration,
            available_kw=None if offered is None else offered.active_kw,
        )
    except ValidationError as error:
        raise InvalidFileError(Path(path), error) from None
    baseline = baselines.get(dispatch.group)
    if baseline is None:
        raise InputError(
            f"NL-Flex FLEX event {dispatch.event_id!r}",
            "targets",
            dispatch.group,
            "no --baseline-event targets this group",
        )
    if offered is not None and offered.event_id != baseline.event_id:
        raise InputError(
            where,
            "--offer",
            args.offer,
            f"answers event {offered.event_id!r}, not the baseline event "
            f"{baseline.event_id!r} of group {dispatch.group!r}",
        )
    return dispatch, baseline


# -- telling dispatch files apart ------------------------------------------------------------


def dispatch_type(text: str, path: str, given: str | None) -> str:
    """The ``--type`` of a dispatch file: as given, else from its content."""
    if given is not None:
        return given
    if text.lstrip().startswith("<"):
        return "usef"
    data = _json(text, path, "DISPATCH")
    first = data[0] if isinstance(data, list) and data else data
    if isinstance(first, dict):
        if first.get("message_type") in (_S2_FRBC, _S2_PEBC):
            return "s2"
        if first.get("objectType") == "EVENT":
            return "openadr"
    return "native"
