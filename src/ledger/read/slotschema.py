"""The run schema's checks split by the slots of a record layout (`shapes`): a record of a
known layout is valid exactly when each of its scalars passes the schema nodes that reach
its slot, so it is validated by checking its scalars alone, one record at a time or one
slot's column of a batch of records at a time.

A column check (`_ColumnCompiler`) answers for a whole column in a few steps in C (a set
of types, `map` of a pattern's search, `max` of lengths, a bound over `map`): True only
when every value passes `fastschema`'s check of the same nodes. It may say False for a
column whose values all pass (a mix of types, a keyword it does not batch): the column is
then checked value by value. Property tests pin both to jsonschema.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from itertools import repeat
from typing import Any, Protocol

from ledger.core import schema
from ledger.read import fastschema
from ledger.read.fastschema import IGNORED, Check

# Keywords that, on a dict or a list, look only at its type, its keys or its length: for
# records of one layout they give the same answer whatever the scalars hold.
_LAYOUT_ONLY = frozenset({"type", "required", "propertyNames", "minItems", "maxItems", "minLength", "maxLength",
                          "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "const",
                          "enum"})  # fmt: skip
_ROUTED = frozenset({"properties", "patternProperties", "additionalProperties"})


def slot_checks(
    layout: dict[str, Any], slot_of: Callable[[Any], int | None], example: dict[str, Any], name: str = "run"
) -> SlotChecks | Unsplit | None:
    """The schema checks of records of one layout, by slot (see SlotChecks).

    `layout` is a record whose scalars are slots, `slot_of` says which, and `example` is a
    record of the layout. If `example` is valid, another record of the layout is valid
    exactly when each slot's value passes the schema nodes that reach it: the keywords on
    dicts and lists see only the layout, which `example` has passed. None when `example`
    is invalid (another record of the layout may do); UNSPLIT when the schema does not
    split that way (`anyOf`, `oneOf` or `not` over a collection that holds slots, or a
    keyword this module does not know).
    """
    check = fastschema.validator(name)
    if check is None:
        return UNSPLIT
    if not check(example):
        return None
    compiler = fastschema.Compiler(schema.load_schema(name))
    columns = _ColumnCompiler(compiler)
    governing: dict[int, list[Any]] = {}
    try:
        if not _route(compiler, compiler.document, layout, slot_of, governing, 0):
            return UNSPLIT
        by_type: dict[frozenset[type], list[int]] = {}
        others: list[tuple[int, Check, ColumnCheck]] = []
        for slot, nodes in sorted(governing.items()):
            types = _only_types(nodes)
            if types is None:
                each = _every([compiler.compile(node) for node in nodes])
                others.append((slot, each, _all_of([columns.compile(node) for node in nodes])))
            elif types != _ANY:
                by_type.setdefault(types, []).append(slot)
    except fastschema.Unsupported:
        return UNSPLIT
    return SlotChecks(tuple((tuple(slots), types) for types, slots in by_type.items()), others)


class Unsplit:
    """The checks of a layout the schema does not split by slot: they vouch for nothing
    (each record is validated whole)."""

    def valid(self, values: Sequence[Any], keys: Sequence[Any]) -> bool:
        return False

    def bad_rows(self, typed: Sequence[TypedColumn], keys: Sequence[Sequence[Any]], rows: int) -> set[int]:
        return set(range(rows))


UNSPLIT = Unsplit()


class SlotChecks:
    """A yes/no schema check of records of one layout by their scalars (in slot order), for
    one record (`valid`) or for a batch of them, one slot's column at a time (`bad_rows`).
    Each scalar comes with a key that determines it (its text): one that passed a check
    is remembered by it."""

    def __init__(self, groups: tuple[tuple[tuple[int, ...], frozenset[type]], ...],
                 others: list[tuple[int, Check, ColumnCheck]]):  # fmt: skip
        self.groups = groups  # slots whose only check is their type, grouped by the types
        self.others = others  # (slot, its check, the same check over a column)
        self.passed: set[tuple[int, Any]] = set()

    def valid(self, values: Sequence[Any], keys: Sequence[Any]) -> bool:
        """Whether the record of these scalars is valid."""
        for slots, types in self.groups:  # most slots only have a type: checked in bulk, in C
            if not types.issuperset(map(type, map(values.__getitem__, slots))):
                return False
        passed = self.passed
        for slot, check, _ in self.others:
            if (slot, keys[slot]) in passed:
                continue
            if not check(values[slot]):
                return False
            if len(passed) < _PASSED_MAX:
                passed.add((slot, keys[slot]))
        return True

    def bad_rows(self, typed: Sequence[TypedColumn], keys: Sequence[Sequence[Any]], rows: int) -> set[int]:
        """The invalid records of a batch of `rows`, given each slot's column (one value
        for all rows when it is constant) and the keys of its values. Each column is
        checked in a few steps in C; one that these cannot vouch for, value by value."""
        bad: set[int] = set()
        for slots, types in self.groups:
            for slot in slots:
                column = typed[slot]
                if not types.issuperset(column.kinds):
                    if column.constant:
                        return set(range(rows))
                    bad.update(row for row, value in enumerate(column.values) if type(value) not in types)
        passed = self.passed
        for slot, check, column_check in self.others:
            column = typed[slot]
            if column_check(column):
                continue
            if column.constant:
                if not check(column.values[0]):
                    return set(range(rows))
                continue
            texts = keys[slot]
            for row, value in enumerate(column.values):
                key = (slot, texts[row])
                if key in passed:
                    continue
                if not check(value):
                    bad.add(row)
                elif len(passed) < _PASSED_MAX:
                    passed.add(key)
        return bad


class TypedColumn(Protocol):
    """A slot's values in a batch of records (`columns.Column`): one per record, or one
    for all when `constant`; `kinds`, the set of their exact types."""

    values: Sequence[Any]
    kinds: set[type]
    constant: bool


_PASSED_MAX = 50_000  # (slot, text) pairs remembered per layout
_EXACT = {"string": str, "boolean": bool, "null": type(None), "object": dict, "array": list}
_ANY = frozenset({*_EXACT.values(), int, float})  # every type a parsed record holds


def _only_types(nodes: list[Any]) -> frozenset[type] | None:
    """The exact Python types the nodes allow, when all they say is `type` (None when they
    say more, or allow `integer`, which takes some floats; _ANY when they say nothing;
    an empty set when they allow nothing)."""
    allowed: frozenset[type] | None = None
    for node in nodes:
        if node is True:
            continue
        if not isinstance(node, dict) or any(k != "type" and k not in IGNORED for k in node):
            return None
        names = node.get("type")
        if names is None:
            continue
        names = names if isinstance(names, list) else [names]
        if "integer" in names or not all(n in _EXACT or n == "number" for n in names):
            return None
        types = frozenset(t for n in names for t in ((int, float) if n == "number" else (_EXACT[n],)))
        allowed = types if allowed is None else allowed & types
    return _ANY if allowed is None else allowed


def _every(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]
    return lambda x: all(check(x) for check in checks)


def _holds_slot(instance: Any, slot_of: Callable[[Any], int | None]) -> bool:
    if slot_of(instance) is not None:
        return True
    if isinstance(instance, dict):
        return any(_holds_slot(v, slot_of) for v in instance.values())
    if isinstance(instance, list):
        return any(_holds_slot(v, slot_of) for v in instance)
    return False


def _route(
    compiler: fastschema.Compiler, node: Any, instance: Any, slot_of: Callable[[Any], int | None],
    governing: dict[int, list[Any]], depth: int,
) -> bool:  # fmt: skip
    """Hand each schema node that applies inside `instance` down to the slots it reaches."""
    if depth > 200:
        raise fastschema.Unsupported("references that never reach a slot")
    slot = slot_of(instance)
    if slot is not None:
        governing.setdefault(slot, []).append(node)
        return True
    if node is True or not _holds_slot(instance, slot_of):
        return True  # nothing here varies between records of the layout
    if not isinstance(node, dict):
        return False
    for key, value in node.items():
        if key in IGNORED or key in _LAYOUT_ONLY or key in _ROUTED:
            continue
        if key == "$ref":
            ok = _route(compiler, compiler.target(value), instance, slot_of, governing, depth + 1)
        elif key == "allOf":
            ok = all(_route(compiler, sub, instance, slot_of, governing, depth + 1) for sub in value)
        elif key == "items":
            items = instance if isinstance(instance, list) else []
            ok = all(_route(compiler, value, v, slot_of, governing, depth + 1) for v in items)
        else:
            return False  # anyOf, oneOf, not: the verdict would combine several slots
        if not ok:
            return False
    if not isinstance(instance, dict) or not any(k in node for k in _ROUTED):
        return True
    props = node.get("properties") or {}
    patterns = [(re.compile(p).search, sub) for p, sub in (node.get("patternProperties") or {}).items()]
    extra = node.get("additionalProperties", True)
    for key, value in instance.items():
        reached = [props[key]] if key in props else []
        reached += [sub for search, sub in patterns if search(key) is not None]
        for sub in reached or [extra]:
            if not _route(compiler, sub, value, slot_of, governing, depth + 1):
                return False
    return True


# ---------------------------------------------------------------------------- by column

# A column -> True when every value passes (False: check it value by value).
ColumnCheck = Callable[[TypedColumn], bool]
_NUMBERS = frozenset({int, float})
_CONTAINERS = frozenset({dict, list})
# Keywords that look only inside a dict or a list: nothing to check on other values.
_CONTAINER_ONLY = frozenset({"properties", "additionalProperties", "patternProperties", "required",
                             "propertyNames", "items", "minItems", "maxItems"})  # fmt: skip
_BOUND = {"minimum": operator.lt, "maximum": operator.gt, "exclusiveMinimum": operator.le,
          "exclusiveMaximum": operator.ge}  # fmt: skip  # a value fails when op(value, bound)


def _yes(column: TypedColumn) -> bool:
    return True


def _no(column: TypedColumn) -> bool:
    return False  # not vouched for: the column is checked value by value


def _no_containers(column: TypedColumn) -> bool:
    return column.kinds.isdisjoint(_CONTAINERS)


def _all_of(checks: list[ColumnCheck]) -> ColumnCheck:
    checks = [check for check in checks if check is not _yes]
    if not checks:
        return _yes
    if len(checks) == 1:
        return checks[0]
    return lambda column: all(check(column) for check in checks)


def _strings(column: TypedColumn) -> Sequence[str]:
    values = column.values
    return values if len(column.kinds) == 1 else [v for v in values if type(v) is str]


def _numbers(column: TypedColumn) -> Sequence[int | float]:
    values = column.values
    return values if column.kinds <= _NUMBERS else [v for v in values if type(v) is int or type(v) is float]


class _ColumnCompiler:
    """Column checks of schema nodes, with `fastschema`'s semantics (which are jsonschema's)."""

    def __init__(self, compiler: fastschema.Compiler):
        self.compiler = compiler
        self.refs: dict[str, ColumnCheck] = {}

    def compile(self, node: Any) -> ColumnCheck:
        if node is True:
            return _yes
        if not isinstance(node, dict):
            return _no
        return _all_of([self.keyword(key, value) for key, value in node.items() if key not in IGNORED])

    def ref(self, pointer: str) -> ColumnCheck:
        if pointer not in self.refs:
            slot: list[ColumnCheck] = []
            self.refs[pointer] = lambda column: slot[0](column)  # recursive references
            slot.append(self.compile(self.compiler.target(pointer)))
        return self.refs[pointer]

    def keyword(self, key: str, value: Any) -> ColumnCheck:  # noqa: C901 - one branch per keyword
        if key == "type":
            return _type_column(value if isinstance(value, list) else [value])
        if key in ("const", "enum"):
            return _options_column(tuple(value) if key == "enum" else (value,))
        if key == "pattern":
            search = re.compile(value).search
            return lambda column: str not in column.kinds or all(map(search, _strings(column)))
        if key == "maxLength":
            most = value
            return lambda column: str not in column.kinds or max(map(len, _strings(column))) <= most
        if key == "minLength":
            least = value
            return lambda column: str not in column.kinds or min(map(len, _strings(column))) >= least
        if key in _BOUND:
            fails, limit = _BOUND[key], value
            return lambda column: (
                column.kinds.isdisjoint(_NUMBERS) or not any(map(fails, _numbers(column), repeat(limit)))
            )
        if key in _CONTAINER_ONLY:
            return _no_containers
        if key == "not":
            return self.negated(value)
        if key in ("anyOf", "allOf"):
            subs = [self.compile(sub) for sub in value]
            if key == "allOf":
                return _all_of(subs)
            return lambda column: any(sub(column) for sub in subs)
        if key == "$ref":
            return self.ref(value)
        return _no  # oneOf, or a keyword checked value by value

    def negated(self, node: Any) -> ColumnCheck:
        """`not` of a node that says only `pattern`: strings none of which it finds."""
        if not isinstance(node, dict) or {k for k in node if k not in IGNORED} != {"pattern"}:
            return _no
        search = re.compile(node["pattern"]).search
        # jsonschema: `pattern` passes every non-string, so `not` of it fails them.
        return lambda column: column.kinds == {str} and not any(map(search, column.values))


def _type_column(names: list[str]) -> ColumnCheck:
    exact = {_EXACT[name] for name in names if name in _EXACT}
    if "number" in names:
        exact |= _NUMBERS
    integral = "integer" in names and "number" not in names
    if integral:
        exact.add(int)
    allowed = frozenset(exact)

    def types(column: TypedColumn) -> bool:
        kinds = column.kinds
        if kinds <= allowed:
            return True
        if integral and float in kinds and kinds - {float} <= allowed:  # 3.0 is an integer
            return all(v.is_integer() for v in column.values if type(v) is float)
        return False

    return types


def _options_column(options: tuple[Any, ...]) -> ColumnCheck:
    """`enum`/`const`: booleans equal only booleans, numbers by value (never NaN)."""
    strings = frozenset(o for o in options if type(o) is str)
    numbers = frozenset(o for o in options if (type(o) is int or type(o) is float) and o == o)
    booleans = frozenset(o for o in options if type(o) is bool)
    none = any(o is None for o in options)

    def options_column(column: TypedColumn) -> bool:
        kinds = column.kinds
        if kinds == {str}:
            return strings.issuperset(column.values)
        if kinds <= _NUMBERS:
            return numbers.issuperset(column.values)
        if kinds == {bool}:
            return booleans.issuperset(column.values)
        return none and kinds == {type(None)}

    return options_column
