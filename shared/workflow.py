"""The rescue state machine's ASL file and its ${placeholders}: CDK and the local runtime both load the
same file through this module, so there is one definition of the workflow."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

ASL_PATH = Path(__file__).resolve().parent.parent / "infra" / "statemachine" / "rescue.asl.json"
PLACEHOLDERS = ("Partition", "IncidentsTable")


def render(substitutions: Mapping[str, str]) -> str:
    """The definition with every placeholder filled, as CDK's definition_substitutions does."""
    missing = set(PLACEHOLDERS) - set(substitutions)
    if missing:
        raise ValueError(f"missing ASL substitutions: {sorted(missing)}")
    text = ASL_PATH.read_text(encoding="utf-8")
    for name, value in substitutions.items():
        text = text.replace("${" + name + "}", value)
    return text
