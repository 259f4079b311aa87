"""Pynamodb models ↔ the logic's dataclasses, derived from one field list: the dataclass's own fields.

A repository declares once how an entity is stored (``stored(Aed, AedModel)``), naming the few
attributes that differ and why, then converts with ``to_model(AedModel, aed)`` and
``from_model(Aed, item)``. Each field is converted by its dataclass type and the model attribute that
holds it, so the pairs of a mapper are never written out twice by hand:

=====================================  ==================================================================
dataclass type                         model attribute
=====================================  ==================================================================
``str``, ``bool``, ``datetime``        ``UnicodeAttribute``, ``BooleanAttribute``, ``UTCDateTimeAttribute``
``date``                               ``UnicodeAttribute``: "YYYY-MM-DD" (sorts and compares as text)
``int``, ``float``                     ``NumberAttribute`` (read back as ``int`` / ``float``)
``list[str]``                          ``ListAttribute(of=UnicodeAttribute)``
lists, mappings, nested dataclasses    ``UnicodeAttribute`` holding JSON (mappings with sorted keys)
``X | None``                           an attribute with ``null=True``: None is an absent attribute
=====================================  ==================================================================

It fails loudly (``MappingError``) when a dataclass field has no model attribute, when a model attribute
has no dataclass field and is not declared storage-only, when an optional field lands on a non-null
attribute, when a declared exception names nothing, or when a stored item lacks a required field. A
stored attribute that is absent gives the field's dataclass default (counters and flags written before
they existed).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.expressions.update import Action
from pynamodb.models import Model

E = TypeVar("E")
M = TypeVar("M", bound=Model)


class MappingError(TypeError):
    """A dataclass and its model do not correspond: a field or an attribute would be lost."""


@dataclass(frozen=True)
class Storage:
    """How one dataclass is stored in one table: everything corresponds by name, except these."""

    entity: type[Any]
    model: type[Model]
    storage_only: Mapping[str, str]  # model attribute -> why the dataclass does not carry it
    not_stored: Mapping[str, str]  # dataclass field -> why the table does not hold it


_DECLARED: dict[tuple[type[Any], type[Model]], Storage] = {}


def stored(
    entity: type[Any],
    model: type[Model],
    *,
    storage_only: Mapping[str, str] | None = None,
    not_stored: Mapping[str, str] | None = None,
) -> Storage:
    """Declare that ``entity`` is stored in ``model``, with the reason for each attribute or field that
    is on one side only. Checked on first use (and by the tests, for every declaration)."""
    storage = Storage(entity, model, dict(storage_only or {}), dict(not_stored or {}))
    _DECLARED[(entity, model)] = storage
    _PLANS.pop((entity, model), None)
    return storage


def declared() -> list[Storage]:
    return list(_DECLARED.values())


def to_model(model: type[M], obj: Any, **overrides: Any) -> M:
    """The model item holding ``obj``. ``overrides`` are attribute values as stored (storage-only keys,
    or a field stored otherwise than the entity says, e.g. a flag whose False is an absent attribute)."""
    plan = _plan(type(obj), model)
    unknown = set(overrides) - plan.attributes
    if unknown:
        raise MappingError(f"{model.__name__} has no attribute {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, field in plan.fields.items():
        if field.stored and name not in overrides:
            value = getattr(obj, name)
            values[name] = None if value is None else field.dump(value)
    values.update(overrides)
    return model(**values)


def from_model(entity: type[E], item: Model, **overrides: Any) -> E:
    """The ``entity`` an item holds. ``overrides`` are field values computed elsewhere (a waitlist
    position read from the session) or replacing what is stored."""
    plan = _plan(entity, type(item))
    unknown = set(overrides) - set(plan.fields)
    if unknown:
        raise MappingError(f"{entity.__name__} has no field {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, field in plan.fields.items():
        if name in overrides:
            values[name] = overrides[name]
            continue
        raw = getattr(item, name) if field.stored else None
        if raw is not None:
            values[name] = field.load(raw)
        elif field.optional:
            values[name] = None
        elif field.has_default:
            continue  # the dataclass default: an attribute written before it existed, or left absent
        else:
            raise MappingError(f"{type(item).__name__}.{name}: required by {entity.__name__}, not stored")
    return entity(**values)


def update_actions(model: type[Model], entity: type[Any], changes: Mapping[str, Any]) -> list[Action]:
    """A partial write: SET each of these entity fields (REMOVE it for None), encoded as ``to_model``
    encodes it."""
    plan = _plan(entity, model)
    actions: list[Action] = []
    for name, value in changes.items():
        field = plan.fields.get(name)
        if field is None or not field.stored:
            raise MappingError(f"{entity.__name__}.{name} is not stored in {model.__name__}")
        attribute: Any = getattr(model, name)
        actions.append(attribute.remove() if value is None else attribute.set(field.dump(value)))
    return actions


def check(storage: Storage) -> None:
    """Raise MappingError unless the declaration holds (what ``to_model``/``from_model`` check first)."""
    _plan(storage.entity, storage.model)


# --- the plan: one per (dataclass, model), built once --------------------------------------------


@dataclass(frozen=True)
class _Field:
    stored: bool
    optional: bool
    has_default: bool
    dump: Callable[[Any], Any]
    load: Callable[[Any], Any]


@dataclass(frozen=True)
class _Plan:
    fields: dict[str, _Field]
    attributes: frozenset[str]


_PLANS: dict[tuple[type[Any], type[Model]], _Plan] = {}


def _plan(entity: type[Any], model: type[Model]) -> _Plan:
    plan = _PLANS.get((entity, model))
    if plan is None:
        plan = _PLANS[(entity, model)] = _make_plan(entity, model)
    return plan


def _make_plan(entity: type[Any], model: type[Model]) -> _Plan:
    storage = _DECLARED.get((entity, model))
    if storage is None:
        raise MappingError(f"{entity.__name__} ↔ {model.__name__}: not declared with stored()")
    if not dataclasses.is_dataclass(entity):
        raise MappingError(f"{entity.__name__} is not a dataclass")
    attributes: dict[str, Attribute[Any]] = dict(model.get_attributes())
    hints = typing.get_type_hints(entity)
    names = [f.name for f in dataclasses.fields(entity)]
    problems: list[str] = []
    for name in storage.storage_only:
        if name not in attributes or name in names:
            problems.append(f"storage-only {name!r} must be a {model.__name__} attribute only")
    for name in storage.not_stored:
        if name not in names or name in attributes:
            problems.append(f"not-stored {name!r} must be an {entity.__name__} field only")
    for name in attributes:
        if name not in names and name not in storage.storage_only:
            problems.append(f"{model.__name__}.{name} has no {entity.__name__} field (nor a reason)")
    fields: dict[str, _Field] = {}
    for f in dataclasses.fields(entity):
        inner, optional = _unwrap_optional(hints[f.name])
        has_default = f.default is not MISSING or f.default_factory is not MISSING
        if f.name in storage.not_stored:
            fields[f.name] = _Field(False, optional, has_default, _same, _same)
            continue
        attribute = attributes.get(f.name)
        if attribute is None:
            problems.append(f"{entity.__name__}.{f.name} has no {model.__name__} attribute")
            continue
        if optional and not attribute.null:
            problems.append(f"{entity.__name__}.{f.name} may be None; {model.__name__}.{f.name} is not null")
        try:
            dump, load = _codec(inner, attribute)
        except MappingError as error:
            problems.append(f"{entity.__name__}.{f.name}: {error}")
            continue
        fields[f.name] = _Field(True, optional, has_default, dump, load)
    if problems:
        raise MappingError(f"{entity.__name__} ↔ {model.__name__}: " + "; ".join(problems))
    return _Plan(fields, frozenset(attributes))


def _same(value: Any) -> Any:
    return value


def _unwrap_optional(hint: Any) -> tuple[Any, bool]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return args[0], True
    return hint, False


def _codec(hint: Any, attribute: Attribute[Any]) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """How a value of dataclass type ``hint`` is written to ``attribute`` and read back."""
    origin = typing.get_origin(hint)
    if hint is datetime and isinstance(attribute, UTCDateTimeAttribute):
        return _same, _same
    if hint is date and isinstance(attribute, UnicodeAttribute):
        return date.isoformat, date.fromisoformat
    if hint is bool and isinstance(attribute, BooleanAttribute):
        return bool, bool
    if hint is int and isinstance(attribute, NumberAttribute):
        return _same, int
    if hint is float and isinstance(attribute, NumberAttribute):
        return _same, float
    if hint is str and isinstance(attribute, UnicodeAttribute):
        return _same, str
    if origin is list and typing.get_args(hint) == (str,) and isinstance(attribute, ListAttribute):
        return list, lambda value: [str(x) for x in value]
    if (origin in (list, dict, Mapping) or dataclasses.is_dataclass(hint)) and isinstance(
        attribute, UnicodeAttribute
    ):
        return as_json, lambda value: _from_plain(hint, json.loads(value))
    raise MappingError(f"no conversion from {hint!r} to {type(attribute).__name__}")


def as_json(value: Any) -> str:
    """JSON as the tables have always held it: dataclasses in field order, mappings by sorted key
    (one encoding, so that a condition may compare a stored JSON attribute with a value as text)."""
    return json.dumps(_plain(value), ensure_ascii=False)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _from_plain(hint: Any, value: Any) -> Any:
    """A JSON value read back as the dataclass type says (strict: a key nobody declared fails)."""
    hint, optional = _unwrap_optional(hint)
    if value is None:
        if optional:
            return None
        raise MappingError(f"null where {hint!r} is required")
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        hints = typing.get_type_hints(hint)
        names = {f.name for f in dataclasses.fields(hint)}
        if not isinstance(value, dict) or set(value) - names:
            raise MappingError(f"{value!r} is not a {hint.__name__}")
        return hint(**{k: _from_plain(hints[k], v) for k, v in value.items()})
    if origin is list:
        (item,) = typing.get_args(hint)
        return [_from_plain(item, v) for v in value]
    if origin in (dict, Mapping):
        _, item = typing.get_args(hint)
        return {str(k): _from_plain(item, v) for k, v in value.items()}
    if hint is float:
        return float(value)
    if hint is int:
        return int(value)
    if hint is str or hint is bool:
        return hint(value)
    raise MappingError(f"no JSON conversion to {hint!r}")
