"""Rescue teams and E-stations (shared/logic/teams.py): one item each; its circle is also in the geo index."""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from shared.config import settings

_settings = settings()


class TeamsByKindIndex(GlobalSecondaryIndex["TeamModel"]):
    """The admins' list of teams, or of E-stations, in the order they were made (ids are ULIDs). Hundreds
    at most, each small: the index holds them whole, so a page is one Query."""

    class Meta:
        index_name = "by-kind"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    team_id = UnicodeAttribute(range_key=True)


class TeamModel(Model):
    class Meta:
        table_name = _settings.teams_table
        region = _settings.region

    team_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()  # team, estation
    name = UnicodeAttribute()
    organisation = UnicodeAttribute()
    leader_id = UnicodeAttribute()
    member_ids = ListAttribute(of=UnicodeAttribute)
    opening_hours = UnicodeAttribute()
    lat = NumberAttribute()
    lng = NumberAttribute()
    radius_m = NumberAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    address = UnicodeAttribute(null=True)
    aed_id = UnicodeAttribute(null=True)
    by_kind = TeamsByKindIndex()
