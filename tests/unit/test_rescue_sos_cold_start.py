"""The SOS function's cold start imports nothing beyond boto3's botocore, its clients and the Powertools
pieces it uses (logger, metrics), plus what an SOS needs (the design's hard numbers); `make bench`
measures its CPU ("cold_start"). Checked in a fresh interpreter: the handler imported, then what its
first request builds. No pydantic, no resolver, no boto3 wrapper: together about half of what botocore
and the three clients cost (shared/api/plain.py, shared/wiring.py)."""

from __future__ import annotations

import json
import subprocess
import sys

from bench.cold_start import ROOT, sos_handler_module, wiring_factories

LIBRARIES = {
    # botocore and what it brings
    "botocore", "jmespath", "urllib3", "dateutil", "six", "certifi",
    # Powertools' logger and metrics
    "aws_lambda_powertools", "typing_extensions",
    # the SOS's own: storage (blinker: pynamodb's signals, when installed), geohash cover, opening
    # hours of the AEDs near, GCJ-02 coordinates
    "pynamodb", "blinker", "pygeohash", "opening_hours", "eviltransform",
}  # fmt: skip
# Other capabilities' rules, storage and bodies; the rescue's later stages; the registry of every table.
NOT_ON_THE_SOS_PATH = (
    "shared.logic.aed_", "shared.logic.teaching", "shared.logic.certification", "shared.logic.responders",
    "shared.api.aed_", "shared.api.teaching", "shared.api.certification", "shared.api.responders",
    "shared.dal.aed_", "shared.dal.teaching", "shared.dal.certification", "shared.dal.responders",
    "shared.dal.tables", "shared.dal.models.aed_", "shared.dal.models.teaching",
    "shared.dal.models.certification", "shared.logic.rescue.assignment", "shared.logic.rescue.closure",
    "shared.logic.rescue.view", "shared.messaging.aed_upkeep",
    # every other route's reading: Powertools' resolver and the pydantic bodies
    "aws_lambda_powertools.event_handler", "shared.api.http", "shared.api.fields", "shared.api.rescue",
)  # fmt: skip

_CHILD = """
import importlib, json, sys
before = set(sys.modules)
importlib.import_module(sys.argv[1])
wiring = importlib.import_module("shared.wiring")
for factory in sys.argv[2:]:
    getattr(wiring, factory)()
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_the_sos_handler_and_its_first_request_import_only_what_an_sos_needs():
    module = sos_handler_module()
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, module, *wiring_factories(module)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    imported = json.loads(out.splitlines()[-1])
    libraries = {m.split(".")[0] for m in imported} - set(sys.stdlib_module_names) - {"shared", "functions"}
    libraries = {name for name in libraries if not name.startswith("_")}  # the interpreter's own
    assert "aws_xray_sdk" not in libraries  # Powertools' Tracer: ~0.2 s of CPU (shared/observability.py)
    assert libraries <= LIBRARIES, f"new on the SOS path: {sorted(libraries - LIBRARIES)}"
    assert [m for m in imported if m.startswith(NOT_ON_THE_SOS_PATH)] == []
