"""Scalar texts typed as `fastyaml.scalar` types them, each with the JSON the cache stores:
one text at a time (`typed`, remembered while few are), or one slot's texts from a batch of
records of one layout at a time (`column`).

A column is typed in a few steps done in C over the whole column, whatever its length, when
its texts are all of one simple kind; the kinds, tried in this order after the kind the
slot's last batch had:

- constant: every record has the same text, typed once;
- remembered: every text was typed before (keys and values that repeat): two lookups in C
  per text;
- numbers: plain decimal numbers, read by one `json.loads` of the joined column (JSON reads
  these spellings as YAML 1.1 does), but for a few other texts typed alone;
- strings: plain words that no YAML resolver can take (`_WORD`), strings as written, and
  single-quoted texts with no quote inside, the strings between the quotes;
- one by one: anything else, each text typed (and remembered) alone. A text fastyaml
  refuses, or with a character it refuses, marks its row: that record is read alone.

Every text in the memo holds no character `fastyaml.refused` refuses: the memo is filled
from documents that passed `fastyaml.check_characters` and from columns that passed
`fastyaml.refused`. So a remembered column needs no character check; numbers and words
hold only the characters their regex allows; the other kinds are checked here.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from json.encoder import encode_basestring
from typing import Any

from ledger.read import fastyaml

# A decimal int, or a decimal float with digits on both sides of the point: what YAML 1.1
# resolves as int or float, in the spellings where `int()`/`float()` agree with PyYAML.
_NUMBER_TEXT = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?"
NUMBER = re.compile(_NUMBER_TEXT).fullmatch
NUMBERS = re.compile(f"{_NUMBER_TEXT}(?:,{_NUMBER_TEXT})*").fullmatch
# Lines of a "\n"-joined column that are no such number, or one with more digits than
# Python reads into an int (4300; PyYAML fails on those too: the record is a bad one).
_NOT_NUMBER_LINE = re.compile(r"^(?!-?(?:0|[1-9][0-9]{0,4000})(?:\.[0-9]+)?$)", re.M).finditer
_MOSTLY = 8  # at most one text in this many may be typed alone in a column of numbers

# Plain words that are strings to YAML 1.1, as written. A word has only the characters of
# `_W` (so no plain-scalar indicator, space, quote or colon: fastyaml reads it as a plain
# scalar, and nothing on its line starts another construct), and no implicit resolver can
# take it, by its first character:
# - a letter or `_` that starts no resolver's texts (resolvers start with one of
#   `yYnNtTfFoO~-+.0123456789<=!&*`);
# - one of `fnotyFNOTY` (bool and null: letters only, at most five): a non-letter after
#   the first character, or six letters or more;
# - a digit (int, float, timestamp: texts of digits, `_.:-+`, space, tab and the letters
#   a-f, A-F, x, t, T, Z): a letter not among those, `/` or `@` somewhere; or no `.:-+xX` (no
#   float, timestamp, hex or sexagesimal int) and a letter: one that is not `b`, or a `b`
#   that is not the `b` of a binary int (`0b` and then only `01_`).
# A line, once matched, is never matched another way (a lookahead's match, taken whole by a
# backreference, as an atomic group would in Python 3.11): a column that fails costs one
# pass, not a search through every way its lines could match.
_W = "[-A-Za-z0-9_./@]"
_WORD = (
    rf"[a-eg-mp-su-xzA-EG-MP-SU-XZ_]{_W}*"
    rf"|[fnotyFNOTY](?:[A-Za-z]{{5}}|[A-Za-z]*[-0-9_./@]){_W}*"
    rf"|[0-9][-.0-9_a-ftxA-FTXZ]*[g-su-wyzG-SU-WY/@]{_W}*"
    r"|[0-9][0-9b_]*[ac-wyzA-WYZ][0-9a-wyzA-WYZ_]*"
    r"|(?:[1-9]|0[0-9_])[0-9_]*b[0-9b_]*|0b(?:[01_]*[2-9b][0-9b_]*)?"
)
_STRINGS = re.compile(rf"(?:(?=((?:{_WORD}|'[^'\n]*')(?:\n(?!\Z)|\Z)))\1)+").fullmatch

# Column kinds, and the order they are tried in given the slot's last kind (a constant
# column is cheap to tell, and the cheapest to read: always tried first).
CONSTANT, REMEMBERED, NUMBERS_KIND, STRINGS, ONE_BY_ONE = range(5)
_ORDER = (CONSTANT, REMEMBERED, NUMBERS_KIND, STRINGS)
_ORDERS = {kind: (CONSTANT, kind, *[k for k in _ORDER[1:] if k != kind]) for kind in _ORDER[1:]}
_ORDERS[CONSTANT] = _ORDERS[ONE_BY_ONE] = _ORDER
_TYPED_MAX = 50_000  # scalar texts remembered (most that repeat show up early)


class Column:
    """One slot's typed texts: their values, their exact types (`kinds`) and their JSON, one
    per row, or just one of each when `constant`; `bad`: the rows whose text needs the
    per-record reader."""

    __slots__ = ("values", "kinds", "jsons", "constant", "bad", "kind")

    def __init__(self, values: Sequence[Any], jsons: Sequence[str], kind: int, *, constant: bool = False,
                 bad: Sequence[int] = (), kinds: set[type] | None = None):  # fmt: skip
        self.values = values
        self.kinds: set[type] = kinds if kinds is not None else set(map(type, values))
        self.jsons = jsons
        self.constant = constant
        self.bad = bad
        self.kind = kind


def column(texts: Sequence[str], hint: int = REMEMBERED) -> Column:
    """`texts` typed as `typed` types each of them, in as few steps as the column allows;
    `hint` is the kind the slot's texts had last time."""
    for kind in _ORDERS[hint]:
        found = _TRIES[kind](texts)
        if found is not None:
            return found
    return _one_by_one(texts)


def _refused_constant(texts: Sequence[str]) -> Column:
    return Column((None,), ("null",), CONSTANT, constant=True, bad=range(len(texts)))


def _constant(texts: Sequence[str]) -> Column | None:
    first = texts[0]
    if texts.count(first) != len(texts):
        return None
    if first not in _VALUES and fastyaml.refused(first):
        return _refused_constant(texts)
    try:
        value, text_json = remembered(first)
    except Exception:  # noqa: BLE001 - whatever fails is read by the per-record reader
        return _refused_constant(texts)
    return Column((value,), (text_json,), CONSTANT, constant=True)


def _remembered(texts: Sequence[str]) -> Column | None:
    try:
        jsons = list(map(_JSONS.__getitem__, texts))
    except KeyError:
        return None
    return Column(list(map(_VALUES.__getitem__, texts)), jsons, REMEMBERED)


def _numbers(texts: Sequence[str]) -> Column | None:
    joined = ",".join(texts)
    # JSON's numbers are YAML's plain decimal numbers (`NUMBER`) plus exponents: without
    # `eE+` (nor anything else but digits, `-`, `.` and the commas), JSON reads the join
    # exactly when each text is one of those, as YAML 1.1 reads it. A text holding `1,0.999`
    # (a string to YAML) would add a number and shift every later row: the join is the
    # texts' numbers only if its commas are the ones joining them.
    if not joined.isascii() or joined.encode("ascii").translate(None, b"0123456789.,-"):
        return _mostly_numbers(texts)
    try:
        values = json.loads(f"[{joined}]")
    except ValueError:  # not numbers, or an int past Python's digit limit (PyYAML's too)
        return _mostly_numbers(texts)
    if len(values) != len(texts):
        return _mostly_numbers(texts)
    points = joined.count(".")  # a float has one, an int none
    kinds: set[type] = {int} if not points else {float} if points == len(texts) else {int, float}
    return Column(values, texts, NUMBERS_KIND, kinds=kinds)


def _mostly_numbers(texts: Sequence[str]) -> Column | None:
    """Numbers but for a few texts (`.nan`, `1e-05`, `1,0.999`), which are typed alone."""
    joined = "\n".join(texts)
    odd: list[int] = []
    row = at = 0
    for found in _NOT_NUMBER_LINE(joined):
        if len(odd) >= len(texts) // _MOSTLY:
            return None
        row += joined.count("\n", at, found.start())
        at = found.start()
        odd.append(row)
    others = _one_by_one([texts[row] for row in odd])
    numbers = list(texts)
    for row in odd:
        numbers[row] = "0"
    values = json.loads(f"[{','.join(numbers)}]")
    jsons = list(texts)
    for row, value, text_json in zip(odd, others.values, others.jsons):
        values[row], jsons[row] = value, text_json
    return Column(values, jsons, NUMBERS_KIND, bad=[odd[k] for k in others.bad])


def _strings(texts: Sequence[str]) -> Column | None:
    joined = "\n".join(texts)
    if _STRINGS(joined) is None:
        return None
    values: Sequence[str] = texts
    if "'" in joined:  # quoted texts (words have no quote): their characters need a check
        if fastyaml.refused(joined):
            return None
        if joined.count("\n'") + (joined[0] == "'") == len(texts):  # every text is quoted
            values = joined[1:-1].split("'\n'")  # no quote inside: quotes and breaks delimit
        else:
            values = [text[1:-1] if text[0] == "'" else text for text in texts]
    return Column(values, list(map(encode_basestring, values)), STRINGS, kinds={str})


def _one_by_one(texts: Sequence[str]) -> Column:
    values: list[Any] = []
    jsons: list[str] = []
    bad: list[int] = []
    for row, text in enumerate(texts):
        try:
            if text not in _VALUES and fastyaml.refused(text):
                raise fastyaml.NotCanonical("a character the reader refuses")
            value, text_json = remembered(text)
        except Exception:  # noqa: BLE001 - whatever fails is read by the per-record reader
            value, text_json = None, "null"
            bad.append(row)
        values.append(value)
        jsons.append(text_json)
    return Column(values, jsons, ONE_BY_ONE, bad=bad)


_TRIES = {CONSTANT: _constant, REMEMBERED: _remembered, NUMBERS_KIND: _numbers, STRINGS: _strings}


# ---------------------------------------------------------------------------- one text

# Each scalar text typed so far: its value and its JSON (the same keys in both). An empty
# `{}` or `[]` is stored once and copied into each record that is built (`fresh`).
_VALUES: dict[str, Any] = {}
_JSONS: dict[str, str] = {}
_EMPTY: dict[str, Any] = {"{}": {}, "[]": []}
_MISS = object()


def remembered(text: str) -> tuple[Any, str]:
    """`typed(text)`, remembered while fewer than _TYPED_MAX texts are. The caller has
    checked the text's characters."""
    value = _VALUES.get(text, _MISS)
    if value is not _MISS:
        return value, _JSONS[text]
    value, text_json = typed(text)
    if len(_VALUES) < _TYPED_MAX:
        _VALUES[text], _JSONS[text] = value, text_json
    return value, text_json


def typed_all(texts: Sequence[str]) -> tuple[list[Any], list[str]]:
    """The values and JSON of `texts`, typing those not seen before (remembered while fewer
    than _TYPED_MAX texts are: most texts that repeat show up early). The caller has checked
    the texts' characters."""
    new = [text for text in dict.fromkeys(texts) if text not in _VALUES]
    for text in new:
        _VALUES[text], _JSONS[text] = typed(text)
    values = list(map(_VALUES.__getitem__, texts))
    jsons = list(map(_JSONS.__getitem__, texts))
    if len(_VALUES) > _TYPED_MAX:
        for text in new:
            del _VALUES[text], _JSONS[text]
    return values, jsons


def lookup(texts: Sequence[str]) -> tuple[list[Any], list[str]]:
    """The values and JSON of texts all typed before; KeyError if one was not."""
    return list(map(_VALUES.__getitem__, texts)), list(map(_JSONS.__getitem__, texts))


def fresh(value: Any) -> Any:
    """A new empty container for a remembered one (each record its own); else `value`."""
    if value is _EMPTY["{}"]:
        return {}
    if value is _EMPTY["[]"]:
        return []
    return value


_SAFE_PLAIN = re.compile(r"[A-Za-z_][-A-Za-z0-9_./@]*").fullmatch


def typed(text: str) -> tuple[Any, str]:
    """(value, JSON) of one scalar text, as `fastyaml.scalar` reads it."""
    if NUMBER(text) is not None:
        # JSON reads these spellings as YAML 1.1 does: the same int, the same float.
        return (float(text) if "." in text else int(text)), text
    if text[:1] == "'" and text[-1:] == "'" and text.count("'") == 2 and len(text) > 1:
        body = text[1:-1]  # a quoted text with no quote inside: the text itself
        return body, encode_basestring(body)
    if _SAFE_PLAIN(text) is not None and fastyaml.untyped_first(text[0]):
        return text, encode_basestring(text)  # a plain word no YAML resolver could take
    if text in _EMPTY:
        return _EMPTY[text], text
    value = fastyaml.scalar(text)
    return value, to_json(value)


def to_json(value: Any) -> str:
    """JSON of a scalar as the cache writes it, without the encoder's setup."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is float:
        if math.isfinite(value):
            return float.__repr__(value)
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    if kind is int:
        return int.__repr__(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
