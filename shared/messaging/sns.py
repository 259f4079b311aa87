"""Notifications through SNS: app push to the responder's platform endpoint, SMS where there is none."""

from __future__ import annotations

import json
import re
from typing import Any

from shared.logic.messages import Text
from shared.logic.rescue.ports import Alert, Notice

# The app and the SMS both open the incident by this link; /dev/outbox reads it back locally.
DEEP_LINK = "rn://incident/{incident_id}?k={kind}"


class SnsNotifier:
    def __init__(self, client: Any, dispatch_topic_arn: str) -> None:
        self.client = client
        self.dispatch_topic_arn = dispatch_topic_arn

    def notify(self, alert: Alert, notice: Notice) -> None:
        link = DEEP_LINK.format(incident_id=notice.incident_id, kind=notice.kind)
        if alert.push_endpoint_arn:
            data = {
                "incident_id": notice.incident_id,
                "kind": notice.kind,
                "message": notice.message,
                "link": link,
            }
            payload = json.dumps({"data": data}, ensure_ascii=False)
            self.client.publish(
                TargetArn=alert.push_endpoint_arn,
                MessageStructure="json",
                Message=json.dumps(
                    {"default": notice.message, "GCM": payload, "APNS": payload}, ensure_ascii=False
                ),
            )
            return
        if not alert.phone:
            raise ValueError(f"responder {alert.responder_id} has neither an app endpoint nor a phone")
        self.client.publish(
            PhoneNumber=alert.phone,
            Message=f"{notice.message} {link}",
            MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
        )

    def tell_dispatch_centre(self, incident_id: str, message: str) -> None:
        tell_dispatch_centre(self.client, self.dispatch_topic_arn, incident_id, message)


def tell_dispatch_centre(client: Any, topic_arn: str, incident_id: str, message: str) -> None:
    """The dispatch centre's topic (both profiles: SNS topics exist in the China regions)."""
    client.publish(
        TopicArn=topic_arn,
        Subject="Rescue Nearby: unanswered incident",
        Message=json.dumps(
            {"incident_id": incident_id, "kind": "unanswered", "message": message}, ensure_ascii=False
        ),
    )


_EXISTING_ENDPOINT = re.compile(r"Endpoint (arn:[^ ]+) already exists with the same [Tt]oken")


class SnsPushRegistry:
    """An app install becomes an SNS platform endpoint; its CustomUserData names the responder."""

    def __init__(self, client: Any, applications: dict[str, str]) -> None:
        self.client = client
        self.applications = applications

    def endpoint(self, platform: str, token: str, responder_id: str) -> tuple[str, str | None]:
        try:
            arn = self.client.create_platform_endpoint(
                PlatformApplicationArn=self.applications[platform],
                Token=token,
                CustomUserData=responder_id,
                # Also as an attribute (SNS takes both): moto's GetEndpointAttributes answers only these.
                Attributes={"CustomUserData": responder_id},
            )["EndpointArn"]
            return str(arn), None
        except self.client.exceptions.InvalidParameterException as error:
            # The token has an endpoint already, with another responder's name on it: SNS names it in
            # the message ("Endpoint <arn> already exists with the same Token, but different
            # attributes"), the way AWS's mobile push guide says to take it over.
            found = _EXISTING_ENDPOINT.search(str(error))
            if found is None:
                raise
        arn = found.group(1)
        before = self.client.get_endpoint_attributes(EndpointArn=arn)["Attributes"].get("CustomUserData")
        self.client.set_endpoint_attributes(
            EndpointArn=arn, Attributes={"CustomUserData": responder_id, "Token": token, "Enabled": "true"}
        )
        return arn, before if before and before != responder_id else None


class SnsTextMessages:
    """A plain text to one person's phone (SMS): waitlist promotions, expiry reminders, upkeep notices."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def send(self, phone: str, message: Text) -> None:
        self.client.publish(
            PhoneNumber=phone,
            Message=message.body,
            MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
        )
