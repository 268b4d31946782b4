"""What a `--where` filter lets the runs table skip before it decodes a run's whole record.

Decoding whole records is what a filter on params costs (about 30 us for each run's 2 KB
of JSON). A run is decoded only if it can still match:

- the conjuncts of the expression's top-level `and` that read only a run's small head (id,
  name, status, experiment, started_at, metrics) are checked on the head first;
- a conjunct `params.X = 'text'` or `tags.T = 'text'`, or `... IN ('a', 'b')`, with plain
  text (printable ASCII without quotes or backslashes, not a number, not true/false) holds
  only for a run whose record has that text as a string value: the comparison is text
  against text there (`read.filter`), and every JSON writer spells such a string
  `"text"`. A run whose record JSON holds none of the texts is skipped undecoded.

Anything else (an `or` at the top, `not`, numbers, which `1`, `1.0` and `"1"` all equal,
LIKE, other fields) is left to the decoded record. A plan only ever skips runs that cannot
match: the whole expression is still evaluated on every run that is decoded, so the answer
is `ledger ls --where`'s (tests/ui/test_prefilter.py compares them on many expressions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ledger.read.api import HEAD_FIELDS
from ledger.read.filter import NUMERIC_TEXT, Filter, FilterError, compile_filter, tokenize

_PLAIN = re.compile(r"[ !#-\[\]-~]+\Z")  # printable ASCII but `"` and `\`: never escaped in JSON


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Plan:
    """`on_head`: conjuncts to check on a run's head; `needles`: for each of some
    conjuncts, the JSON strings of which a matching run's record holds at least one."""

    on_head: list[Filter] = field(default_factory=list)
    needles: list[tuple[bytes, ...]] = field(default_factory=list)

    def may_match(self, record_json: bytes) -> bool:
        """False when the run whose whole record this is cannot match."""
        return all(any(n in record_json for n in group) for group in self.needles)


def tokens(expr: str) -> list[Token] | None:
    """The expression's tokens (the filter grammar's own tokenizer), or None when it does
    not tokenize (compile_filter says why)."""
    try:
        found = tokenize(expr)
    except FilterError:
        return None
    return [Token(tok.kind, tok.text, tok.pos, tok.end) for tok in found if tok.kind != "end"]


def conjuncts(expr: str) -> list[str]:
    """The parts of the expression's top-level `and` (the whole expression when it has a
    top-level `or`, or does not tokenize)."""
    found = tokens(expr)
    if found is None:
        return [expr]
    parts: list[str] = []
    depth = 0
    start = 0
    for tok in found:
        if tok.kind == "punct" and tok.text in "()":
            depth += 1 if tok.text == "(" else -1
        elif tok.kind == "name" and depth == 0 and tok.text.lower() in ("and", "or"):
            if tok.text.lower() == "or":
                return [expr]
            parts.append(expr[start : tok.start])
            start = tok.end
    parts.append(expr[start:])
    return [p.strip() for p in parts]


def plan(found: Filter) -> Plan:
    """The plan for a compiled expression."""
    result = Plan()
    for part in conjuncts(found.expr):
        try:
            one = compile_filter(part)
        except FilterError:  # not a conjunct after all: nothing is skipped on its account
            continue
        if one.fields <= HEAD_FIELDS:
            result.on_head.append(one)
            continue
        needles = _needles(part, one)
        if needles:
            result.needles.append(needles)
    return result


def _needles(part: str, found: Filter) -> tuple[bytes, ...]:
    """The JSON strings one of which a run matching `part` holds; () when there is no such
    guarantee."""
    if not (found.fields <= {"params", "tags"} and len(found.refs) == 1):
        return ()  # other fields, or MLflow's run name tag (it falls back to the name)
    toks = tokens(part) or []
    kinds = [t.kind for t in toks]
    if kinds == ["name", "op", "string"] and toks[1].text in ("=", "=="):
        values = [toks[2].text]
    elif (
        len(toks) >= 5 and kinds[:3] == ["name", "name", "punct"] and toks[1].text.lower() == "in"
        and toks[2].text == "(" and toks[-1].text == ")"
    ):  # fmt: skip
        inner = toks[3:-1]
        values = [t.text for t in inner[::2]]
        if any(t.kind != "string" for t in inner[::2]) or any(t.text != "," for t in inner[1::2]):
            return ()
    else:
        return ()
    out = []
    for literal in values:
        text = literal[1:-1]
        if "\\" in text or "''" in text or not _PLAIN.match(text or "\\"):
            return ()
        if NUMERIC_TEXT.match(text) or text in ("true", "false"):
            return ()  # compared as a number, or equal to a boolean: spelled otherwise
        out.append(b'"' + text.encode("ascii") + b'"')
    return tuple(out)
