"""The embedded DynamoDB's twins: moto as it is without the local runtime's patches, to compare against."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any


@contextlib.contextmanager
def moto_as_it_was(patches: Iterable[tuple[type, str, Any]]) -> Iterator[None]:
    """Inside: moto's own methods in place of these patches (a module's PATCHED: class, name, moto's
    original or None where moto had none); after: the patches back."""
    patches = list(patches)
    ours = {(cls, name): cls.__dict__[name] for cls, name, _ in patches}
    for cls, name, original in patches:
        if original is None:
            delattr(cls, name)
        else:
            setattr(cls, name, original)
    try:
        yield
    finally:
        for (cls, name), function in ours.items():
            setattr(cls, name, function)
