"""The ``fera-flex`` commands behind :func:`fera_flex.cli.main`: one function per command.

Each takes the parsed arguments and the output and error streams and returns
the exit code; :func:`run` turns fera_flex's errors (bad input, invalid
files) into a message on the error stream and exit code 1.
"""

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from pydantic import TypeAdapter, ValidationError

from fera_flex._cli_progress import Progress
from fera_flex.errors import FeraFlexError, InputError

__all__ = ["InvalidFileError", "run"]

_DEVIATION_KW = 1e-3
"""A dispatch counts as followed when every targeted slot is within this of its target [kW]."""

_UNMET_KWH = 1e-3
"""Energy a FLEX event may leave unmet beyond what the plan without it leaves [kWh]."""


def run(args: argparse.Namespace, parser: argparse.ArgumentParser, out: TextIO, err: TextIO) -> int:
    """Run the command ``args.command``; errors go to ``err`` and give exit code 1 (usage: 2)."""
    command = args.command
    try:
        return _COMMANDS[command](args, out, err)
    except _UsageError as error:
        parser.print_usage(err)
        print(f"fera-flex {command}: error: {error}", file=err)
        return 2
    except InvalidFileError as error:
        for line in error.lines():
            print(f"fera-flex {command}: error: {line}", file=err)
        return 1
    except (FeraFlexError, ModuleNotFoundError) as error:
        print(f"fera-flex {command}: error: {error}", file=err)
        return 1


class _UsageError(Exception):
    """Arguments that do not fit together (exit code 2)."""


class InvalidFileError(Exception):
    """A file whose content failed validation."""

    def __init__(self, path: Path, error: ValidationError) -> None:
        super().__init__(str(error))
        self.path, self.error = path, error

    def lines(self) -> list[str]:
        """Every error with its JSON path in the file."""
        from fera_flex._cli_validate import pydantic_findings

        try:
            data: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        return [f"{self.path}: {f.path}: {f.message}" for f in pydantic_findings(self.error, data)]


def _scenario(path: str):
    from fera_flex.models.scenario import Scenario

    try:
        return Scenario.load(path)
    except ValidationError as error:
        raise InvalidFileError(Path(path), error) from None


def _dispatches(text: str, path: str) -> list[Any]:
    """The FlexibilityDispatch (or JSON array of them) in a file's text."""
    from fera_flex.models.fera import FlexibilityDispatch

    try:
        data = json.loads(text)
    except ValueError as error:
        raise InputError(
            "fera-flex dispatch", "DISPATCH", path, f"not valid JSON: {error}"
        ) from None
    many = isinstance(data, list)
    adapter = TypeAdapter(list[FlexibilityDispatch] if many else FlexibilityDispatch)
    try:
        found = adapter.validate_json(json.dumps(data))
    except ValidationError as error:
        raise InvalidFileError(Path(path), error) from None
    return found if many else [found]


def _out_dir(args: argparse.Namespace) -> Path | None:
    if args.output is None:
        return None
    directory = Path(args.output)
    if directory.exists() and not directory.is_dir():
        raise InputError("fera-flex", "--output", str(directory), "exists and is not a folder")
    return directory


def _solve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from fera_flex._cli_plan import plan_summary, plan_tables, write_plan
    from fera_flex.plot import scenario_time_zone
    from fera_flex.scheduling.problem import ChargingProblem
    from fera_flex.scheduling.schedule import schedule
    from fera_flex.scheduling.verify import verify_plan

    directory = _out_dir(args)
    if args.plot and directory is None:
        raise _UsageError("--plot needs -o DIR to write the pictures into")
    with Progress(5 + args.plot, "solve", err) as progress:
        progress.advance("loading the scenario")
        scenario = _scenario(args.scenario)
        zone = scenario_time_zone(scenario)
        progress.advance("building the problem")
        problem = ChargingProblem.from_scenario(scenario)
        progress.advance(f"scheduling {problem.n_sessions} sessions")
        plan = schedule(problem, args.method)
        progress.advance("verifying")
        violations = verify_plan(problem, plan)
        summary = plan_summary(scenario, plan, violations, zone)
        written = []
        if directory is not None:
            progress.advance("writing")
            written = write_plan(directory, scenario, plan, summary, args.unit)
            if args.plot:
                progress.advance("drawing")
                written += _plan_pictures(plan, directory, zone)
    print("\n".join(plan_tables(summary, zone, args.max_rows)), file=out)
    _report_files(written, directory, out)
    return _plan_exit(plan, violations, err)


def _plan_pictures(plan: Any, directory: Path, zone: Any) -> list[Path]:
    from fera_flex.plot import session_gantt, site_plan

    paths = [directory / "site_plan.png", directory / "sessions.png"]
    site_plan(plan, tz=zone, path=paths[0])
    session_gantt(plan, tz=zone, path=paths[1])
    return paths


def _report_files(written: list[Path], directory: Path | None, out: TextIO) -> None:
    if directory is None:
        print("\n(no files written: pass -o DIR to write them)", file=out)
        return
    print(f"\nwrote {len(written)} file(s) to {directory}:", file=out)
    for path in written[:12]:
        print(f"  {path}", file=out)
    if len(written) > 12:
        print(f"  ... and {len(written) - 12} more", file=out)


def _plan_exit(plan: Any, violations: list[Any], err: TextIO) -> int:
    from fera_flex.scheduling.plan import PlanStatus

    if violations:
        print(f"error: the plan breaks {len(violations)} limit(s)", file=err)
        return 1
    if plan.status is PlanStatus.FAILED:
        print(f"error: no plan was found ({plan.message})", file=err)
        return 1
    if plan.status is PlanStatus.TIME_LIMIT:
        print("warning: the solver stopped at its time limit; the plan is safe", file=err)
    return 0


def _offers(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from fera_flex._cli_offers import (
        OFFER_FORMATS,
        format_shape,
        make_offer,
        offer_id,
        offer_table,
        parse_window,
    )
    from fera_flex._cli_standards import WriteContext
    from fera_flex.plot import scenario_time_zone
    from fera_flex.scheduling.problem import ChargingProblem
    from fera_flex.scheduling.schedule import schedule

    fmt = OFFER_FORMATS[args.format]
    shape = format_shape(args.format, args.shape)
    directory = _out_dir(args)
    scenario = _scenario(args.scenario)
    zone = scenario_time_zone(scenario)
    problem = ChargingProblem.from_scenario(scenario)
    window = None if args.window is None else parse_window(args.window, problem.grid)
    if args.node is None:
        nodes = problem.nodes_with_sessions().tolist()
    else:
        nodes = [problem.node_index(node) for node in args.node]
    prepared = None if fmt.prepare is None else fmt.prepare(args, scenario, problem, nodes)
    split = getattr(prepared, "windows", None)
    windows = [window] if split is None else split(window)
    offers = []
    steps = len(nodes) * len(windows) + 1 + (directory is not None)
    with Progress(steps, f"offers ({shape})", err) as progress:
        progress.advance("baseline plan")
        plan = schedule(problem, args.method)
        for k in nodes:
            for part in windows:
                progress.advance(problem.node_ids[k])
                offer = make_offer(problem, plan, k, shape, part)
                offers.append((offer_id(scenario, offer), offer))
        files = {}
        if directory is not None:
            progress.advance(f"writing ({args.format})")
            texts = fmt.write(offers, scenario, WriteContext(problem, plan, prepared))
            files = {fmt.file_name: texts} if fmt.file_name is not None else texts
    print(
        f"{len(offers)} {shape} offer(s) for {scenario.name} "
        f"(baseline: {plan.backend}, status {plan.status.value}):",
        file=out,
    )
    print("\n".join(offer_table(offers, zone)), file=out)
    if directory is None:
        print("\n(no files written: pass -o DIR to write them)", file=out)
        return 0
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    print(f"\nwrote {len(written)} file(s) ({args.format}) to {directory}:", file=out)
    for path in written:
        print(f"  {path}", file=out)
    return 0


def _dispatch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from fera_flex._cli_standards import (
        dispatch_type,
        read_flex_event,
        read_s2_instructions,
        read_text,
        read_usef_order,
    )
    from fera_flex.plot import scenario_time_zone
    from fera_flex.scheduling.problem import ChargingProblem
    from fera_flex.scheduling.schedule import schedule

    directory = _out_dir(args)
    with Progress(5 + (directory is not None), "dispatch", err) as progress:
        progress.advance("loading")
        scenario = _scenario(args.scenario)
        zone = scenario_time_zone(scenario)
        text = read_text(args.dispatch, "DISPATCH")
        kind = dispatch_type(text, args.dispatch, args.type)
        progress.advance("building the problem")
        problem = ChargingProblem.from_scenario(scenario)
        progress.advance(f"reading the {kind} dispatch")
        if kind == "openadr":
            event, baseline = read_flex_event(text, args.dispatch, args, problem)
            return _flex_event(args, scenario, zone, problem, event, baseline, progress, out, err)
        if kind == "native":
            if args.offer is not None:
                raise InputError(
                    "fera-flex dispatch",
                    "--offer",
                    args.offer,
                    "a FERA FlexibilityDispatch names its offer itself (--offer is for usef, "
                    "s2 and openadr)",
                )
            dispatches = _dispatches(text, args.dispatch)
        else:
            read = read_usef_order if kind == "usef" else read_s2_instructions
            plan = schedule(problem, args.method)
            dispatches = [read(text, args.dispatch, args.offer, problem, plan)]
        return _follow(args, scenario, zone, problem, dispatches, progress, out, err)


def _follow(args, scenario, zone, problem, dispatches, progress, out, err) -> int:
    """Disaggregate dispatches, print how closely they are followed and write the profiles."""
    from fera_flex._cli_plan import plan_summary, table, write_plan
    from fera_flex.flexibility.disaggregate import disaggregate, dispatch_deviation_kw
    from fera_flex.scheduling.verify import verify_plan

    directory = _out_dir(args)
    progress.advance("disaggregating")
    plan = disaggregate(problem, dispatches, method=args.method)
    progress.advance("verifying")
    violations = verify_plan(plan.problem, plan)
    summary = plan_summary(scenario, plan, violations, zone)
    deviation = dispatch_deviation_kw(plan)
    loads = plan.problem.node_loads_kw(plan.power_kw)
    rows, worst = [], 0.0
    summary["dispatches"] = []
    for item in dispatches:
        k = problem.node_index(item.node_id)
        first = (int(item.start.timestamp()) - problem.grid.start_s) // problem.grid.step_s
        stop = first + len(item.power_kw)
        gap = float(np.abs(deviation[k, first:stop]).max())
        worst = max(worst, gap)
        wanted_kwh = float(np.sum(item.power_kw) * problem.grid.dt_h)
        got_kwh = float(loads[k, first:stop].sum() * problem.grid.dt_h)
        summary["dispatches"].append(
            {
                "id": item.id,
                "node_id": item.node_id,
                "requested_kwh": wanted_kwh,
                "realised_kwh": got_kwh,
                "max_deviation_kw": gap,
            }
        )
        rows.append(
            [
                item.id,
                item.node_id,
                f"{item.start.astimezone(zone):%m-%d %H:%M}",
                str(len(item.power_kw)),
                f"{wanted_kwh:.2f}",
                f"{got_kwh:.2f}",
                f"{gap:.2g}",
            ]
        )
    written = []
    if directory is not None:
        progress.advance("writing")
        written = write_plan(directory, scenario, plan, summary, args.unit)
    progress.close()
    headers = ["dispatch", "node", "from", "slots", "wanted kWh", "realised kWh", "max dev kW"]
    _print_plan(table(headers, rows), summary, zone, args, written, directory, out)
    status = _plan_exit(plan, violations, err)
    if worst > _DEVIATION_KW:
        print(
            f"error: the dispatch cannot be followed within {_DEVIATION_KW} kW (off by up to "
            f"{worst:.3g} kW): the limits or needs do not allow it; the plan above is the "
            "closest one",
            file=err,
        )
        return 1
    return status


def _flex_event(args, scenario, zone, problem, event, baseline, progress, out, err) -> int:
    """Plan under an NL-Flex FLEX event's caps, print them and write the profiles."""
    from fera_flex._cli_plan import plan_summary, table, write_plan
    from fera_flex.scheduling.schedule import schedule
    from fera_flex.scheduling.verify import verify_plan
    from fera_flex.standards.openadr import with_flex_dispatch
    from fera_flex.standards.openadr.limits import covering_slots

    directory = _out_dir(args)
    capped = with_flex_dispatch(problem, event, baseline.active_kw)
    progress.advance(f"scheduling under FLEX event {event.event_id}")
    plan = schedule(capped, args.method)
    progress.advance("verifying")
    violations = verify_plan(capped, plan)
    summary = plan_summary(scenario, plan, violations, zone)
    k = problem.node_index(event.group)
    offtake = capped.node_loads_kw(plan.power_kw)[k]
    rows = []
    summary["flex_event"] = {
        "id": event.event_id,
        "group": event.group,
        "active_baseline_kw": baseline.active_kw,
        "intervals": [],
    }
    for interval in event.intervals:
        first, stop = covering_slots(problem.grid, interval.start, interval.end)
        cap_kw = baseline.active_kw - interval.flex_kw
        peak = float(offtake[first:stop].max()) if stop > first else None
        summary["flex_event"]["intervals"].append(
            {"id": interval.id, "flex_kw": interval.flex_kw, "cap_kw": cap_kw, "peak_kw": peak}
        )
        rows.append(
            [
                str(interval.id),
                f"{interval.start.astimezone(zone):%m-%d %H:%M}",
                f"{interval.end.astimezone(zone):%m-%d %H:%M}",
                "adjacent" if interval.adjacent else "dispatch",
                f"{interval.flex_kw:.2f}",
                f"{cap_kw:.2f}",
                "-" if peak is None else f"{peak:.2f}",
            ]
        )
    unmet_kwh = float(plan.unmet_kwh.sum())
    extra_kwh = 0.0
    if unmet_kwh > _UNMET_KWH:  # does the event cause it, or was it short anyway?
        extra_kwh = unmet_kwh - float(schedule(problem, args.method).unmet_kwh.sum())
    written = []
    if directory is not None:
        progress.advance("writing")
        written = write_plan(directory, scenario, plan, summary, args.unit)
    progress.close()
    headers = ["interval", "from", "to", "kind", "FLEX kW", "cap kW", "offtake peak kW"]
    lines = [
        f"NL-Flex FLEX event {event.event_id} for {event.group!r} "
        f"(ACTIVE_BASELINE {baseline.active_kw:g} kW):",
        *table(headers, rows),
    ]
    _print_plan(lines, summary, zone, args, written, directory, out)
    status = _plan_exit(plan, violations, err)
    if extra_kwh > _UNMET_KWH:
        print(
            f"error: under the FLEX event {extra_kwh:.3g} kWh of needs go unmet that the plan "
            "without it meets: the call is more than the group can deliver",
            file=err,
        )
        return 1
    return status


def _print_plan(head, summary, zone, args, written, directory, out) -> None:
    from fera_flex._cli_plan import plan_tables

    print("\n".join(head) + "\n", file=out)
    print("\n".join(plan_tables(summary, zone, args.max_rows)), file=out)
    _report_files(written, directory, out)


def _validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from fera_flex._cli_validate import run_validate

    return run_validate(args.files, args.type, args.ocpp_schemas, out, err)


def _demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from fera_flex._demo import bundled_examples, run_demo

    paths = [Path(path) for path in args.paths] or bundled_examples()
    folder = _out_dir(args)
    if folder is None and any(path.is_file() for path in paths):
        folder = Path(tempfile.mkdtemp(prefix="fera-flex-demo-"))
    return run_demo(paths, out=out, folder=folder, progress=err, err=err)


_COMMANDS = {
    "solve": _solve,
    "offers": _offers,
    "dispatch": _dispatch,
    "validate": _validate,
    "demo": _demo,
}
