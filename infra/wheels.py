"""The dependency layer's wheelhouse: every package of infra/lambda-requirements.txt as a wheel for the
Lambda platform (arm64, CPython 3.13), in build/wheels.

`python -m infra.wheels` (run by `make wheels`) fetches what is missing from PyPI and does nothing when
the wheelhouse is complete; the layer is then installed from it with --no-index, so synthesis needs no
network. Stdlib and infra.constants only: no jsii runtime starts for this.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
from pathlib import Path

from infra import constants as c


def platform_args() -> list[str]:
    """pip flags selecting wheels for the Lambda runtime instead of this machine."""
    return [
        "--platform",
        c.LAYER_PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        c.LAYER_PYTHON_VERSION,
        "--only-binary=:all:",
        # The lock file lists every package; --no-deps keeps out what the runtime provides (botocore...).
        "--no-deps",
    ]


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def requirements() -> list[tuple[str, str]]:
    """(name, version) of every pinned line of the lock file."""
    pins = []
    for line in c.LAYER_REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            if not version:
                raise ValueError(f"{c.LAYER_REQUIREMENTS.name}: {line!r} is not pinned with ==")
            pins.append((name.strip(), version.strip()))
    return pins


def missing(wheelhouse: Path) -> list[tuple[str, str]]:
    have = {tuple(w.name.split("-")[:2]) for w in wheelhouse.glob("*.whl")}
    return [(n, v) for n, v in requirements() if (_normalize(n), v) not in have]


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args, "--disable-pip-version-check"], check=True)


def download(wheelhouse: Path) -> None:
    """Fetch the missing wheels; build the source-only pure-Python ones (and check they are pure)."""
    wheelhouse.mkdir(parents=True, exist_ok=True)
    todo = missing(wheelhouse)
    binary = [f"{n}=={v}" for n, v in todo if n not in c.LAYER_SOURCE_ONLY]
    source = [f"{n}=={v}" for n, v in todo if n in c.LAYER_SOURCE_ONLY]
    if binary:
        _pip("download", "--quiet", *platform_args(), "--dest", str(wheelhouse), *binary)
    if source:
        _pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheelhouse), *source)
    impure = [
        w.name
        for w in wheelhouse.glob("*.whl")
        if w.name.split("-")[0].lower() in {_normalize(n) for n in c.LAYER_SOURCE_ONLY}
        and not w.name.endswith("-none-any.whl")
    ]
    if impure:
        raise RuntimeError(f"built wheels are platform-specific, not usable on Lambda arm64: {impure}")
    still = missing(wheelhouse)
    if still:
        raise RuntimeError(f"wheelhouse {wheelhouse} still lacks {still}")


def install_command(target: Path, wheelhouse: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # this interpreter's .pyc would be for another Python: infra/bytecode.py compiles
        *platform_args(),
        "--no-index",
        "--find-links",
        str(wheelhouse),
        "--target",
        str(target),
        "-r",
        str(c.LAYER_REQUIREMENTS),
    ]


def layer_hash() -> str:
    """The layer asset's hash: the lock file and the target platform, i.e. all the layer is made of."""
    digest = hashlib.sha256(c.LAYER_REQUIREMENTS.read_bytes())
    digest.update(" ".join(platform_args()).encode())
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.wheels", description=__doc__)
    parser.add_argument("--dest", type=Path, default=c.WHEELHOUSE)
    args = parser.parse_args(argv)
    download(args.dest)
    print(
        f"wheelhouse {args.dest}: {len(requirements())} packages "
        f"for {c.LAYER_PLATFORM} cp{c.LAYER_PYTHON_VERSION}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
