"""The dependency layer's wheelhouse: every package of infra/lambda-requirements.txt as a wheel for the
Lambda platform (CPython 3.13 on the profile's architecture: arm64 or x86_64, infra/profile.py), in
build/wheels.

`python -m infra.wheels [--profile cn] [--architecture x86_64]` (run by `make wheels`) fetches what is
missing for that architecture from PyPI and does nothing when the wheelhouse is complete; the layer is
then installed from it with --no-index, so synthesis needs no network. One wheelhouse holds both
architectures: pure-Python wheels serve both, and a compiled package is present for an architecture
only when a wheel for that machine is there. Stdlib and infra.constants only: no jsii runtime starts for
this.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
from pathlib import Path

from infra import constants as c
from infra import profile as p


def platform_args(architecture: p.Architecture = "arm64") -> list[str]:
    """pip flags selecting wheels for the Lambda runtime instead of this machine."""
    return [
        "--platform",
        c.LAYER_PLATFORMS[architecture],
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


def fits(wheel: str, architecture: p.Architecture) -> bool:
    """Whether a wheel (by its file name's platform tags) runs on Lambda's ``architecture``: a pure one
    (``any``), or a manylinux one for that machine (aarch64, x86_64)."""
    machine = c.LAYER_PLATFORMS[architecture].split("_", 1)[1]
    platforms = wheel.removesuffix(".whl").split("-")[-1].split(".")
    return "any" in platforms or any(
        tag.startswith("manylinux") and tag.endswith(f"_{machine}") for tag in platforms
    )


def missing(wheelhouse: Path, architecture: p.Architecture = "arm64") -> list[tuple[str, str]]:
    have = {
        (_normalize(w.name.split("-")[0]), w.name.split("-")[1])
        for w in wheelhouse.glob("*.whl")
        if fits(w.name, architecture)
    }
    return [(n, v) for n, v in requirements() if (_normalize(n), v) not in have]


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args, "--disable-pip-version-check"], check=True)


def download(wheelhouse: Path, architecture: p.Architecture = "arm64") -> None:
    """Fetch the missing wheels; build the source-only pure-Python ones (and check they are pure)."""
    wheelhouse.mkdir(parents=True, exist_ok=True)
    todo = missing(wheelhouse, architecture)
    source_only = {_normalize(n) for n in c.LAYER_SOURCE_ONLY}
    binary = [f"{n}=={v}" for n, v in todo if _normalize(n) not in source_only]
    source = [f"{n}=={v}" for n, v in todo if _normalize(n) in source_only]
    if binary:
        _pip("download", "--quiet", *platform_args(architecture), "--dest", str(wheelhouse), *binary)
    if source:
        _pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheelhouse), *source)
    impure = [
        w.name
        for w in wheelhouse.glob("*.whl")
        if _normalize(w.name.split("-")[0]) in source_only and not w.name.endswith("-none-any.whl")
    ]
    if impure:
        raise RuntimeError(f"built wheels are platform-specific, not usable on Lambda: {impure}")
    still = missing(wheelhouse, architecture)
    if still:
        raise RuntimeError(f"wheelhouse {wheelhouse} still lacks {still} for {architecture}")


def install_command(target: Path, wheelhouse: Path, architecture: p.Architecture = "arm64") -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # this interpreter's .pyc would be for another Python: infra/bytecode.py compiles
        *platform_args(architecture),
        "--no-index",
        "--find-links",
        str(wheelhouse),
        "--target",
        str(target),
        "-r",
        str(c.LAYER_REQUIREMENTS),
    ]


def layer_hash(architecture: p.Architecture = "arm64") -> str:
    """The layer asset's hash: the lock file and the target platform, i.e. all the layer is made of."""
    digest = hashlib.sha256(c.LAYER_REQUIREMENTS.read_bytes())
    digest.update(" ".join(platform_args(architecture)).encode())
    return digest.hexdigest()


def tree_size(root: Path) -> int:
    """Bytes of every file under ``root``: what Lambda counts against its unzipped limit."""
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file() and not f.is_symlink())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.wheels", description=__doc__)
    parser.add_argument("--dest", type=Path, default=c.WHEELHOUSE)
    parser.add_argument("--profile", choices=p.PROFILES, default=p.GLOBAL, help="its default architecture")
    parser.add_argument("--architecture", choices=p.ARCHITECTURES, help="instead of the profile's default")
    args = parser.parse_args(argv)
    architecture: p.Architecture = args.architecture or p.DEFAULT_ARCHITECTURE[args.profile]
    download(args.dest, architecture)
    print(
        f"wheelhouse {args.dest}: {len(requirements())} packages "
        f"for {c.LAYER_PLATFORMS[architecture]} cp{c.LAYER_PYTHON_VERSION}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
