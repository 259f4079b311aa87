"""The function code asset as bundling builds it: the handler packages and nothing else, every module
with bytecode that the runtime loads without looking at the source (infra/bytecode.py). Compiled here
by this interpreter; bundling uses the runtime's version, found by runtime_python."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from infra.bytecode import compile_tree, copy_code, runtime_python
from shared.routes import FUNCTIONS, SCHEDULED_FUNCTIONS, WORKFLOW_FUNCTIONS

pytestmark = pytest.mark.infra

# A .pyc's header: magic (4 bytes), flags (4): bit 0 hash-based, bit 1 check the source.
UNCHECKED_HASH = 0b01


@pytest.fixture(scope="module")
def asset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("code-asset")
    copy_code(root)
    compile_tree(root, sys.executable)
    return root


def test_the_asset_holds_the_handler_packages_and_every_function(asset: Path) -> None:
    assert {p.name for p in asset.iterdir()} == {"functions", "shared"}
    for name in {*FUNCTIONS, *WORKFLOW_FUNCTIONS, *SCHEDULED_FUNCTIONS}:
        assert (asset / "functions" / name / "handler.py").is_file(), name
    assert not list(asset.rglob("tests"))


def test_every_module_has_unchecked_bytecode_for_the_interpreter(asset: Path) -> None:
    tag = sys.implementation.cache_tag
    sources = list(asset.rglob("*.py"))
    assert len(sources) > 50
    for source in sources:
        compiled = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        assert compiled.is_file(), source
        header = compiled.read_bytes()[:8]
        assert int.from_bytes(header[4:8], "little") == UNCHECKED_HASH, compiled


def test_the_runtime_loads_the_bytecode_without_reading_the_source(asset: Path, tmp_path: Path) -> None:
    """Break a module's source after compiling: it still imports, so its bytecode is what ran (as in
    Lambda, where CDK's zip leaves file times that a timestamp check would reject)."""
    import shutil

    copy = tmp_path / "asset"
    shutil.copytree(asset, copy)
    (copy / "shared" / "errors.py").write_text("this is not python\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", "import shared.errors as e; print(e.Conflict.status)"],
        cwd=copy,
        env={"PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "409"


def test_the_compiler_is_the_runtime_version_or_a_clear_error() -> None:
    this = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert runtime_python(this) == sys.executable
    with pytest.raises(RuntimeError, match=r"needs Python 2\.9 .*pyenv install 2\.9"):
        runtime_python("2.9")
