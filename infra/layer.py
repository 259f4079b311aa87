"""The assets Lambda runs, built without Docker by CDK local bundling, both with bytecode for the
runtime's Python (infra/bytecode.py says why).

- The dependency layer: pip for the Lambda platform (the profile's architecture, infra/profile.py), from
  the wheelhouse (build/wheels, see infra/wheels.py), first fetching from PyPI whatever the wheelhouse
  lacks (nothing after `make wheels`, so synthesis is then offline). A layer over Lambda's unzipped
  limit fails bundling.
- The function code: the packages a handler imports (functions/, shared/).

Tests skip bundling (context aws:cdk:bundling-stacks = []), so they never run pip or a compiler.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

from infra import constants as c
from infra.bytecode import compile_tree, copy_code
from infra.profile import Architecture
from infra.wheels import download, install_command, layer_hash, tree_size


@jsii.implements(cdk.ILocalBundling)
class PipLayerBundling:
    """CDK calls try_bundle before it would reach for Docker (which we never use)."""

    def __init__(self, architecture: Architecture = "arm64", wheelhouse: Path = c.WHEELHOUSE) -> None:
        self._architecture: Architecture = architecture
        self._wheelhouse = wheelhouse

    def try_bundle(self, output_dir: str, *_args: Any, **_options: Any) -> bool:
        target = Path(output_dir) / "python"  # Lambda puts a layer's /opt/python on sys.path
        try:
            download(self._wheelhouse, self._architecture)  # no-op when the wheelhouse is complete
            subprocess.run(
                install_command(target, self._wheelhouse, self._architecture),
                check=True,
                capture_output=True,
                text=True,
            )
            compile_tree(target)
            size = tree_size(target)
            print(f"infra.layer: {self._architecture} layer {size / 2**20:.1f} MiB unzipped", file=sys.stderr)
            if size > c.LAMBDA_UNZIPPED_LIMIT_BYTES:
                raise RuntimeError(
                    f"the layer is {size} bytes unzipped, over Lambda's {c.LAMBDA_UNZIPPED_LIMIT_BYTES}"
                )
        except (subprocess.CalledProcessError, RuntimeError) as error:
            output = (
                f"{error.stdout}{error.stderr}" if isinstance(error, subprocess.CalledProcessError) else ""
            )
            print(f"infra.layer: building the layer failed: {error}\n{output}", file=sys.stderr)
            return False  # CDK then tries Docker and says it is missing
        return True


def dependencies_code(architecture: Architecture = "arm64") -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(c.LAYER_REQUIREMENTS.parent),
        asset_hash=layer_hash(architecture),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        bundling=cdk.BundlingOptions(
            # Never pulled: local bundling answers first. CDK wants an image regardless.
            image=lambda_.Runtime.PYTHON_3_13.bundling_image,
            local=PipLayerBundling(architecture),
        ),
    )


@jsii.implements(cdk.ILocalBundling)
class CodeBundling:
    """The function code asset: the handler packages' source and their runtime bytecode."""

    def try_bundle(self, output_dir: str, *_args: Any, **_options: Any) -> bool:
        try:
            copy_code(Path(output_dir))
            compile_tree(Path(output_dir))
        except (subprocess.CalledProcessError, RuntimeError) as error:
            output = f"{error.stderr}" if isinstance(error, subprocess.CalledProcessError) else ""
            print(f"infra.layer: building the function code failed: {error}\n{output}", file=sys.stderr)
            return False  # CDK then tries Docker and says it is missing
        return True


def function_code() -> lambda_.Code:
    """One asset for all functions: the packages a handler imports, nothing else. Hashed from that
    source (CODE_ASSET_EXCLUDES), so a change to anything else deploys no new code."""
    return lambda_.Code.from_asset(
        str(c.REPO_ROOT),
        exclude=list(c.CODE_ASSET_EXCLUDES),
        ignore_mode=cdk.IgnoreMode.GIT,
        asset_hash_type=cdk.AssetHashType.SOURCE,
        bundling=cdk.BundlingOptions(image=lambda_.Runtime.PYTHON_3_13.bundling_image, local=CodeBundling()),
    )
