"""Field paths of a record: nested params as dotted paths, and merging nested mappings."""

from __future__ import annotations

import copy
from typing import Any


def flatten(params: Any, prefix: str = "") -> dict[str, Any]:
    """Nested params as dotted paths to their leaves (`model.depth` -> 6); an empty
    mapping inside counts as a leaf."""
    if not isinstance(params, dict) or (not params and prefix):
        return {prefix[:-1]: params} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in params.items():
        flat.update(flatten(value, f"{prefix}{key}."))
    return flat


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
