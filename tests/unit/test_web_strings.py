"""Every string the pages show exists in both languages (Chinese first, English on the switch), and every
key a page's markup or script names is defined: a missing key shows the key itself to a person."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"


def dictionaries() -> dict[str, dict[str, str]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: install Node 20 (make test needs it for the pages)")
    script = (
        "globalThis.localStorage = {getItem: () => null, setItem: () => {}};"
        f"const m = await import({json.dumps((WEB / 'assets' / 'i18n.js').as_uri())});"
        "console.log(JSON.stringify(m.STRINGS));"
    )
    done = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True, timeout=60
    )
    return dict(json.loads(done.stdout))


def test_chinese_and_english_have_the_same_keys() -> None:
    strings = dictionaries()
    assert set(strings) == {"zh", "en"}
    assert sorted(set(strings["zh"]) ^ set(strings["en"])) == []
    assert all(text.strip() for lang in strings.values() for text in lang.values())


def test_every_key_the_pages_name_is_defined() -> None:
    defined = set(dictionaries()["zh"])
    named: set[str] = set()
    for file in [*WEB.rglob("*.html"), *WEB.rglob("*.js")]:
        text = file.read_text(encoding="utf-8")
        named |= set(re.findall(r'data-i18n(?:-placeholder|-title)?="([a-z0-9_.]+)"', text))
        named |= set(re.findall(r'\bt\("([a-z0-9_.]+)"', text))
    assert named, "the pages name their strings"
    assert sorted(named - defined) == []
