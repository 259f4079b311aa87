"""/dev/outbox: every notification the platform sent: through the embedded SNS (read back from moto), and
in the cn profile through the loopback stand-ins of the SMS and push providers (local_runtime/providers),
each with its channel and template.

App pushes go to platform endpoints whose CustomUserData is the responder id; SMS go to phone numbers,
mapped back to the responder who owns the number. Push payloads are JSON (``MessageStructure=json``)
carrying ``incident_id`` and ``kind`` in their data. Upkeep reminders go to the "AED upkeep" topic
with attributes manager_id and aed_id (each manager's subscription filters on manager_id): they show up
addressed to the manager, channel "topic".
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from shared.dal.models.responders import ResponderModel

# The deep link every SMS ends with (shared/messaging/sns.py): rn://incident/<id>?k=<kind>
_LINK = re.compile(r"rn://incident/(\w+)\?k=(\w+)")


def _sns_backend() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    from shared.config import settings

    return sns_backends[DEFAULT_ACCOUNT_ID][settings().region]


def _push_fields(raw: str) -> dict[str, Any]:
    try:
        envelope = json.loads(raw)
        payload = json.loads(envelope.get("GCM") or envelope.get("default") or "{}")
    except (ValueError, AttributeError, TypeError):
        return {"message": raw}
    data = payload.get("data", payload) if isinstance(payload, dict) else {}
    return {
        "incident_id": data.get("incident_id"),
        "kind": data.get("kind"),
        "message": data.get("message", raw),
        "at": data.get("at"),
    }


def read(to: str | None = None) -> list[dict[str, Any]]:
    backend = _sns_backend()
    now = datetime.now(UTC).isoformat()
    items: list[dict[str, Any]] = []
    for endpoint in list(backend.platform_endpoints.values()):
        for raw in list(endpoint.messages.values()):
            fields = _push_fields(raw)
            # Whose phone it is now: SetEndpointAttributes changes the attributes, not moto's field.
            owner = endpoint.attributes.get("CustomUserData") or endpoint.custom_user_data
            items.append({"to": owner, "channel": "push", "at": fields.pop("at") or now, **fields})
    if backend.sms_messages:
        by_phone = {r.phone: r.responder_id for r in ResponderModel.scan()}
        for phone, text in list(backend.sms_messages.values()):
            link = _LINK.search(text)
            items.append(
                {
                    "to": by_phone.get(phone, phone),
                    "channel": "sms",
                    "incident_id": link.group(1) if link else None,
                    "kind": link.group(2) if link else None,
                    "message": text,
                    "at": now,
                }
            )
    items.extend(_upkeep_reminders(backend))
    items.extend(_provider_messages())
    return [item for item in items if to is None or item["to"] == to]


def _provider_messages() -> list[dict[str, Any]]:
    """What the providers' stand-ins accepted, addressed to the responder: an SMS by the phone's owner, a
    push by the app registration's (the responder record holds "jpush:<registration id>")."""
    from local_runtime.providers import LOG
    from shared.logic.messages import TEMPLATES
    from shared.messaging.channels import JPUSH_PREFIX

    delivered = LOG.items()
    if not delivered:
        return []
    owners: dict[str, str] = {}
    for responder in ResponderModel.scan():
        owners[responder.phone] = responder.responder_id
        if responder.push_endpoint_arn:
            owners[str(responder.push_endpoint_arn).removeprefix(JPUSH_PREFIX)] = responder.responder_id
    items = []
    for message in delivered:
        template = TEMPLATES.get(message.template or "")
        items.append(
            {
                "to": owners.get(message.to, message.to),
                "channel": message.channel,
                "provider": message.provider,
                "template": message.template,
                "incident_id": message.data.get("incident_id") or message.params.get("incident"),
                "kind": message.data.get("kind") or (template.kind if template else None),
                "message": message.text,
                "at": message.at.isoformat(),
            }
        )
    return items


def _attribute(attributes: dict[str, Any] | None, name: str) -> str | None:
    value = (attributes or {}).get(name) or {}
    return value.get("StringValue") or value.get("Value") if isinstance(value, dict) else None


def _upkeep_reminders(backend: Any) -> list[dict[str, Any]]:
    from shared.config import settings

    topic = backend.topics.get(settings().upkeep_topic_arn)
    if topic is None:
        return []
    now = datetime.now(UTC).isoformat()
    return [
        {
            "to": _attribute(attributes, "manager_id"),
            "channel": "topic",
            "aed_id": _attribute(attributes, "aed_id"),
            "kind": _attribute(attributes, "kind"),
            "subject": subject,
            "message": message,
            "at": now,
        }
        for _, message, subject, attributes, _ in list(topic.sent_notifications)
    ]
