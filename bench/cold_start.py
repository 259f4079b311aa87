"""The SOS function's cold start, as CPU: what importing its handler costs next to the least any Lambda
that talks to DynamoDB, SNS and Step Functions must pay.

Each program runs as a whole separate Python process, measured by the CPU time (user + system) the
kernel charged to that child (``os.wait4``): interpreter start-up, imports and client creation are all
in, and nothing of this process is.

- handler: ``import functions.<f>.handler``, <f> being the function the route table says serves
  POST /v1/sos (so the bench follows renames), then what its first request builds: every
  ``shared.wiring`` factory the handler uses (found in its source), and the clients among DynamoDB, SNS
  and Step Functions that those did not build (recorded by wrapping botocore's ``create_client``),
  DynamoDB through a pynamodb ``Connection`` as the data layer builds it.
- baseline: ``import boto3`` and the DynamoDB, SNS and Step Functions clients built.
- floor: the baseline, plus Powertools' logger and the REST resolver with request validation, one POST
  route taking a pydantic body and a header, as the SOS route does: what any handler built this way
  pays before a line of this project runs.

The figure is the ratio of the handler's median to the baseline's (``RUNS`` runs each, interleaved,
after one warm-up each). The design's rule: the SOS handler imports nothing beyond boto3, its clients
and the Powertools pieces it uses; the floor shows what those pieces cost.

Bytecode: as in Lambda. The handler runs from a copy of the function code asset as bundling builds it
(infra/bytecode.py: the handler packages with unchecked-hash bytecode, compiled here by this
interpreter, in Lambda by the runtime's); libraries load their installed .pyc files (the layer ships
bytecode too, and boto3 comes with the runtime's). The children never write .pyc files.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.section import Section
from infra.bytecode import compile_tree, copy_code

RUNS = 7
TARGET_RATIO = 1.3
ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("dynamodb", "sns", "stepfunctions")

# The handler's side: argv[1] is the handler's module, the rest the wiring factories it uses. Which
# clients were built is recorded by wrapping botocore's create_client (boto3's clients and pynamodb's
# both come through it); the ones its first request would build and these did not are built last.
_HANDLER = """
import importlib, os, sys
import botocore.session
built = set()
_create = botocore.session.Session.create_client
def _recording(self, service_name, *args, **kwargs):
    built.add(service_name)
    return _create(self, service_name, *args, **kwargs)
botocore.session.Session.create_client = _recording
importlib.import_module(sys.argv[1])
if sys.argv[2:]:
    wiring = importlib.import_module("shared.wiring")
    for factory in sys.argv[2:]:
        getattr(wiring, factory)()
region = os.environ["AWS_REGION"]
if "dynamodb" not in built:
    if "pynamodb" in sys.modules:
        from pynamodb.connection import Connection
        Connection(region=region).client
    else:
        import boto3
        boto3.client("dynamodb", region_name=region)
for service in ("sns", "stepfunctions"):
    if service not in built:
        import boto3
        boto3.client(service, region_name=region)
"""

_BASELINE = """
import os
import boto3
region = os.environ["AWS_REGION"]
for service in ("dynamodb", "sns", "stepfunctions"):
    boto3.client(service, region_name=region)
"""

_FLOOR = (
    _BASELINE
    + """
from typing import Annotated
from pydantic import BaseModel
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Header
Logger(service="floor")
app = APIGatewayRestResolver(enable_validation=True)
class Body(BaseModel):
    lat: float
    lng: float
class Accepted(BaseModel):
    incident_id: str
@app.post("/v1/sos")
def sos(body: Body, key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> Response[Accepted]:
    return Response(202, "application/json", Accepted(incident_id="-"))
"""
)


def sos_handler_module() -> str:
    """The module of the function that serves POST /v1/sos, as the route table says."""
    from shared.routes import find_route

    route = find_route("POST", "/v1/sos")
    if route is None:
        raise RuntimeError("the route table has no POST /v1/sos")
    return f"functions.{route.function}.handler"


def wiring_factories(module: str) -> list[str]:
    """The ``shared.wiring`` factories the handler uses (``wiring.name``, called or handed on)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"no module {module}")
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    used = [
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "wiring"
    ]
    return sorted(set(used))


def child_cpu_s(*args: str, code: Path = ROOT) -> float:
    """Run ``python args...`` with the project's packages from ``code``; the user + system CPU seconds
    the child used."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(code)}
    with subprocess.Popen(
        [sys.executable, *args], cwd=code, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as child:
        stderr = child.stderr.read() if child.stderr else b""
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{args!r} failed ({child.returncode}):\n{stderr.decode(errors='replace')}")
    return usage.ru_utime + usage.ru_stime


def _runs(times: list[float]) -> str:
    return ", ".join(f"{t:.3f}" for t in times)


def run() -> Section:
    module = sos_handler_module()
    factories = wiring_factories(module)
    programs = {
        "handler": ("-c", _HANDLER, module, *factories),
        "baseline": ("-c", _BASELINE),
        "floor": ("-c", _FLOOR),
    }
    with tempfile.TemporaryDirectory(prefix="code-asset-") as asset:
        copy_code(Path(asset))
        compile_tree(Path(asset), sys.executable)
        for args in programs.values():
            child_cpu_s(*args, code=Path(asset))  # warm-up: files in the page cache
        times: dict[str, list[float]] = {name: [] for name in programs}
        for _ in range(RUNS):  # interleaved, so a slower spell of the machine falls on every side
            for name, args in programs.items():
                times[name].append(child_cpu_s(*args, code=Path(asset)))
    handler_s, baseline_s, floor_s = (statistics.median(times[n]) for n in ("handler", "baseline", "floor"))
    ratio = handler_s / baseline_s
    figures = {
        "sos_import_cpu_ratio": round(ratio, 2),
        "sos_handler_cpu_s": round(handler_s, 3),
        "boto3_clients_cpu_s": round(baseline_s, 3),
        "powertools_floor_cpu_s": round(floor_s, 3),
    }
    lines = [
        f"SOS cold start: CPU (user + sys) of a whole Python process, median of {RUNS} interleaved runs each",
        f"  import {module}, then what its first request builds",
        f"    ({''.join(f'wiring.{f}(), ' for f in factories)}and the clients):  {handler_s:.3f} s  "
        f"(runs {_runs(times['handler'])})",
        f"  import boto3 + {', '.join(SERVICES)} clients:  {baseline_s:.3f} s  "
        f"(runs {_runs(times['baseline'])})",
        f"  ratio {ratio:.2f}  (target ≤ {TARGET_RATIO}: {'met' if ratio <= TARGET_RATIO else 'NOT met'})",
        f"  floor: the same + Powertools' logger and validating REST resolver, one pydantic route:  "
        f"{floor_s:.3f} s  (ratio {floor_s / baseline_s:.2f})",
        "  the handler run from the code asset as bundling builds it: source and unchecked-hash bytecode",
    ]
    return Section("\n".join(lines), figures)
