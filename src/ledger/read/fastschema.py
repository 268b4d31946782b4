"""A fast yes/no check of a record against the packaged JSON Schema, with jsonschema as the
reference.

`jsonschema` (Draft 2020-12) costs about as much per record as parsing it, and the read path
validates every new blob. This module compiles the same schema document, once, into plain
Python closures that answer only "valid or not". The keywords it knows are implemented with
jsonschema's own semantics (an integral float is an `integer`, `true` is not `1` for
`const`/`enum`, `pattern` searches, keywords ignore instances of other types); a schema
with any other keyword makes `compile_schema` refuse, and callers then use jsonschema for
everything. A record this check calls invalid is handed to jsonschema for the message, so
error texts stay jsonschema's. Differential tests pin the two together. `slotschema` splits
these checks by the scalar slots of a record layout.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from ledger.core import schema

Check = Callable[[Any], bool]

IGNORED = frozenset({"$schema", "$id", "$comment", "title", "description", "$defs", "format",
                      "examples", "default", "deprecated", "readOnly", "writeOnly"})  # fmt: skip


class Unsupported(Exception):
    """The schema uses a keyword this compiler does not implement."""


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


_TYPES: dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "number": _is_number,
    "integer": lambda x: (isinstance(x, int) and not isinstance(x, bool)) or (isinstance(x, float) and x.is_integer()),
}


def _type_check(names: list[str]) -> Check:
    """isinstance-based, as fast as it gets: bool is never a number, 3.0 is an integer."""
    unknown = set(names) - set(_TYPES)
    if unknown:
        raise Unsupported(f"type {sorted(unknown)}")
    plain = tuple(t for n, t in (("object", dict), ("array", list), ("string", str),
                                 ("boolean", bool), ("null", type(None))) if n in names)  # fmt: skip
    number = "number" in names
    integer = "integer" in names and not number
    if not number and not integer:
        return lambda x: isinstance(x, plain)

    def check(x: Any) -> bool:
        if isinstance(x, plain):
            return True
        if isinstance(x, bool):
            return False
        if isinstance(x, int):
            return True
        if isinstance(x, float):
            return number or x.is_integer()
        return False

    return check


def _equal(a: Any, b: Any) -> bool:
    """jsonschema's equality for scalars: booleans equal only booleans."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False  # options are scalars (checked when compiling); a container is none
    return bool(a == b) if type(a) is type(b) or (_is_number(a) and _is_number(b)) else False


# keyword: (what it applies to, test that must hold), as jsonschema words them.
_BOUNDS: dict[str, tuple[str, Callable[[Any, Any], bool]]] = {
    "minimum": ("number", lambda x, m: not x < m),
    "maximum": ("number", lambda x, m: not x > m),
    "exclusiveMinimum": ("number", lambda x, m: not x <= m),
    "exclusiveMaximum": ("number", lambda x, m: not x >= m),
    "maxLength": ("string", lambda n, m: n <= m),
    "minLength": ("string", lambda n, m: n >= m),
    "maxItems": ("array", lambda n, m: n <= m),
    "minItems": ("array", lambda n, m: n >= m),
}


class Compiler:
    def __init__(self, document: dict[str, Any]):
        self.document = document
        self.refs: dict[str, Check] = {}

    def ref(self, pointer: str) -> Check:
        if pointer not in self.refs:
            slot: list[Check] = []
            self.refs[pointer] = lambda x: slot[0](x)  # allows recursive references
            slot.append(self.compile(self.target(pointer)))
        return self.refs[pointer]

    def target(self, pointer: str) -> Any:
        """The schema node a local `$ref` points at."""
        if not pointer.startswith("#/"):
            raise Unsupported(f"$ref {pointer}")
        node: Any = self.document
        for part in pointer[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def compile(self, node: Any) -> Check:
        if node is True:
            return lambda x: True
        if node is False:
            return lambda x: False
        if not isinstance(node, dict):
            raise Unsupported(f"schema node {node!r}")
        checks: list[Check] = []
        props: dict[str, Check] = {}
        for key, value in node.items():
            if key in IGNORED or key in ("properties", "additionalProperties", "patternProperties"):
                continue
            checks.append(self.keyword(key, value))
        if any(k in node for k in ("properties", "additionalProperties", "patternProperties")):
            for name, sub in (node.get("properties") or {}).items():
                props[name] = self.compile(sub)
            checks.append(self.object_check(node, props))
        if not checks:
            return lambda x: True
        if len(checks) == 1:
            return checks[0]
        if len(checks) == 2:
            first, second = checks
            return lambda x: first(x) and second(x)

        def every(x: Any) -> bool:
            for check in checks:
                if not check(x):
                    return False
            return True

        return every

    def keyword(self, key: str, value: Any) -> Check:  # noqa: C901 - one branch per keyword
        """The check for one keyword, with jsonschema's semantics."""
        if key == "type":
            return _type_check(value if isinstance(value, list) else [value])
        if key in ("const", "enum"):
            options = tuple(value) if key == "enum" else (value,)
            if any(isinstance(v, (dict, list)) for v in options):
                raise Unsupported(f"{key} with a container")
            return lambda x: any(_equal(x, o) for o in options)
        if key == "pattern":
            search = re.compile(value).search
            return lambda x: not isinstance(x, str) or search(x) is not None
        if key in _BOUNDS:
            kind, test = _BOUNDS[key]
            bound = value
            if kind == "number":
                return lambda x: not _is_number(x) or test(x, bound)
            cls = str if kind == "string" else list
            return lambda x: not isinstance(x, cls) or test(len(x), bound)
        if key == "required":
            names = tuple(value)
            return lambda x: not isinstance(x, dict) or all(k in x for k in names)
        if key in ("propertyNames", "items", "not"):
            sub = self.compile(value)
            if key == "propertyNames":
                return lambda x: not isinstance(x, dict) or all(sub(k) for k in x)
            if key == "items":
                return lambda x: not isinstance(x, list) or all(sub(v) for v in x)
            return lambda x: not sub(x)
        if key in ("anyOf", "allOf", "oneOf"):
            subs = [self.compile(v) for v in value]
            if key == "anyOf":
                return lambda x: any(c(x) for c in subs)
            if key == "allOf":
                return lambda x: all(c(x) for c in subs)
            return lambda x: sum(1 for c in subs if c(x)) == 1
        if key == "$ref":
            return self.ref(value)
        raise Unsupported(f"keyword {key!r}")

    def object_check(self, node: dict[str, Any], props: dict[str, Check]) -> Check:
        patterns = [(re.compile(p).search, self.compile(s))
                    for p, s in (node.get("patternProperties") or {}).items()]  # fmt: skip
        extra = node.get("additionalProperties", True)
        extra_check = None if extra is True else self.compile(extra)

        def check(x: Any) -> bool:
            if not isinstance(x, dict):
                return True
            for key, value in x.items():
                prop = props.get(key) if isinstance(key, str) else None
                matched = prop is not None
                if prop is not None and not prop(value):
                    return False
                for search, sub in patterns:
                    if isinstance(key, str) and search(key) is not None:
                        matched = True
                        if not sub(value):
                            return False
                if not matched and extra_check is not None and not extra_check(value):
                    return False
            return True

        return check


def compile_schema(document: dict[str, Any]) -> Check:
    """A yes/no validator for `document`; Unsupported if it uses an unknown keyword."""
    return Compiler(document).compile(document)


@functools.cache
def validator(name: str = "run") -> Check | None:
    """The compiled check for a packaged schema, or None when jsonschema must do it all."""
    try:
        return compile_schema(schema.load_schema(name))
    except Unsupported:
        return None


def validate(data: Any, *, source: str, name: str = "run") -> None:
    """Like `schema.validate` (same errors), but fast for the valid records that are the norm."""
    if name == "run":
        schema.check_version(data, source)
    check = validator(name)
    if check is not None and check(data):
        return
    schema.validate(data, source=source, name=name)
