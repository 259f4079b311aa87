"""One name per capability, in every layer: a newcomer who knows a capability's name finds its handler,
rules, storage, bodies and infrastructure by that name (docs/architecture.md has the table)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CAPABILITIES = (
    "responders",
    "aed_registry",
    "aed_import",
    "aed_upkeep",
    "aed_coverage",
    "aed_faults",
    "rescue",
    "teaching",
    "certification",
    "dispatch",
    "health",
    "cockpit",
    "credits",  # the credits ledger's views: the opt-in leaderboard (the ledger itself is written by rescue)
    "debriefs",  # the debrief after a rescue: invitations, answers, the admins' call-back list
    "teams",  # rescue teams and E-stations: on duty together for an area and hours
)
# What several capabilities share, per layer: mechanisms, not capabilities.
SHARED = {
    "functions": {"authorizer"},  # the API's OIDC authorizer (cn profile): every capability's gate
    "shared/logic": {"ports", "concurrency", "hours", "ids", "messages"},
    "shared/dal": {"conditions", "connection", "geo_index", "tables", "mapping", "models", "paging"},
    "shared/dal/models": {"geo_index"},
    "shared/api": {"fields", "http", "params", "plain"},
    # The channels: SNS (global); mainland SMS and push providers (cn).
    # Webhooks: the signed POSTs and their queues (the 120 link's status webhooks; any later webhook's too).
    "shared/messaging": {"sns", "channels", "alibaba_sms", "tencent_sms", "jpush", "providers", "webhooks"},
    # web: the pages every capability has a face on (S3 + CloudFront), not one capability's
    # secrets: the generated keys several capabilities hold (the check-in codes', the credits exports')
    "infra/constructs": {
        *("alarms", "api", "data", "functions", "identity", "notifications", "schedules", "secrets", "web"),
    },
}
LAYERS = ("functions", *SHARED)


def _names(layer: str) -> list[str]:
    folder = ROOT / layer
    names = [p.stem for p in folder.glob("*.py")] + [
        p.name for p in folder.iterdir() if (p / "__init__.py").exists()
    ]
    return sorted(n for n in names if n != "__init__")


def _capability(name: str) -> str | None:
    """``rescue_sos`` belongs to ``rescue``; ``aed_upkeep_daily`` to ``aed_upkeep`` (the longest match)."""
    matches = [c for c in CAPABILITIES if name == c or name.startswith(c + "_")]
    return max(matches, key=len) if matches else None


@pytest.mark.parametrize("layer", LAYERS)
def test_every_module_is_named_after_its_capability_or_is_a_shared_mechanism(layer):
    strays = [n for n in _names(layer) if _capability(n) is None and n not in SHARED.get(layer, set())]
    assert strays == [], (
        f"{layer}: name these after a capability ({', '.join(CAPABILITIES)}) or list them as shared"
    )


def test_each_capability_has_its_rules_storage_and_bodies_under_its_own_name():
    for capability in CAPABILITIES:
        if capability == "health":
            continue
        handlers = [n for n in _names("functions") if _capability(n) == capability]
        assert handlers, f"no functions/{capability}*"
        for layer in ("shared/logic", "shared/api"):
            assert capability in _names(layer), f"no {layer}/{capability}"
