"""The packaged JSON Schemas, loaded and compiled once; errors as JSON pointers."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from ledger.errors import RecordError, UnsupportedVersion

SCHEMA_VERSION = 1


@functools.cache
def load_schema(name: str = "run") -> dict[str, Any]:
    """The schema document shipped inside the package (`schemas/<name>.schema.json`)."""
    text = resources.files("ledger").joinpath(f"schemas/{name}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _validator(name: str) -> Any:
    import jsonschema  # imported here: only paths that validate pay for it

    cls = jsonschema.validators.validator_for(load_schema(name))
    return cls(load_schema(name))


def _pointer(path: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def check_version(data: Any, source: str) -> None:
    """Refuse a record from a newer ledger with a message that says to upgrade."""
    if not isinstance(data, dict):
        raise RecordError("a record must be a mapping", path=source, pointer="")
    version = data.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise UnsupportedVersion(
            f"written with schema version {version}; this ledger reads up to "
            f"{SCHEMA_VERSION}: upgrade ledger (pip install -U ledger-ml)",
            path=source,
        )


def errors(data: Any, name: str = "run") -> list[tuple[str, str]]:
    """All schema violations as (JSON pointer, message), sorted for stable output."""
    found = [(_pointer(err.absolute_path), err.message) for err in _validator(name).iter_errors(data)]
    return sorted(found)


def validate(data: Any, *, source: str, name: str = "run") -> None:
    """Raise RecordError naming the file and the JSON pointer of the first bad field."""
    if name == "run":
        check_version(data, source)
    problems = errors(data, name)
    if problems:
        pointer, message = problems[0]
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        raise RecordError(f"{message[:300]}{more}", path=source, pointer=pointer)
