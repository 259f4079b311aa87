"""The web pages as deployed: web/ (plain static files, no bundler) plus the files of npm packages that
web/vendor.json lists, copied from node_modules (pinned in package-lock.json) to vendor/<package>/<path>,
the URLs the pages load them from. The local runtime serves the same list straight from node_modules
(local_runtime/pages.py); the stack deploys this folder (infra/constructs/web.py).

The folder is named by a hash of what went into it (build/web/<hash>/), built beside and renamed into
place, so two syntheses at once (tests, `make synth`) never see each other's half-written copy, and an
unchanged input reuses the folder. A vendor file missing from node_modules fails synthesis naming
`npm ci`; so does a vendor.json entry that is not a plain relative path inside its package.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from infra import constants as c

VENDOR_LIST = "vendor.json"  # in web/: {package: [path inside node_modules/<package>/, ...]}
VENDOR_PREFIX = "vendor"  # served at /vendor/<package>/<path>
# Not deployed: the vendor list (its files are) and what editors and OSes leave around.
_SKIPPED = {VENDOR_LIST, ".DS_Store", "Thumbs.db"}


class WebAssetsError(ValueError):
    """web/ or node_modules cannot make the deployable folder; the message says what to do."""


def vendor_files(web: Path) -> dict[str, list[str]]:
    """web/vendor.json, checked: package names and relative paths inside the package, no globs."""
    listed_at = web / VENDOR_LIST
    if not listed_at.is_file():
        raise WebAssetsError(f"{listed_at} is missing: the pages' vendor list (infra/web_assets.py)")
    try:
        listed = json.loads(listed_at.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise WebAssetsError(f"{listed_at} is not valid JSON ({error})") from None
    if not isinstance(listed, dict):
        raise WebAssetsError(f"{listed_at} must be a JSON object of package name to a list of paths")
    for package, paths in listed.items():
        if not _plain_relative(package, allow_scope=True):
            raise WebAssetsError(f"{listed_at}: {package!r} is not an npm package name")
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise WebAssetsError(f"{listed_at}: {package!r} must list paths (strings)")
        for path in paths:
            if not _plain_relative(path) or any(ch in path for ch in "*?[]"):
                raise WebAssetsError(
                    f"{listed_at}: {package}/{path!r} must be a relative path inside the package, no globs"
                )
    return listed


def _plain_relative(text: str, *, allow_scope: bool = False) -> bool:
    raw = text.split("/")
    parts = PurePosixPath(text).parts
    if not text or text.startswith("/") or "\\" in text or any(p in ("", ".", "..") for p in raw):
        return False
    return len(parts) <= 2 if allow_scope else True


def _inputs(web: Path, node_modules: Path, listed: dict[str, list[str]]) -> list[tuple[str, Path]]:
    """(path in the deployed folder, source file), sorted: web/'s files, then the vendor files."""
    pages = [
        (f.relative_to(web).as_posix(), f)
        for f in sorted(web.rglob("*"))
        if f.is_file() and f.name not in _SKIPPED
    ]
    missing: list[str] = []
    vendored: list[tuple[str, Path]] = []
    for package, paths in sorted(listed.items()):
        for path in paths:
            source = node_modules / package / path
            if not source.is_file():
                missing.append(f"{package}/{path}")
            vendored.append((f"{VENDOR_PREFIX}/{package}/{path}", source))
    if missing:
        raise WebAssetsError(
            f"node_modules lacks {', '.join(missing)} (listed in {web / VENDOR_LIST}): run `npm ci` "
            "(the packages are pinned in package-lock.json), then synthesize again"
        )
    clash = {name for name, _ in pages} & {name for name, _ in vendored}
    if clash:
        raise WebAssetsError(f"web/ has files where vendor files go: {sorted(clash)}")
    return pages + vendored


def assemble(
    web: Path = c.REPO_ROOT / "web",
    node_modules: Path = c.REPO_ROOT / "node_modules",
    build: Path = c.REPO_ROOT / "build" / "web",
) -> Path:
    """The deployable folder for ``web`` (built if this content has not been built yet)."""
    if not web.is_dir():
        raise WebAssetsError(f"{web} is missing: the web pages the stack deploys")
    files = _inputs(web, node_modules, vendor_files(web))
    digest = hashlib.sha256()
    for name, source in files:
        digest.update(name.encode() + b"\0" + hashlib.sha256(source.read_bytes()).digest())
    target = build / digest.hexdigest()[:16]
    if target.is_dir():
        return target
    build.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=build))
    try:
        for name, source in files:
            destination = staging / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():  # not "another synthesis built the same folder first"
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
