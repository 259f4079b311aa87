"""Bytecode for the Lambda runtime, shipped in the assets: Lambda's /var/task and /opt are read-only, so a
module shipped as source is compiled again on every cold start, and the SOS function's cold start is
someone waiting. The project's modules (about 30 ms of CPU on the SOS function's cold start,
bench/cold_start.py) and the layer's libraries (far more: pydantic, Powertools) are compiled at bundling,
by an interpreter of the runtime's version (a .pyc carries its version's magic number; any other is
ignored), as unchecked-hash .pyc files: valid whatever the file times in the zip (CDK normalises them),
never checked against the source, which is the source they were compiled from.

Stdlib and infra.constants only: the layer's bundling calls this without the jsii runtime.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

from infra import constants as c


def runtime_python(version: str = c.LAYER_PYTHON_VERSION) -> str:
    """An interpreter of the Lambda runtime's Python version: this one, ``python3.13`` on PATH, or a
    pyenv install; otherwise a clear error (bundling without one would ship source and say nothing)."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"), reverse=True)
    for candidate in candidates:
        if candidate and _version_of(candidate) == version:
            return candidate
    raise RuntimeError(
        f"compiling the Lambda assets needs Python {version} (the runtime's version); none found as "
        f"python{version} on PATH or under {pyenv_root}/versions (e.g. `pyenv install {version}`)"
    )


def compile_tree(root: Path, python: str | None = None) -> None:
    """Every .py under ``root`` compiled beside it (``__pycache__``), unchecked-hash, by ``python``."""
    subprocess.run(
        [
            python or runtime_python(),
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            str(root),
        ],
        check=True,
        capture_output=True,
        text=True,
    )


def copy_code(destination: Path, source: Path = c.REPO_ROOT) -> None:
    """The function code asset's packages (the ones CODE_ASSET_EXCLUDES lets in), without any bytecode
    left in the work tree by this machine's Python."""
    for package in c.CODE_ASSET_PACKAGES:
        shutil.copytree(
            source / package,
            destination / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.py[cod]", "tests"),
            dirs_exist_ok=True,
        )


def _version_of(python: str) -> str | None:
    try:
        done = subprocess.run(
            [python, "-c", "import sys; print(f'{sys.version_info.major}.{sys.version_info.minor}')"],
            check=True,
            capture_output=True,
            text=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()
