"""Deployment settings: read from the environment once, here and nowhere else."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    responders_table: str = Field("rescue-nearby-responders", alias="RESPONDERS_TABLE")
    aeds_table: str = Field("rescue-nearby-aeds", alias="AEDS_TABLE")
    geo_table: str = Field("rescue-nearby-geo-index", alias="GEO_INDEX_TABLE")
    incidents_table: str = Field("rescue-nearby-incidents", alias="INCIDENTS_TABLE")
    region: str = Field("cn-north-1", alias="AWS_REGION")
    time_zone: str = Field("Asia/Shanghai", alias="TIME_ZONE")
    presence_ttl_s: int = Field(900, alias="PRESENCE_TTL_SECONDS", gt=0)
    geo_max_queries: int = Field(6, alias="GEO_MAX_QUERIES", ge=1)

    @classmethod
    def from_environ(cls) -> Settings:
        # Fall back to AWS_DEFAULT_REGION, which tools set when AWS_REGION (set by Lambda) is absent.
        env = dict(os.environ)
        if "AWS_REGION" not in env and "AWS_DEFAULT_REGION" in env:
            env["AWS_REGION"] = env["AWS_DEFAULT_REGION"]
        return cls.model_validate({k: v for k, v in env.items() if k.isupper()})


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_environ()
