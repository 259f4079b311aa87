"""cfn-lint on the synthesized templates, with the profile's regions (infra/profile.py: the global
profile's deployment regions, or both China regions for the cn profile) and the skipped checks of
infra/constants.

`python -m infra.lint [cdk.out] [--profile cn]` prints every finding and exits 1 if there is any (warnings
included), or if the assembly was synthesized for the other profile (its stack's region says which).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from cfnlint.api import ManualArgs, lint_file
from cfnlint.match import Match

from infra import constants as c
from infra import profile as p


def lint_template(template: Path, regions: Sequence[str] = c.LINT_REGIONS) -> list[Match]:
    return lint_file(
        template,
        ManualArgs(regions=list(regions), ignore_checks=list(c.LINT_IGNORED_CHECKS)),
    )


def synthesized_regions(outdir: Path) -> set[str]:
    """The regions the assembly's stacks were synthesized for ("unknown-region": environment-agnostic)."""
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    return {
        artifact["environment"].rsplit("/", 1)[-1]
        for artifact in manifest.get("artifacts", {}).values()
        if artifact.get("type") == "aws:cloudformation:stack"
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.lint", description=__doc__)
    parser.add_argument("outdir", nargs="?", type=Path, default=c.REPO_ROOT / "cdk.out")
    parser.add_argument("--profile", choices=p.PROFILES, default=p.GLOBAL)
    args = parser.parse_args(argv)
    templates = sorted(args.outdir.glob("*.template.json"))
    if not templates:
        print(f"no templates in {args.outdir}: synthesize first")
        return 1
    regions = p.lint_regions(args.profile)
    china = {r for r in synthesized_regions(args.outdir) if r.startswith("cn-")}
    if bool(china) != (args.profile == p.CN):
        print(f"{args.outdir} was synthesized for another profile than {args.profile!r} (regions {china})")
        return 1
    findings = 0
    for template in templates:
        matches = lint_template(template, regions)
        findings += len(matches)
        for match in matches:
            print(match)
        print(f"cfn-lint {template.name} ({', '.join(regions)}): {len(matches)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
