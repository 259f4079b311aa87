"""`rescue-nearby`: the command-line client (installed by pyproject as a console script).

Commands live in their own modules, each with ``register(subparsers)``: it is handed the subparsers of the
``aeds`` group, adds its command with ``subparsers.add_parser(name, ...)`` and sets
``parser.set_defaults(run=<function of the parsed args returning the exit status>)``. The modules listed
in AED_COMMANDS are plugged in when present, so a new command needs no edit here.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

AED_COMMANDS = ("cli.aeds_import", "cli.aeds_coverage", "cli.aeds_upkeep")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="rescue-nearby", description="Rescue Nearby (救在身边) command line")
    groups = top.add_subparsers(dest="group", required=True, metavar="{aeds}")
    aeds = groups.add_parser("aeds", help="the AED map: import registries, upkeep, coverage")
    commands = aeds.add_subparsers(dest="command", required=True)
    for name in AED_COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name == name:
                continue  # that command is not part of this installation
            raise
        module.register(commands)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
