"""What every capability's request and response bodies share (each capability's bodies are in
shared/api/<capability>.py; the OpenAPI document is generated from them).

JSON numbers must be numbers and booleans booleans: fields are strict where pydantic's lax mode would
turn "30.1" or false into a coordinate.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal, get_type_hints

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationInfo,
    create_model,
    field_validator,
)
from pydantic_core import PydanticCustomError

from shared.api import plain
from shared.api.plain import LAT_BOUNDS, LNG_BOUNDS, PHONE_PATTERN

Lat = Annotated[
    float,
    Strict(),
    Field(ge=LAT_BOUNDS[0], le=LAT_BOUNDS[1], allow_inf_nan=False, description="WGS-84 latitude"),
]
Lng = Annotated[
    float,
    Strict(),
    Field(ge=LNG_BOUNDS[0], le=LNG_BOUNDS[1], allow_inf_nan=False, description="WGS-84 longitude"),
]
Crs = Annotated[
    Literal["wgs84", "gcj02"] | None,  # plain.DATUMS
    Field(description="Datum of lat/lng; gcj02 (AMap/Tencent) is converted, WGS-84 is stored"),
]
Text = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptionalText = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, max_length=500)] | None
Phone = Annotated[str, Strict(), StringConstraints(pattern=PHONE_PATTERN), Field(description="E.164")]


class Body(BaseModel):
    """A request body: unknown fields are ignored, so older servers accept newer apps' requests.

    No text a client sends carries control characters (NUL, escape sequences, ...: they break logs,
    SMS and the screens that show them), except newline and tab in multi-line fields (notes and
    descriptions, by name: ``shared.api.plain.multi_line``). Checked here once for every field of every
    body, so a new field cannot forget it."""

    model_config = ConfigDict(extra="ignore")

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        texts = value if isinstance(value, list) else [value]
        multi_line = bool(info.field_name and plain.multi_line(info.field_name))
        for text in texts:
            if isinstance(text, str) and plain.has_control_characters(text, multi_line):
                raise PydanticCustomError("control_characters", plain.control_characters_message(multi_line))
        return value


def declarations(model: type[BaseModel], names: Iterable[str] | None = None) -> dict[str, Any]:
    """How ``model`` declares these fields (all by default, in its order), as ``create_model`` takes
    them: (annotation, default), the default ``...`` when required. Only the annotation is copied, so
    constraints and descriptions belong in it (``Annotated``, as above), never in a ``Field()`` default."""
    hints = get_type_hints(model, include_extras=True)
    declared = {}
    for name in model.model_fields if names is None else names:
        field = model.model_fields[name]
        declared[name] = (hints[name], ... if field.is_required() else field.default)
    return declared


def all_optional(model: type[BaseModel], name: str, base: type[BaseModel] = Body) -> type[BaseModel]:
    """``model``'s fields, each optional with ``None`` by default: a PATCH body from its POST body.
    Each field keeps its type and constraints and also takes null; nothing is required."""
    fields: dict[str, Any] = {
        field: (hint if default is None else hint | None, None)
        for field, (hint, default) in declarations(model).items()
    }
    return create_model(name, __base__=base, __module__=model.__module__, **fields)
