"""``fera-flex offers``: deliverable flexibility offers per node, written in a chosen format.

The formats live in one registry, :data:`OFFER_FORMATS` (format name ->
:class:`OfferFormat`); ``--format`` offers its keys. A standard's export (S2,
USEF, OSCP, OpenADR) plugs in by adding an entry whose ``write`` turns the
offers into that standard's text.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from fera_flex.errors import InputError

if TYPE_CHECKING:  # importing them needs the solvers; ``fera-flex --help`` should not
    from fera_flex.flexibility.offers import NodeOffer
    from fera_flex.models.scenario import Scenario
    from fera_flex.timeseries import TimeGrid

__all__ = ["OFFER_FORMATS", "OfferFormat", "offer_id", "offer_table", "parse_window"]


@dataclass(frozen=True)
class OfferFormat:
    """How offers are written in one format.

    Attributes
    ----------
    description : str
        One line for ``--help``.
    file_name : str
        The file written into the output folder.
    write : callable
        ``write(offers, scenario) -> str``: the file's text, from the
        ``(offer id, NodeOffer)`` pairs and the scenario they are for.
    """

    description: str
    file_name: str
    write: Callable[[Sequence[tuple[str, "NodeOffer"]], "Scenario"], str]


def _native(offers: Sequence[tuple[str, "NodeOffer"]], scenario: "Scenario") -> str:
    """The offers as a JSON array of FERA FlexibilityOffer objects."""
    del scenario  # the FERA objects name their node and time grid themselves
    items = [offer.to_fera(identifier).model_dump(mode="json") for identifier, offer in offers]
    return json.dumps(items, indent=2) + "\n"


OFFER_FORMATS: dict[str, OfferFormat] = {
    "native": OfferFormat(
        "a JSON array of FERA FlexibilityOffer objects (NodeOffer.to_fera)",
        "offers.json",
        _native,
    ),
}
"""Format name -> how to write offers in it."""


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
