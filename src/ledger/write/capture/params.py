"""Parameters: the params file, `-p key=value` overrides, and the seeds among them."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from ledger.core import yamlio
from ledger.errors import ConfigError, RecordError, UsageError

_SEED_KEY = re.compile(r"^(seed|random_seed|random_state|rng_seed|.*_seed)$", re.I)


def load_params_file(root: Path, relpath: str) -> dict[str, Any]:
    path = root / relpath
    if not path.exists():
        return {}
    try:
        data = yamlio.load_file(path, source=relpath)
    except RecordError as exc:
        raise ConfigError(f"{exc}: fix {relpath} and run again") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{relpath}: must be a mapping of parameters: fix it and run again")
    return data


def parse_override(text: str) -> tuple[list[str], Any]:
    """`a.b=3` -> (["a", "b"], 3). The value is read as a YAML scalar or flow collection."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise UsageError(f"bad override {text!r}: write -p key=value (nested: -p model.depth=6)")
    try:
        value = yamlio.loads(raw, source=f"-p {key}") if raw.strip() else ""
    except RecordError:
        value = raw  # not YAML: keep it as the literal string
    return key.split("."), value


def apply_overrides(params: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """A deep copy of `params` with each override set (creating nested keys as needed)."""
    result = copy.deepcopy(params)
    for text in overrides:
        path, value = parse_override(text)
        node = result
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[path[-1]] = value
    return result


def find_seeds(params: Any, prefix: str = "") -> dict[str, int]:
    """Every integer param whose key names a seed, by dotted path."""
    seeds: dict[str, int] = {}
    if isinstance(params, dict):
        for key, value in params.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict):
                seeds.update(find_seeds(value, path + "."))
            elif _SEED_KEY.match(str(key)) and isinstance(value, int) and not isinstance(value, bool):
                seeds[path] = value
    return seeds


def seed_field(params: dict[str, Any]) -> int | dict[str, int] | None:
    """The record's `seed`: one integer when there is one seed, a mapping when several."""
    seeds = find_seeds(params)
    if not seeds:
        return None
    if len(seeds) == 1:
        return next(iter(seeds.values()))
    return seeds
