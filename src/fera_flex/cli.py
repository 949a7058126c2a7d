"""The ``fera-flex`` command line (a front end: may import every layer).

Commands: ``solve`` (plan a scenario, write OCPI and OCPP profiles),
``offers`` (flexibility offers per grid node, as FERA objects or as S2, USEF,
OSCP or OpenADR messages), ``dispatch`` (turn an activation, ours or a
standard's answer to an offer, into per-EVSE OCPP profiles), ``validate``
(check OCPI, OCPP, FERA and scenario files) and ``demo`` (the bundled example,
end to end). ``fera-flex COMMAND --help`` describes each.

Exit codes: 0 done, 1 invalid input or a plan that failed, 2 wrong usage
(130 interrupted, 141 when the reader of the output went away).
Results go to stdout, errors to stderr; a progress bar is drawn on stderr
only when it is a terminal.

Examples
--------
>>> main(["validate", "--help"])  # doctest: +ELLIPSIS
usage: fera-flex validate [-h] ...
0
"""

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

__all__ = ["build_parser", "main"]

_METHODS = ("auto", "flow", "highs", "cvxpy")


def _positive(text: str) -> int:
    """An argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not >= 1")
    return value


def _add_plan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--method",
        choices=_METHODS,
        default="auto",
        help="solver backend (default: auto, the best one that supports the problem)",
    )


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--unit",
        choices=("W", "A"),
        default="W",
        help="charging rate unit of the profiles written (default: W)",
    )
    parser.add_argument(
        "--max-rows",
        type=_positive,
        default=40,
        metavar="N",
        help="rows printed per table (default: 40; the summary file has them all)",
    )


def _add_openadr_options(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    from fera_flex._cli_standards import MAX_DURATIONS

    group = parser.add_argument_group("NL-Flex (OpenADR 3.1)")
    group.add_argument(
        "--baseline-event",
        action="append",
        metavar="FILE",
        help="the DSO's NL-Flex baseline event of a group node (its targets; repeatable)",
    )
    group.add_argument(
        "--max-duration",
        choices=sorted(MAX_DURATIONS),
        default="PT6H",
        help="the group's MAX_DURATION: the longest FLEX dispatch (default: PT6H)",
    )
    return group


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    from fera_flex._cli_offers import OFFER_FORMATS
    from fera_flex._cli_standards import (
        DEFAULT_RECIPIENT_DOMAIN,
        DEFAULT_SENDER_DOMAIN,
        DISPATCH_TYPES,
    )

    parser = argparse.ArgumentParser(
        prog="fera-flex",
        description="EV smart-charging flexibility (FERA): plan a site, make and dispatch "
        "flexibility offers, validate OCPI/OCPP files.",
        epilog="Exit codes: 0 done, 1 invalid input or failed plan, 2 wrong usage.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    solve = sub.add_parser(
        "solve",
        help="plan a scenario; write OCPI ChargingProfiles and OCPP SetChargingProfileRequests",
        description="Plan every session of a scenario within every limit, print what each "
        "session gets and how full each grid node is, and (with -o) write the OCPI "
        "ChargingProfiles, the OCPP SetChargingProfileRequests per EVSE and a plan summary. "
        "A plan that cannot meet every need is still a plan (exit code 0): the table says "
        "which limit keeps each short session from its need.",
    )
    solve.add_argument("scenario", help="scenario JSON file")
    solve.add_argument("-o", "--output", metavar="DIR", help="folder to write the files into")
    _add_plan_options(solve)
    _add_output_options(solve)
    solve.add_argument(
        "--plot", action="store_true", help="also draw the site plan and session Gantt (PNG)"
    )

    offers = sub.add_parser(
        "offers",
        help="deliverable flexibility offers per grid node",
        description="Plan the scenario (the baseline), then compute one deliverable offer per "
        "grid node with sessions under it (or per --node), each on its own, print them and "
        "(with -o) write them, as FERA objects or as a standard's messages (--format): S2 "
        "takes battery offers, USEF options offers (one FlexOffer per node and local day).",
    )
    offers.add_argument("scenario", help="scenario JSON file")
    offers.add_argument(
        "--shape",
        help="offer shape, as fera_flex.flexibility_offers supports it (box, battery, options; "
        "default: the one the format takes, else box)",
    )
    offers.add_argument(
        "--window",
        nargs=2,
        metavar=("A", "B"),
        help="the slots offered: first and stop slot numbers, or RFC 3339 times "
        "(default: the whole horizon)",
    )
    offers.add_argument(
        "--node",
        action="append",
        metavar="ID",
        help="a grid node to make an offer for (repeatable; default: every node with sessions)",
    )
    offers.add_argument(
        "--format",
        choices=sorted(OFFER_FORMATS),
        default="native",
        help="; ".join(f"{name}: {fmt.description}" for name, fmt in OFFER_FORMATS.items()),
    )
    offers.add_argument("-o", "--output", metavar="DIR", help="folder to write the offers into")
    _add_plan_options(offers)
    usef = offers.add_argument_group("USEF/UFTP (--format usef)")
    usef.add_argument(
        "--sender-domain",
        default=DEFAULT_SENDER_DOMAIN,
        metavar="DOMAIN",
        help=f"our (the aggregator's) domain (default: {DEFAULT_SENDER_DOMAIN})",
    )
    usef.add_argument(
        "--recipient-domain",
        default=DEFAULT_RECIPIENT_DOMAIN,
        metavar="DOMAIN",
        help=f"the DSO's domain (default: {DEFAULT_RECIPIENT_DOMAIN}); congestion point of "
        "each node: ea1.<horizon's yyyy-mm>.<DSO domain>:<node id>",
    )
    usef.add_argument(
        "--expires",
        metavar="TIME",
        help="the offers' ExpirationDateTime, RFC 3339 (default: an hour from now)",
    )
    usef.add_argument(
        "--min-activation-factor",
        default="1.00",
        metavar="F",
        help="the least ActivationFactor the DSO may order, 0.01 to 1 (default: 1.00)",
    )
    nl_flex = _add_openadr_options(offers)
    nl_flex.add_argument(
        "--client-name",
        metavar="EAN13",
        help="the Service Provider's EAN13, signing the flex delta reports (--format openadr)",
    )

    dispatch = sub.add_parser(
        "dispatch",
        help="turn an activated flexibility profile into per-EVSE OCPP profiles",
        description="Disaggregate an activation (a FERA FlexibilityDispatch or a JSON array "
        "of them, a USEF FlexOrder, S2 FRBC or PEBC instructions) over the sessions, or plan "
        "under an NL-Flex FLEX event's caps; print how closely it is followed and (with -o) "
        "write the OCPI and OCPP profiles that deliver it. Exit code 1 when it cannot be "
        "followed.",
    )
    dispatch.add_argument("scenario", help="scenario JSON file")
    dispatch.add_argument("dispatch", help="the activation file (--type)")
    dispatch.add_argument(
        "--type",
        choices=sorted(DISPATCH_TYPES),
        help="; ".join(f"{name}: {text}" for name, text in DISPATCH_TYPES.items())
        + " (default: recognised from content)",
    )
    dispatch.add_argument(
        "--offer",
        metavar="FILE",
        help="what the activation answers, as `offers` wrote it: the FlexOffer XML (usef), "
        "the S2 messages (s2), the flex delta report (openadr, optional)",
    )
    dispatch.add_argument("-o", "--output", metavar="DIR", help="folder to write the files into")
    _add_plan_options(dispatch)
    _add_output_options(dispatch)
    _add_openadr_options(dispatch)

    from fera_flex._cli_validate import KINDS

    validate = sub.add_parser(
        "validate",
        help="check OCPI objects, OCPP messages, FERA objects and scenario files",
        description="Check each file (or OCPI site folder) and print every problem with its "
        "JSON path; exit code 1 when any is invalid. OCPP messages are also checked against "
        "the official OCA JSON schemas. Kinds: "
        + ", ".join(sorted(kind.name for kind in KINDS.values())),
    )
    validate.add_argument("files", nargs="+", metavar="FILE", help="JSON files or site folders")
    validate.add_argument(
        "--type", metavar="KIND", help="what the files hold (default: recognised from content)"
    )
    validate.add_argument(
        "--ocpp-schemas",
        metavar="DIR",
        help="folder of the OCPP 2.0.1 JSON schemas (default: those of the 'ocpp' package)",
    )

    demo = sub.add_parser(
        "demo",
        help="run the bundled example end to end",
        description="Summarise OCPI site folders and scenario files; for each scenario plan "
        "it, make a flexibility offer for its root node, dispatch it, and draw pictures.",
    )
    demo.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="scenario JSON files and/or OCPI site folders (default: the bundled examples)",
    )
    demo.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        help="folder for the pictures and files (default: a new temporary folder)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        The process exit code.
    """
    out, err = sys.stdout, sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help (0) or a usage error (2, already printed)
        return int(stop.code or 0)
    from fera_flex import _cli_commands

    try:
        return _cli_commands.run(args, parser, out, err)
    except KeyboardInterrupt:
        print(f"fera-flex {args.command}: interrupted", file=err)
        return 130
    except BrokenPipeError:  # the reader (``| head``) has gone: as a shell tool does, stop quietly
        with contextlib.suppress(AttributeError, OSError, ValueError):  # not a real file
            os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        return 141
