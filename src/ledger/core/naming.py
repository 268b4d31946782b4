"""Run names: the ledger.yaml template (e.g. `{date}_{featureset}_{model}_{hypothesis}`)
filled from the date, tags and params; a readable default otherwise."""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Any

from ledger.core.fields import flatten

_FIELD = re.compile(r"\{([A-Za-z0-9_.\-]+)\}")
_INTERPRETERS = {"python", "python3", "uv", "poetry", "pipenv", "conda", "bash", "sh", "Rscript"}


def render(template: str, *, params: dict[str, Any], tags: dict[str, Any], when: _dt.datetime) -> str:
    """Fill `{field}`s: `date`, then tags, then params by dotted path or by last key."""
    flat = flatten(params)
    by_leaf: dict[str, Any] = {}
    for path, value in flat.items():
        by_leaf.setdefault(path.rsplit(".", 1)[-1], value)

    def value_of(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == "date":
            return when.strftime("%Y%m%d")
        for source in (tags, flat, by_leaf):
            if key in source and source[key] not in (None, ""):
                return str(source[key])
        return "na"

    return _FIELD.sub(value_of, template)


def default_name(argv: list[str] | None) -> str:
    """`python train.py` -> `train`; `dvc repro` -> `dvc-repro`."""
    if not argv:
        return "run"
    words = [w for w in argv if not w.startswith("-")]
    if words and Path(words[0]).name in _INTERPRETERS and len(words) > 1:
        return Path(words[1]).stem or "run"
    if Path(words[0] if words else argv[0]).name == "dvc" and len(words) > 1:
        return f"dvc-{words[1]}"
    return Path(words[0] if words else argv[0]).stem or "run"
