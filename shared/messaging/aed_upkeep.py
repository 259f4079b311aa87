"""Upkeep reminders through the "AED upkeep" SNS topic. Each message carries the attributes manager_id
and aed_id, so a manager subscribes an email address or phone with a filter policy on manager_id and gets
exactly the reminders for the AEDs they answer for (docs/aed-upkeep.md)."""

from __future__ import annotations

from typing import Any

from shared.logic.messages import Text


class SnsUpkeepNotices:
    def __init__(self, client: Any, topic_arn: str) -> None:
        self.client = client
        self.topic_arn = topic_arn

    def remind(self, *, manager_id: str, aed_id: str, kind: str, subject: str, message: Text) -> None:
        self.client.publish(
            TopicArn=self.topic_arn,
            Subject=subject,
            Message=message.body,
            MessageAttributes={
                "manager_id": {"DataType": "String", "StringValue": manager_id},
                "aed_id": {"DataType": "String", "StringValue": aed_id},
                "kind": {"DataType": "String", "StringValue": kind},
            },
        )
