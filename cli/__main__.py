"""`rescue-nearby`: the command-line client (installed by pyproject as a console script).

Commands live in their own modules, each with ``register(subparsers)``: it is handed the subparsers of its
group (``aeds``, ``dispatch``), adds its command with ``subparsers.add_parser(name, ...)`` and sets
``parser.set_defaults(run=<function of the parsed args returning the exit status>)``. The modules listed
in AED_COMMANDS and DISPATCH_COMMANDS are plugged in when present, so a new command needs no edit here.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

AED_COMMANDS = ("cli.aeds_import", "cli.aeds_coverage", "cli.aeds_upkeep")
DISPATCH_COMMANDS = ("cli.dispatch_simulate",)
TOP_COMMANDS = ("cli.simulate",)  # commands of their own, outside any group: `rescue-nearby simulate`


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="rescue-nearby", description="Rescue Nearby (救在身边) command line")
    groups = top.add_subparsers(dest="group", required=True, metavar="{aeds,dispatch,simulate}")
    aeds = groups.add_parser("aeds", help="the AED map: import registries, upkeep, coverage")
    _plug_in(aeds.add_subparsers(dest="command", required=True), AED_COMMANDS)
    dispatch = groups.add_parser("dispatch", help="the 120 link: a dispatch centre stand-in")
    _plug_in(dispatch.add_subparsers(dest="command", required=True), DISPATCH_COMMANDS)
    _plug_in(groups, TOP_COMMANDS)
    return top


def _plug_in(commands: Any, modules: Sequence[str]) -> None:
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name == name:
                continue  # that command is not part of this installation
            raise
        module.register(commands)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
