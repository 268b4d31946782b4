"""The names a run accepts for its metrics and tags: the record schema's rules (one word,
no whitespace), checked when logged, with a message that says what to write instead."""

from __future__ import annotations

from typing import Any

from ledger.errors import LedgerError


def check_metric_name(name: Any) -> None:
    if not isinstance(name, str) or not name or len(name) > 200:
        raise LedgerError(f"metric name {name!r} must be a non-empty text of at most 200 characters")
    if any(c.isspace() for c in name):
        raise LedgerError(f"metric name {name!r} has a space: names are one word, e.g. {_one_word(name)!r}")


def _one_word(name: str) -> str:
    return "_".join(name.split())


def tag_mapping(tags: Any) -> dict[str, str]:
    """Tags as the record keeps them, `{name: text}`, from a mapping or from a list of names
    (tags without values, W&B style). LedgerError for anything else, and for names that are
    empty, longer than 100 characters or hold a space (the record schema's rule)."""
    if tags is None:
        return {}
    if isinstance(tags, (list, tuple, set, frozenset)):
        pairs = [(name, "") for name in (sorted(tags, key=str) if isinstance(tags, (set, frozenset)) else tags)]
    elif isinstance(tags, dict):
        pairs = list(tags.items())
    else:
        raise LedgerError(
            f"tags must be a mapping such as {{'stage': 'dev'}} or a list of names, not {type(tags).__name__}"
        )
    out: dict[str, str] = {}
    for key, value in pairs:
        if not isinstance(key, str) or not key or len(key) > 100:
            raise LedgerError(f"tag name {key!r} must be a non-empty text of at most 100 characters")
        if any(c.isspace() for c in key):
            raise LedgerError(f"tag name {key!r} has a space: names are one word, e.g. {_one_word(key)!r}")
        out[key] = str(value)
    return out
