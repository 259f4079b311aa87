"""The debriefs after rescues (shared/logic/debriefs.py, docs/volunteers.md): one item per (incident,
responder who accepted), holding the invitation's notice, the answers and the call back."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from shared.config import settings

_settings = settings()

# The call-back list's one partition: debriefs that need a call not yet done (the index is sparse).
CALL_WAITING = "waiting"


class DebriefsByCallQueueIndex(GlobalSecondaryIndex["DebriefModel"]):
    """The admins' call-back list, oldest submission first: only debriefs that need a call and whose call is
    not done carry ``call_queue``, so the list is one Query that reads nothing else. A handful a day at
    most: one partition holds them all. It copies what a row shows besides the keys: the score, whether
    the responder asked and their note (the name and phone are read from the responders' records)."""

    class Meta:
        index_name = "call-queue"
        projection = IncludeProjection(["score", "call_me", "needs_call", "note"])

    call_queue = UnicodeAttribute(hash_key=True)
    submitted_at = UTCDateTimeAttribute(range_key=True)  # pynamodb's UTC format sorts as text


class DebriefModel(Model):
    class Meta:
        table_name = _settings.debriefs_table
        region = _settings.region

    incident_id = UnicodeAttribute(hash_key=True)
    responder_id = UnicodeAttribute(range_key=True)
    invited_at = UTCDateTimeAttribute(null=True)
    # The invitation waiting to be published (as an alert's notices: shared/logic/rescue/notices.py):
    # set with its lease when the debrief opens, cleared once a channel took it.
    notice = UnicodeAttribute(null=True)
    notice_lease_until = NumberAttribute(null=True)
    notices_sent = NumberAttribute(default=0)
    submitted_at = UTCDateTimeAttribute(null=True)
    did = ListAttribute(of=UnicodeAttribute, null=True)
    note = UnicodeAttribute(null=True)
    answers = UnicodeAttribute(null=True)  # JSON: the IES-6's six answers, 0-4, in the scale's order
    score = NumberAttribute(null=True)
    call_me = BooleanAttribute(default=False)
    needs_call = BooleanAttribute(default=False)
    call_done_at = UTCDateTimeAttribute(null=True)
    call_done_by = UnicodeAttribute(null=True)
    call_queue = UnicodeAttribute(null=True)  # CALL_WAITING while a call is needed and not done
    by_call_queue = DebriefsByCallQueueIndex()
    expires_at = NumberAttribute(null=True)  # TTL: a year after it was last written (DEBRIEF_RETENTION_DAYS)
