"""The Lambda functions: runtime, architecture, tracing, logs, environment, code asset, least privilege."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from infra import constants as c
from shared.config import Settings
from shared.dal.models import AedModel, GeoIndexModel, ResponderModel
from shared.routes import FUNCTIONS
from tests.infrastructure.conftest import Synthesized

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

ENV_VAR = {spec.model: spec.env_var for spec in c.TABLES}
# Written out here, not read from infra/constants: widening a function's access must fail this test.
EXPECTED_ACCESS: dict[str, set[Any]] = {
    "health": set(),
    "responders": {ResponderModel, GeoIndexModel},
    "aeds": {AedModel, GeoIndexModel},
}
TABLE_ENV_VARS = set(ENV_VAR.values())


def function_id(synthesized: Synthesized, name: str) -> str:
    return synthesized.logical_id(f"Functions/{name.title()}/Function/Resource")


def table_id(synthesized: Synthesized, model: Any) -> str:
    spec = next(s for s in c.TABLES if s.model is model)
    return synthesized.logical_id(f"Data/{spec.construct_id}/Resource")


def role_statements(synthesized: Synthesized, role_id: str) -> list[dict[str, Any]]:
    statements = []
    for policy in synthesized.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def referenced_ids(resource: Any) -> set[str]:
    """Logical ids a policy Resource points at (Ref, GetAtt, or inside a Join)."""
    found: set[str] = set()
    if isinstance(resource, dict):
        if "Ref" in resource:
            found.add(resource["Ref"])
        if "Fn::GetAtt" in resource:
            found.add(resource["Fn::GetAtt"][0])
        for value in resource.values():
            if isinstance(value, list | dict):
                found |= referenced_ids(value)
    elif isinstance(resource, list):
        for item in resource:
            found |= referenced_ids(item)
    return found


@pytest.mark.infra
def test_one_function_per_folder_in_the_route_table(synthesized: Synthesized) -> None:
    synthesized.assertions.resource_count_is("AWS::Lambda::Function", len(FUNCTIONS))
    handlers = {f["Properties"]["Handler"] for f in synthesized.of_type("AWS::Lambda::Function").values()}
    assert handlers == {f"functions.{name}.handler.lambda_handler" for name in FUNCTIONS}


@pytest.mark.infra
@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_runtime_and_observability(synthesized: Synthesized, name: str) -> None:
    props = synthesized.resources[function_id(synthesized, name)]["Properties"]
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["arm64"]
    assert props["TracingConfig"] == {"Mode": "Active"}
    layer_id = synthesized.logical_id("Functions/Dependencies/Resource")
    assert props["Layers"] == [{"Ref": layer_id}]
    log_group_id = props["LoggingConfig"]["LogGroup"]["Ref"]
    assert synthesized.resources[log_group_id]["Properties"]["RetentionInDays"] == 180


@pytest.mark.infra
def test_layer_targets_the_same_runtime(synthesized: Synthesized) -> None:
    synthesized.assertions.has_resource_properties(
        "AWS::Lambda::LayerVersion",
        {"CompatibleArchitectures": ["arm64"], "CompatibleRuntimes": ["python3.13"]},
    )


@pytest.mark.infra
@pytest.mark.parametrize("name", FUNCTIONS)
def test_environment_names_exactly_the_granted_tables(synthesized: Synthesized, name: str) -> None:
    env = synthesized.resources[function_id(synthesized, name)]["Properties"]["Environment"]["Variables"]
    assert {k: v for k, v in env.items() if k in TABLE_ENV_VARS} == {
        ENV_VAR[m]: {"Ref": table_id(synthesized, m)} for m in EXPECTED_ACCESS[name]
    }
    aliases = {str(f.alias) for f in Settings.model_fields.values()}
    assert (
        set(env) - {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
        <= aliases
    )
    assert {"TIME_ZONE", "PRESENCE_TTL_SECONDS", "GEO_MAX_QUERIES"} <= set(env)


@pytest.mark.infra
@pytest.mark.parametrize("name", FUNCTIONS)
def test_least_privilege(synthesized: Synthesized, name: str) -> None:
    role_id = synthesized.resources[function_id(synthesized, name)]["Properties"]["Role"]["Fn::GetAtt"][0]
    role = synthesized.resources[role_id]["Properties"]
    assert "ManagedPolicyArns" not in role  # no AWSLambdaBasicExecutionRole
    statements = role_statements(synthesized, role_id)
    table_ids = {table_id(synthesized, m) for m in {s.model for s in c.TABLES}}
    granted = {table_id(synthesized, m) for m in EXPECTED_ACCESS[name]}
    touched: set[str] = set()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = as_list(statement["Action"])
        resources = as_list(statement["Resource"])
        assert all(not a.endswith(":*") for a in actions), actions
        if resources == ["*"]:
            assert set(actions) <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, actions
            continue
        if any(a.startswith("dynamodb:") for a in actions):
            for resource in resources:
                text = str(resource)
                assert "/index/*" not in text, "index access must name each index"
            touched |= referenced_ids(resources) & table_ids
    assert touched == granted


@pytest.mark.infra
def test_code_asset_holds_only_the_handler_packages(synthesized: Synthesized) -> None:
    keys = {f["Properties"]["Code"]["S3Key"] for f in synthesized.of_type("AWS::Lambda::Function").values()}
    assert len(keys) == 1, "all functions share one code asset"
    asset = synthesized.outdir / f"asset.{keys.pop().removesuffix('.zip')}"
    assert {p.name for p in asset.iterdir()} == {"functions", "shared"}
    assert not list(asset.rglob("__pycache__"))
    for name in FUNCTIONS:
        assert (asset / "functions" / name / "handler.py").is_file(), name


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = re.split(r"==", line)
            pins[re.sub(r"\[.*\]", "", name).lower().replace("_", "-")] = version
    return pins


@pytest.mark.infra
def test_layer_lock_agrees_with_pyproject() -> None:
    pyproject = tomllib.loads(Path(c.REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = _pins([d for d in pyproject["project"]["dependencies"] if "==" in d])
    layer = _pins(c.LAYER_REQUIREMENTS.read_text(encoding="utf-8").splitlines())
    assert {k: layer.get(k) for k in wanted} == wanted
    # What the Lambda runtime ships must not be shadowed by the layer.
    assert not {"boto3", "botocore", "s3transfer", "urllib3"} & set(layer)
