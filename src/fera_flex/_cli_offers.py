"""``fera-flex offers``: deliverable flexibility offers per node, written in a chosen format.

The formats live in one registry, :data:`OFFER_FORMATS` (format name ->
:class:`OfferFormat`); ``--format`` offers its keys. ``native`` writes the
offers as FERA objects; ``s2``, ``usef``, ``oscp`` and ``openadr`` write
each offer as that standard's own message(s), one file per offer (see
:mod:`fera_flex._cli_standards`).
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from fera_flex import _cli_standards
from fera_flex.errors import InputError

if TYPE_CHECKING:  # importing them needs the solvers; ``fera-flex --help`` should not
    from fera_flex.flexibility.offers import NodeOffer
    from fera_flex.models.scenario import Scenario
    from fera_flex.timeseries import TimeGrid

__all__ = [
    "OFFER_FORMATS",
    "OfferFormat",
    "format_shape",
    "make_offer",
    "offer_id",
    "offer_table",
    "parse_window",
]


@dataclass(frozen=True)
class OfferFormat:
    """How offers are written in one format.

    Attributes
    ----------
    description : str
        One line for ``--help``.
    write : callable
        ``write(offers, scenario, context=None)``, from the ``(offer id,
        NodeOffer)`` pairs and the scenario they are for: the text of
        ``file_name`` when the format writes one file, else a mapping of file
        names to texts (one or more files per offer).
    file_name : str, optional
        The one file written into the output folder, if there is one.
    shapes : tuple of str
        The ``--shape`` values the format takes (empty: any); the first is
        its default.
    prepare : callable, optional
        ``prepare(args, scenario, problem, nodes) -> context``: checks the
        format's options and builds what ``write`` needs before any offer is
        computed (``write`` then gets a :class:`~fera_flex._cli_standards.WriteContext`).
        A context with a ``windows(window)`` method splits the window: the
        windows to make offers for (one per local day for UFTP).
    """

    description: str
    write: Callable[..., Any]
    file_name: str | None = None
    shapes: tuple[str, ...] = ()
    prepare: Callable[..., Any] | None = None


def _native(
    offers: Sequence[tuple[str, "NodeOffer"]], scenario: "Scenario", context: Any = None
) -> str:
    """The offers as a JSON array of FERA FlexibilityOffer objects."""
    del scenario, context  # the FERA objects name their node and time grid themselves
    items = [offer.to_fera(identifier).model_dump(mode="json") for identifier, offer in offers]
    return json.dumps(items, indent=2) + "\n"


OFFER_FORMATS: dict[str, OfferFormat] = {
    "native": OfferFormat(
        "a JSON array of FERA FlexibilityOffer objects (NodeOffer.to_fera)",
        _native,
        file_name="offers.json",
    ),
    "s2": OfferFormat(
        "battery offers as S2 FRBC and PEBC messages, each behind a ResourceManagerDetails "
        "naming the node (<offer>.s2-frbc.json, <offer>.s2-pebc.json)",
        _cli_standards.write_s2,
        shapes=("battery",),
    ),
    "usef": OfferFormat(
        "options offers as USEF/UFTP 3.1 FlexOffers, one per node and local day of the "
        "scenario's time zone (<offer>.flex-offer.xml)",
        _cli_standards.write_usef,
        shapes=("options",),
        prepare=_cli_standards.UsefContext.prepare,
    ),
    "oscp": OfferFormat(
        "the OSCP 2.0 AdjustGroupCapacityForecast of each node's baseline plan over the "
        "offer's window (<offer>.oscp-adjust.json)",
        _cli_standards.write_oscp,
    ),
    "openadr": OfferFormat(
        "the NL-Flex (OpenADR 3.1) flex delta report of each node: the ACTIVE_FLEX_DELTA every "
        "block of the window can deliver below the --baseline-event "
        "(<offer>.openadr-flex-delta.json)",
        _cli_standards.write_openadr,
        prepare=_cli_standards.OpenAdrContext.prepare,
    ),
}
"""Format name -> how to write offers in it."""


def format_shape(name: str, shape: str | None) -> str:
    """The ``--shape`` to use with ``--format name`` (its default when ``shape`` is None).

    Raises
    ------
    InputError
        When the format does not take that shape (naming the ones it takes).
    """
    shapes = OFFER_FORMATS[name].shapes
    if shape is None:
        return shapes[0] if shapes else "box"
    if shapes and shape not in shapes:
        raise InputError(
            "fera-flex offers",
            "--shape",
            shape,
            f"--format {name} takes --shape {' or '.join(shapes)}",
        )
    return shape


def make_offer(problem, plan, node: int, shape: str, window: tuple[int, int] | None) -> "NodeOffer":
    """The offer ``fera-flex offers`` makes for a node.

    Every node with sessions counts as offering at the same time, whichever
    ``--node`` were asked for: the limits above are shared between all of
    them (:mod:`fera_flex.flexibility.sharing`), so any offers the command
    writes can be activated together. ``dispatch`` computes it again the
    same way to read a standard's answer to it.
    """
    from fera_flex.flexibility.offers import flexibility_offers

    offering = problem.nodes_with_sessions().tolist()
    (offer,) = flexibility_offers(
        problem, plan, nodes=[node], shape=shape, window=window, rivals=offering
    )
    return offer


def offer_id(scenario: "Scenario", offer: "NodeOffer") -> str:
    """A readable, unique id of an offer: scenario, node, shape and window slots."""
    first, stop = offer.window
    return f"{scenario.name}/{offer.node_id}/{offer.shape}/{first}-{stop}"


def parse_window(values: Sequence[str], grid: "TimeGrid") -> tuple[int, int]:
    """``--window A B``: slot numbers, or RFC 3339 times on the grid (``B`` is exclusive).

    Raises
    ------
    InputError
        For a value that is neither, a time without offset, or one off the grid.
    """
    return _slot(values[0], grid), _slot(values[1], grid)


def _slot(text: str, grid: "TimeGrid") -> int:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            "fera-flex offers", "--window", text, "must be a slot number or an RFC 3339 time"
        ) from None
    if moment.tzinfo is None:
        raise InputError("fera-flex offers", "--window", text, "a time needs its UTC offset (or Z)")
    if not grid.is_aligned(moment):
        raise InputError(
            "fera-flex offers",
            "--window",
            text,
            f"is not on the horizon's {grid.step_s} s slots from {grid.start.isoformat()}",
        )
    return int((moment.timestamp() - grid.start_s) // grid.step_s)


def _local(moment: datetime, zone: tzinfo) -> str:
    return f"{moment.astimezone(zone):%m-%d %H:%M}"


def offer_table(offers: Sequence[tuple[str, "NodeOffer"]], zone: tzinfo) -> list[str]:
    """One row per offer: window, baseline energy, largest down and up room, what it keeps."""
    from fera_flex._cli_plan import table

    rows = []
    for identifier, offer in offers:
        grid = offer.grid
        baseline_kwh = float(offer.baseline_kw.sum() * grid.dt_h)
        down_kw = float((offer.baseline_kw - offer.power_min_kw).max())
        up_kw = float((offer.power_max_kw - offer.baseline_kw).max())
        costs = (
            "-"
            if offer.option_cost_eur is None
            else " ".join(f"{cost:+.2f}" for cost in offer.option_cost_eur)
        )
        rows.append(
            [
                identifier,
                f"{_local(grid.start, zone)} - {_local(grid.end, zone)}",
                f"{baseline_kwh:.1f}",
                f"{down_kw:.1f}",
                f"{up_kw:.1f}",
                f"{100 * offer.kept_down:.0f}%",
                f"{100 * offer.kept_up:.0f}%",
                costs,
            ]
        )
    return table(
        [
            "offer",
            f"window ({zone})",
            "baseline kWh",
            "down kW",
            "up kW",
            "kept down",
            "kept up",
            "option costs EUR",
        ],
        rows,
    )
