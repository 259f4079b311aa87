"""cfn-lint on the synthesized templates, with the regions and skipped checks of infra/constants.

`python -m infra.lint [cdk.out]` prints every finding and exits 1 if there is any (warnings included).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cfnlint.api import ManualArgs, lint_file
from cfnlint.match import Match

from infra import constants as c


def lint_template(template: Path) -> list[Match]:
    return lint_file(
        template,
        ManualArgs(regions=list(c.LINT_REGIONS), ignore_checks=list(c.LINT_IGNORED_CHECKS)),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.lint", description=__doc__)
    parser.add_argument("outdir", nargs="?", type=Path, default=c.REPO_ROOT / "cdk.out")
    args = parser.parse_args(argv)
    templates = sorted(args.outdir.glob("*.template.json"))
    if not templates:
        print(f"no templates in {args.outdir}: synthesize first")
        return 1
    findings = 0
    for template in templates:
        matches = lint_template(template)
        findings += len(matches)
        for match in matches:
            print(match)
        print(f"cfn-lint {template.name} ({', '.join(c.LINT_REGIONS)}): {len(matches)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
