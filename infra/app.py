"""The CDK app (cdk.json runs `python -m infra.app`): the stack plus cdk-nag's AWS Solutions checks.

cdk-nag 3 runs as a validation plugin: any finding not acknowledged (with a reason) on the construct
it concerns makes synthesis fail; the report is written to <outdir>/validation-report.json.

The deployment profile (infra/profile.py) comes from CDK context: `-c profile=cn` (and `-c region=...`)
with the CDK CLI, or `python -m infra.app -c profile=cn -c region=cn-north-1` (what `make synth PROFILE=cn
REGION=cn-north-1` runs). The global profile's stack is environment-agnostic unless CDK_DEFAULT_ACCOUNT and
CDK_DEFAULT_REGION are both set, as always; the cn profile's is region-specific (the region decides the
partition, aws-cn, and what exists there), and account-specific only when the CLI knows the account.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra import constants as c
from infra.profile import from_context
from infra.stack import RescueNearbyStack


def feature_flags() -> dict[str, Any]:
    """cdk.json's context (the feature flags), which the CLI passes but `python -m infra.app` and the
    tests would not: read here so every way of synthesizing builds the same template."""
    return dict(json.loads((c.REPO_ROOT / "cdk.json").read_text(encoding="utf-8")).get("context", {}))


def build_app(*, outdir: str | None = None, context: Mapping[str, Any] | None = None) -> cdk.App:
    app = cdk.App(outdir=outdir, context={**feature_flags(), **(context or {})})
    profile = from_context(app.node.try_get_context)
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    if profile.china:
        env: cdk.Environment | None = cdk.Environment(account=account or None, region=profile.region)
    else:
        env = cdk.Environment(account=account, region=region) if account and region else None
    RescueNearbyStack(app, c.STACK_NAME, profile=profile, env=env)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def _context_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.app", description=__doc__)
    parser.add_argument(
        "-c",
        "--context",
        type=_context_pair,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a CDK context value, as the CLI's -c (e.g. -c profile=cn -c region=cn-north-1)",
    )
    args = parser.parse_args(argv)
    # The CLI says where to write (CDK_OUTDIR); run directly (`make synth`), write where the CLI would.
    outdir = None if "CDK_OUTDIR" in os.environ else str(c.REPO_ROOT / "cdk.out")
    build_app(outdir=outdir, context=dict(args.context)).synth()


if __name__ == "__main__":
    main()
