"""Field paths of a record: nested params as dotted paths, and merging nested mappings."""

from __future__ import annotations

import copy
import re
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


# ---------------------------------------------------------------------------- field paths
#
# One spelling of a record field, read the same way by `--where`, `--columns`, plots, the
# library face and the MLflow shim:
#
#   metrics.auc, metric.auc        ("metrics", "auc")      a metric name is one key, dots
#   metrics.`val/auc`              ("metrics", "val/auc")  and all: metrics.val.auc is the
#   metrics."val/auc"                                      metric "val.auc"
#   tags.stage, tag.stage          ("tags", "stage")       likewise one key
#   params.model.depth             ("params", "model", "depth")  nested; when the run has no
#                                  such nesting, the flat key "model.depth" (MLflow's spelling)
#   params.`a.b`                   ("params", "a.b")       a key that holds a dot
#   resources.wall_s, `odd.name`   ("resources", "wall_s"), ("odd.name",)  any other field

MISSING: Any = object()  # what `get_path` returns for a field the record does not have

PREFIXES = {"metrics": "metrics", "metric": "metrics", "params": "params", "param": "params",
            "tags": "tags", "tag": "tags"}  # fmt: skip

_PART = re.compile(r"`[^`]*`|\"[^\"]*\"|[^.`\"]+")


def split_name(text: str) -> list[str]:
    """`metrics.\\`val/auc\\`` -> ["metrics", "val/auc"]: the dotted parts of a field name,
    a part in backquotes (or double quotes) kept whole and unquoted."""
    return [p[1:-1] if p[:1] in ("`", '"') else p for p in _PART.findall(text)]


def field_path(text: str) -> tuple[str, ...]:
    """The record path a field spelling names (see the table above)."""
    parts = split_name(text)
    if not parts:
        return ()
    prefix = PREFIXES.get(parts[0].lower()) if not text.startswith(("`", '"')) else None
    if prefix is None or len(parts) == 1:
        return tuple(parts)
    if prefix == "params":
        return ("params", *parts[1:])
    return (prefix, ".".join(parts[1:]))


def get_path(rec: Any, path: tuple[str, ...]) -> Any:
    """The value at `path` in a record, or MISSING. A nested params path the record lacks
    is tried as one flat key (`params.model.depth` finds `{"model.depth": 3}`)."""
    value = _walk(rec, path)
    if value is MISSING and len(path) > 2 and path[0] == "params":
        value = _walk(rec, ("params", ".".join(path[1:])))
    return value


def resolve(rec: Any, text: str, default: Any = None) -> Any:
    """The value of the field `text` names in a record, or `default` when it has none."""
    value = get_path(rec, field_path(text))
    return default if value is MISSING else value


def _walk(rec: Any, path: tuple[str, ...]) -> Any:
    value = rec
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value
