"""The ``fera-flex`` command line (a front end: may import every layer)."""

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


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
    parser = argparse.ArgumentParser(prog="fera-flex", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="summarise the bundled example data")
    demo.add_argument(
        "paths", nargs="+", help="scenario JSON files and/or OCPI site folders to summarise"
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        from fera_flex._demo import run_demo

        return run_demo(args.paths, out=sys.stdout)
    return 2  # pragma: no cover - argparse rejects unknown commands
