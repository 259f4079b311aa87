"""What a benchmark section hands back to bench.__main__."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Section:
    table: str  # human-readable, printed as is
    figures: dict[str, Any]  # JSON-serialisable; becomes the section's member of the last line
