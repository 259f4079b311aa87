"""Benchmarks (`python -m bench`, `make bench`): counts measured on the embedded AWS, never latency.

Each section lives in its own module and returns a readable table and a dict of figures; __main__
prints the tables and, as the last line, one JSON object holding every section's figures.

The environment is set here, before anything imports shared.config: local credentials that can never
reach a real account, and the region the models are built for.
"""

from __future__ import annotations

import os

os.environ.setdefault("AWS_DEFAULT_REGION", "cn-north-1")
os.environ.setdefault("AWS_REGION", os.environ["AWS_DEFAULT_REGION"])
os.environ["AWS_ACCESS_KEY_ID"] = "bench"
os.environ["AWS_SECRET_ACCESS_KEY"] = "bench"
os.environ.pop("AWS_SESSION_TOKEN", None)
os.environ.pop("AWS_PROFILE", None)
