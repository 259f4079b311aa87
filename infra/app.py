"""The CDK app (cdk.json runs `python -m infra.app`): the stack plus cdk-nag's AWS Solutions checks.

cdk-nag 3 runs as a validation plugin: any finding not acknowledged (with a reason) on the construct
it concerns makes synthesis fail; the report is written to <outdir>/validation-report.json.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra import constants as c
from infra.stack import RescueNearbyStack


def feature_flags() -> dict[str, Any]:
    """cdk.json's context (the feature flags), which the CLI passes but `python -m infra.app` and the
    tests would not: read here so every way of synthesizing builds the same template."""
    return dict(json.loads((c.REPO_ROOT / "cdk.json").read_text(encoding="utf-8")).get("context", {}))


def build_app(*, outdir: str | None = None, context: Mapping[str, Any] | None = None) -> cdk.App:
    app = cdk.App(outdir=outdir, context={**feature_flags(), **(context or {})})
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    RescueNearbyStack(
        app,
        c.STACK_NAME,
        env=cdk.Environment(account=account, region=region) if account and region else None,
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def main() -> None:
    # The CLI says where to write (CDK_OUTDIR); run directly (`make synth`), write where the CLI would.
    outdir = None if "CDK_OUTDIR" in os.environ else str(c.REPO_ROOT / "cdk.out")
    build_app(outdir=outdir).synth()


if __name__ == "__main__":
    main()
