"""Records that share a layout, read once per layout.

Records written by one ledger differ in their values, not in their layout: the same keys,
the same nesting, the same lines, run after run. A *shape* is one such layout, learnt from
a document that `fastyaml` has read:

- a regular expression that matches exactly the documents with this layout, line for line,
  and captures the scalar text of each line that has one;
- a recipe that puts the typed scalars back into the nested dicts and lists;
- JSON templates of the record and of its head (the fields a leaderboard needs), which the
  scalars' JSON fills in to make the cache line.

Reading a record of a known shape is then one regex match (in C), one memo lookup per
scalar and the recipe: a fraction of reading it line by line, and of encoding it again.
Many records of one shape are read faster still a batch at a time (`batches.py`), with the
texts each scalar's slot holds typed a column at a time (`columns.py`).

Why the answer is `fastyaml.parse`'s: a matching document has the shape's lines, with other
scalar text after the same prefixes. A line's prefix (indentation, `- ` markers, the key up
to the line's first `: `) decides how `fastyaml` reads the line, except when the scalar text
itself would start another construct: a block scalar (`|`), a nested item (`- x`), an entry
(`k: v`, `'k': v`), a trailing `:`, or nothing at all. `fastyaml.scalar` refuses every such
text, and it types each scalar here, so a shape either reads a document exactly as
`fastyaml` does or gives it back to `fastyaml`. A shape is checked on the document it was
learnt from, and property tests pin the two readers together.

With a schema splitter (`slotschema.slot_checks`), a shape also knows which checks each
slot needs, so a record of a known shape is validated by checking its scalars alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from operator import itemgetter
from typing import Any, NamedTuple, Protocol

from ledger.read import columns, fastyaml

# A line with a scalar: indentation, `- ` markers, `key: ` up to the line's first ": ",
# then the scalar text (a line ending in ":" opens a block and has none).
_LINE = re.compile(r"( *(?:- )*(?:.*?: )?)(.*[^:])")
# A slot's text: one line (`fastyaml.check_characters` then checks the characters: a
# character class here would make every shape several times slower to compile).
_SCALAR = "(.*)"
_TOKEN = "\x01"  # refused in documents (fastyaml.check_characters): free to mark slots
_SLOT_JSON = re.compile(r'"\\u0001([0-9]+)"')
_BLOCK_SCALAR = re.compile(r"(?:: |^ *- )\|", re.M)
_SHAPES_MAX = 256
_FREE_LEARNS = 16  # shapes learnt before asking whether they pay off
_PAYOFF = 50  # reads per learnt shape that make learning more worthwhile
_PER_LENGTH = 8
_RECHECKS = 8  # records of a layout offered as examples to its splitter, after the first

# How to rebuild one dict or list from the record's scalars (in document order):
# (keys or None for a list, take: the scalars it holds directly, with a stand-in where a
# nested collection goes, nested: (key or index, recipe) for those collections).
Recipe = tuple[tuple[str, ...] | None, Callable[[Sequence[Any]], Sequence[Any]], tuple[tuple[Any, Any], ...]]


class Validity(Protocol):
    """The schema checks of a layout's records by their slot values (slotschema.SlotChecks)."""

    def valid(self, values: Sequence[Any], keys: Sequence[str]) -> bool:
        """Whether one record, of these values (and their texts), is valid."""

    def bad_rows(self, typed: Sequence[columns.Column], keys: Sequence[Sequence[str]], rows: int) -> set[int]:
        """The invalid records of a batch, given each slot's column and its texts."""


# Given a shape's layout, how to find a slot's number in it, and a record of the shape: the
# checks of a record's slot values that decide its validity, or None when that record is
# invalid (slotschema.slot_checks).
Splitter = Callable[[dict[str, Any], Callable[[Any], "int | None"], dict[str, Any]], "Validity | None"]


class _Unknown:
    """No slot checks: the caller validates each record itself (`UNKNOWN`)."""

    def valid(self, values: Sequence[Any], keys: Sequence[str]) -> bool:
        return False

    def bad_rows(self, typed: Sequence[columns.Column], keys: Sequence[Sequence[str]], rows: int) -> set[int]:
        return set(range(rows))


_UNKNOWN = _Unknown()


class Read(NamedTuple):
    record: dict[str, Any] | None  # None when not asked for, and the shape vouched for it
    rendered: tuple[str, str] | None  # (head JSON, record JSON) as the cache stores them
    checked: bool  # valid against the schema, known from the shape's slot checks


class Shape:
    """One layout: its matcher, its recipe, and its JSON templates."""

    __slots__ = ("match", "lines", "recipe", "full", "head", "head_slots", "layout", "checks", "splitter",
                 "rechecks", "numeric", "others", "in_order", "pieces", "head_pieces", "hints", "fixed",
                 "fixes")  # fmt: skip

    def __init__(self, lines: list[tuple[str, bool]], recipe: Recipe, layout: dict[str, Any], full: Template,
                 head: Template, count: int, numeric: list[int]):  # fmt: skip
        self.lines = lines  # each line's pattern: the line, or its prefix when a slot follows
        self.match = re.compile(self._pattern({})).fullmatch
        self.recipe = recipe
        self.layout = layout  # the document with each scalar replaced by its slot's token
        self.full, _, self.pieces = full
        if full[1] != tuple(range(count)):
            raise fastyaml.NotCanonical("slots out of order")
        self.head, self.head_slots, self.head_pieces = head
        self.checks: Validity = _UNKNOWN
        self.splitter: Splitter | None = None  # asked again, with another record, while `checks` is _UNKNOWN
        self.rechecks = 0
        # Batches (`batches.py`): each slot's column kind in the last batch, and a matcher
        # with the slots that held one text in a whole batch fixed to it (rebuilt `fixes` times).
        self.hints = [columns.NUMBERS_KIND if i in numeric else columns.CONSTANT for i in range(count)]
        self.fixed: Fixed | None = None
        self.fixes = 0
        # The slots that held numbers when the shape was learnt, typed together when they
        # still do; `in_order` puts (the others' values + the numbers) back in slot order.
        numbers = set(numeric)
        others = [i for i in range(count) if i not in numbers]
        position = {slot: k for k, slot in enumerate(others + numeric)}
        self.numeric = _taker(numeric) if len(numeric) > 1 else None
        self.others = _taker(others)
        self.in_order = _taker([position[i] for i in range(count)])

    def _pattern(self, fixed: dict[int, str]) -> str:
        """The regex of this layout; the slots in `fixed` hold their text there, not any."""
        pattern = []
        slot = 0
        for line, has_slot in self.lines:
            if has_slot:
                text = fixed.get(slot)
                line += _SCALAR if text is None else re.escape(text)
                slot += 1
            pattern.append(line)
        return "\n".join(pattern) + "\n"

    def rechecks_wanted(self) -> bool:
        """Whether `recheck` would ask the splitter again."""
        return self.checks is _UNKNOWN and self.splitter is not None and self.rechecks < _RECHECKS

    def recheck(self, values: Sequence[Any]) -> None:
        """Learn the slot checks from the record of these values, when those of the record
        the shape was learnt from could not be (it was invalid), a few times at most."""
        if not self.rechecks_wanted():
            return
        self.rechecks += 1
        record = _build(self.recipe, values)
        if self.splitter is not None and isinstance(record, dict):
            self.checks = self.splitter(self.layout, _slot_number, record) or _UNKNOWN

    def fix(self, texts: dict[int, str], typed: dict[int, columns.Column]) -> Fixed:
        """A matcher of this layout's documents whose slots in `texts` hold those texts."""
        self.fixes += 1
        slots = tuple(slot for slot in range(len(self.hints)) if slot not in texts)
        return Fixed(re.compile(self._pattern(texts)).fullmatch, slots, texts, typed)

    def read(self, texts: Sequence[str], build: bool = True) -> Read:
        """The record (if `build`), its JSON and its verdict, from the texts a match captured."""
        values: Sequence[Any]
        rendered: Sequence[str]
        numeric = self._numbers(texts)
        others = texts if numeric is None else self.others(texts)
        try:  # every text typed before (most of a record's): two lookups in C per slot
            found, jsons = columns.lookup(others)
        except KeyError:
            found, jsons = columns.typed_all(others)
        if numeric is None:
            values, rendered = found, jsons
        else:
            texts_of_numbers, numbers = numeric
            values = self.in_order(found + numbers)
            rendered = self.in_order(jsons + texts_of_numbers)
        if build and ("{}" in others or "[]" in others):
            values = [columns.fresh(value) for value in values]  # each record its own empty containers
        if self.checks is _UNKNOWN:
            self.recheck(values)
        checked = self.checks.valid(values, texts)
        record: Any = _build(self.recipe, values) if build or not checked else None
        head = self.head % tuple([rendered[i] for i in self.head_slots])
        return Read(record, (head, self.full % tuple(rendered)), checked)

    def _numbers(self, texts: Sequence[str]) -> tuple[list[str], list[Any]] | None:
        """(texts, values) of the numeric slots, when they all still hold plain numbers:
        one regex match and one `json.loads` instead of one typing per number."""
        if self.numeric is None:
            return None
        numbers = list(self.numeric(texts))
        joined = ",".join(numbers)
        if columns.NUMBERS(joined) is None:
            return None
        values = json.loads(f"[{joined}]")  # JSON reads these spellings as YAML 1.1
        # A slot holding `1,0.999` (a string to YAML) would add a number and shift every
        # later slot: the join is the slots' numbers only if it holds one number per slot.
        return (numbers, values) if len(values) == len(numbers) else None


class Fixed:
    """A shape's matcher with some slots fixed to one text each (the text every record of a
    batch had there): a document it matches is the shape's, with those texts there."""

    __slots__ = ("match", "slots", "texts", "typed")

    def __init__(self, match: Callable[[str], re.Match[str] | None], slots: tuple[int, ...], texts: dict[int, str],
                 typed: dict[int, columns.Column]):  # fmt: skip
        self.match = match
        self.slots = slots  # the slots it still captures, in order
        self.texts = texts  # the fixed slots' texts
        self.typed = typed  # and their constant columns


class Shapes:
    """The shapes seen so far in this process, and reading by them."""

    def __init__(self, head_fields: Sequence[str], splitter: Splitter | None = None):
        self.head_fields = tuple(head_fields)
        self.splitter = splitter
        self.by_length: dict[int, list[Shape]] = {}
        self.count = 0
        self.learnt = 0
        self.hits = 0

    def match(self, text: str) -> tuple[Shape, Fixed | None, tuple[str, ...]] | None:
        """The first known shape `text` matches, its fixed matcher if that matches too, and
        the texts the match captured; None when no shape matches. The texts' characters are
        not checked yet (`batches.read` does)."""
        for shape in self.by_length.get(text.count("\n"), ()):
            fixed = shape.fixed
            found = fixed.match(text) if fixed is not None else None
            if found is not None:
                self.hits += 1
                return shape, fixed, found.groups()
            found = shape.match(text)
            if found is not None:
                self.hits += 1
                return shape, None, found.groups()
        return None

    def parse(self, text: str, build: bool = True) -> Read:
        """`text` read as `fastyaml.parse` reads it, with its cache JSON when a shape gave it
        (and then the record itself only if `build`); NotCanonical when that refuses it."""
        length = text.count("\n")
        matched = False
        for shape in self.by_length.get(length, ()):
            found = shape.match(text)
            if found is not None:
                try:
                    fastyaml.check_characters(text)
                    read = shape.read(found.groups(), build)
                except fastyaml.NotCanonical:
                    matched = True  # a scalar text that starts another construct
                    break
                self.hits += 1
                return read
        record = fastyaml.parse(text)
        learnt = self._learn(text, record) if not matched and self._worth_learning(text) else None
        if learnt is None:
            return Read(record, None, False)
        shape, read = learnt
        bucket = self.by_length.setdefault(length, [])
        bucket.insert(0, shape)
        if len(bucket) > _PER_LENGTH:
            bucket.pop()
        else:
            self.count += 1
        return read

    def _worth_learning(self, text: str) -> bool:
        """Learning a shape costs as much as reading a few dozen records: keep learning
        while shapes pay off, and not for block scalars (their lines vary)."""
        if self.count >= _SHAPES_MAX or (self.learnt >= _FREE_LEARNS and self.hits < _PAYOFF * self.learnt):
            return False
        return _BLOCK_SCALAR.search(text) is None

    def _learn(self, text: str, record: dict[str, Any]) -> tuple[Shape, Read] | None:
        """A new shape from `text`, if it reads `text` exactly as `record`; and that read."""
        self.learnt += 1
        try:
            shape = learn(text, self.head_fields)
            found = shape.match(text)
            if found is None:
                return None
            if self.splitter is not None:
                shape.checks = self.splitter(shape.layout, _slot_number, record) or _UNKNOWN
                shape.splitter = self.splitter
            read = shape.read(found.groups())
        except fastyaml.NotCanonical:
            return None
        expected = _dumps(record)
        assert read.rendered is not None
        same = _dumps(read.record) == expected and _dumps(json.loads(read.rendered[1])) == expected
        return (shape, read) if same else None


def learn(text: str, head_fields: Sequence[str]) -> Shape:
    """The shape of a document; NotCanonical when it has none this module can use."""
    lines = fastyaml.lines_of(text)
    pattern: list[tuple[str, bool]] = []
    marked: list[str] = []
    numeric: list[int] = []
    slots = 0
    for line in lines:
        found = _LINE.fullmatch(line)
        if found is None:
            pattern.append((re.escape(line), False))
            marked.append(line)
            continue
        prefix = found.group(1)
        if columns.NUMBER(found.group(2)) is not None:
            numeric.append(slots)
        pattern.append((re.escape(prefix), True))
        marked.append(f"{prefix}{_TOKEN}{slots}")
        slots += 1
    if not slots:
        raise fastyaml.NotCanonical("a document without scalars")
    skeleton = fastyaml.document(marked)
    order = iter(range(slots))
    recipe = _recipe(skeleton, order)
    if next(order, None) is not None:
        raise fastyaml.NotCanonical("a slot is missing from the shape")
    full = _template(skeleton)
    head = _template({k: skeleton[k] for k in head_fields if k in skeleton})
    return Shape(pattern, recipe, skeleton, full, head, slots, numeric)


def _slot_number(node: Any) -> int | None:
    """The slot a node of a layout stands for; None for a dict or a list."""
    if isinstance(node, str) and node[:1] == _TOKEN:
        return int(node[1:])
    return None


def _slot(node: Any, order: Iterator[int]) -> int | None:
    """The slot number of a scalar node (which must come next in document order)."""
    if not (isinstance(node, str) and node[:1] == _TOKEN):
        if isinstance(node, (dict, list)):
            return None
        raise fastyaml.NotCanonical("a value outside any slot")
    number = next(order, -1)
    if node != f"{_TOKEN}{number}":
        raise fastyaml.NotCanonical("slots out of order")
    return number


def _recipe(node: dict[str, Any] | list[Any], order: Iterator[int]) -> Recipe:
    """How to rebuild `node`; its slots must come in document order, 0, 1, 2 ..."""
    items = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
    direct: list[int] = []
    nested: list[tuple[Any, Any]] = []
    for key, value in items:
        number = _slot(value, order)
        if number is None:
            direct.append(-1)  # a stand-in, replaced by the nested collection
            nested.append((key, _recipe(value, order)))
        else:
            direct.append(number)
    keys = tuple(node) if isinstance(node, dict) else None
    return keys, _taker(direct), tuple(nested)


def _taker(slots: list[int]) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """A C-speed gather of `slots` from a sequence, always as a tuple."""
    if len(slots) == 1:
        only = slots[0]
        return lambda values: (values[only],)
    if not slots:
        return lambda values: ()
    return itemgetter(*slots)


def _build(recipe: Recipe, values: Sequence[Any]) -> dict[str, Any] | list[Any]:
    keys, take, nested = recipe
    out: Any = dict(zip(keys, take(values))) if keys is not None else list(take(values))
    for key, inner in nested:
        out[key] = _build(inner, values)  # a dict keeps the key's place
    return out


# A %-template of a skeleton's JSON with one `%s` per slot, the slots in the order they
# appear, and the template's pieces (the JSON between the slots, not %-escaped).
Template = tuple[str, tuple[int, ...], tuple[str, ...]]


def _template(skeleton: dict[str, Any]) -> Template:
    text = _dumps(skeleton)
    parts = _SLOT_JSON.split(text)
    slots = tuple(int(n) for n in parts[1::2])
    return _SLOT_JSON.sub("%s", text.replace("%", "%%")), slots, tuple(parts[0::2])


def _dumps(value: Any) -> str:
    """JSON exactly as the cache writes it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
