"""Parameters: the params file, `-p` overrides, and the seeds among them.

Overrides follow DVC's and Hydra's grammar, so a typo cannot add a parameter nobody reads:

    -p model.depth=6      change a parameter the params file has (nested with dots)
    -p +model.width=64    add one it does not have
    -p ++model.width=64   set it, whether it exists or not
    -p ~model.width       remove one (`~key=value`: only if it has that value)

Values are YAML: `0.1` is a float, `[64, 64]` a list, `null` is no value, and `None` is
the text "None" (as in Hydra and DVC).
"""

from __future__ import annotations

import copy
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.core import yamlio
from ledger.core.fields import flatten
from ledger.errors import ConfigError, LedgerWarning, RecordError, UsageError

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


_MISSING = object()
# YAML 1.2 floats that PyYAML's YAML 1.1 reads as text (`1e-3`): a number, as users mean.
_EXPONENT = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+")


@dataclass(frozen=True)
class Override:
    """One `-p`: `set` (key=value), `add` (+key=value), `force` (++key=value) or `remove`
    (~key, ~key=value)."""

    op: str
    path: list[str]
    value: Any = None
    has_value: bool = True
    text: str = ""

    @property
    def key(self) -> str:
        return ".".join(self.path)


def parse(text: str) -> Override:
    """Read one override (see the module docstring); UsageError when it is malformed."""
    body = text.strip()
    op = "set"
    for prefix, name in (("++", "force"), ("+", "add"), ("~", "remove")):
        if body.startswith(prefix):
            op, body = name, body[len(prefix) :]
            break
    key, sep, raw = body.partition("=")
    key = key.strip()
    if not key or any(not part for part in key.split(".")) or key[0] in "+~" or (op != "remove" and not sep):
        raise UsageError(
            f"bad override {text!r}: write -p key=value (nested: -p model.depth=6), "
            "-p +key=value to add a parameter, -p ~key to remove one"
        )
    if op == "remove" and not sep:
        return Override(op, key.split("."), None, False, text)
    try:
        value = yamlio.loads(raw, source=f"-p {key}") if raw.strip() else ""
    except RecordError:
        value = raw  # not YAML: keep it as the literal string
    if isinstance(value, str) and _EXPONENT.fullmatch(value.strip()) and value.strip() == raw.strip():
        value = float(value)
    return Override(op, key.split("."), value, True, text)


def parse_override(text: str) -> tuple[list[str], Any]:
    """`a.b=3` (or `+a.b=3`) -> (["a", "b"], 3). The value is read as YAML."""
    found = parse(text)
    return found.path, found.value


def _get(params: dict[str, Any], path: list[str]) -> Any:
    node: Any = params
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def apply_overrides(params: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """A deep copy of `params` with each override applied (nested keys created as needed).

    Lenient: `key=value` and `+key=value` both set, `~key` removes what is there. The
    grammar's rules are checked once, against the params file as the user wrote it, by
    `check_overrides` (an override may be applied again after it was written into the file)."""
    result = copy.deepcopy(params)
    for text in overrides:
        found = parse(text)
        path = found.path
        if found.op == "remove":
            parent = _get(result, path[:-1]) if len(path) > 1 else result
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
            continue
        node = result
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[path[-1]] = found.value
    return result


def check_against_file(root: Path, relpath: str, overrides: list[str]) -> None:
    """`check_overrides` against the params file at `relpath` (a YAML or JSON file; other
    formats are refused later, where overrides are written)."""
    if overrides and Path(relpath).suffix.lower() in (".yaml", ".yml", ".json"):
        check_overrides(load_params_file(root, relpath), overrides, relpath)


def check_overrides(params: dict[str, Any], overrides: list[str], source: str = "params.yaml") -> None:
    """UsageError for an override the grammar refuses: `key=value` for a key `source` does
    not have (naming the close matches), `+key` for one it has, `~key` for one it lacks.
    Warns (LedgerWarning) when a value is the text `None`."""
    from ledger.read.known import close_matches

    current = copy.deepcopy(params)
    for text in overrides:
        found = parse(text)
        key = found.key
        here = _get(current, found.path)
        if found.op == "set" and here is _MISSING:
            names = list(flatten(current))
            matches = close_matches(key, names)
            hint = ("did you mean " + " or ".join(repr(m) for m in matches) + "? ") if matches else ""
            has = "" if names else " (it has none)"
            raise UsageError(
                f"-p {text}: no parameter {key!r} in {source}{has}; {hint}to add it, write -p +{text.strip()}"
            )
        if found.op == "add" and here is not _MISSING:
            raise UsageError(
                f"-p {text}: {key!r} is already in {source} ({here!r}): to change it, write -p {text.strip()[1:]}"
            )
        if found.op == "remove" and here is _MISSING:
            raise UsageError(f"-p {text}: no parameter {key!r} in {source} to remove")
        if found.op == "remove" and found.has_value and here != found.value:
            raise UsageError(f"-p {text}: {key!r} is {here!r} in {source}, not {found.value!r}: nothing removed")
        if found.value == "None" and found.op != "remove":
            warnings.warn(
                f"-p {text} sets the text 'None'; for no value write -p {text.strip()[: -len('None')]}null",
                LedgerWarning,
                stacklevel=2,
            )
        current = apply_overrides(current, [text])


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
