"""The local runtime as `make run` starts it, in a subprocess, for the e2e tests that drive it by HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READY_DEADLINE_S = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(log: Path, **env: str) -> Iterator[str]:
    """`make run` on a free port with these settings (its output in ``log``); its URL once it is ready."""
    port = free_port()
    environment = {**os.environ, "PORT": str(port), "PYTHONUNBUFFERED": "1", **env}
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "local_runtime"],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + READY_DEADLINE_S
    while "Ctrl-C stops it" not in log.read_text(encoding="utf-8", errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the local runtime did not come up:\n" + log.read_text()[-2000:])
        time.sleep(0.2)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
