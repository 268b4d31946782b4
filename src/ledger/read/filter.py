"""The `--where` filter grammar: MLflow's search syntax plus `or`, `not` and parentheses.

    metrics.auc > 0.9 and params.model.type = 'xgb' and tags.stage = 'final'
    (status = 'finished' or status = 'killed') and not name LIKE 'tmp%'
    metrics.`val/auc` >= 0.8 and params.optimizer IN ('adam', 'sgd')

Grammar (keywords case-insensitive):

    expr       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | "(" expr ")" | comparison
    comparison := field op value | field ["not"] ("like"|"ilike") string
                | field ["not"] "in" "(" value ("," value)* ")"
    field      := metrics.NAME | params.A.B... | tags.NAME | attributes.NAME | NAME
    op         := = | == | != | <> | < | <= | > | >=
    value      := number | 'string' | "string" | true | false | null

`metric`, `param`, `tag`, `attribute`/`attr` work as prefixes too; a name part in backticks
(or double quotes, after a prefix) may hold any character: metrics.`val/auc`,
metrics."val/auc", params.`a.b` for a key with a dot. Values
compare as numbers when both sides are numbers (or numeric strings), and as text when both
are text. A number and a text are never ordered against each other (`'None' >= 6`, a
parameter set to the text None, is false, and `!=` is true), and a metric is compared with
a number only (`metrics.auc > 'high'` is an error). A field a run does not have matches no
comparison (so `not (...)` matches it). `status` compares case-insensitively, so MLflow's
`attributes.status = 'FINISHED'` matches finished runs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ledger.core import fields
from ledger.errors import UsageError

Predicate = Callable[[dict[str, Any]], bool]

PREFIXES = {**fields.PREFIXES, "attributes": "", "attribute": "", "attr": ""}
ATTRIBUTES = {
    "id": ("id",), "run_id": ("id",), "name": ("name",), "run_name": ("name",),
    "status": ("status",), "experiment": ("experiment",), "description": ("description",),
    "started_at": ("started_at",), "start_time": ("started_at",), "ended_at": ("ended_at",),
    "end_time": ("ended_at",), "duration_s": ("duration_s",), "baseline": ("baseline",),
    "author": ("author", "name"), "author.name": ("author", "name"),
    "author.email": ("author", "email"), "author.user": ("author", "user"),
    "author.host": ("author", "host"), "seed": ("seed",), "notes": ("notes",),
    "code.commit": ("code", "commit"), "code.branch": ("code", "branch"),
    "code.dirty": ("code", "dirty"), "cost": ("cost", "amount"),
    "trial.study": ("trial", "study"), "trial.number": ("trial", "number"),
    "trial.pruned_step": ("trial", "pruned_step"), "distributed.launcher": ("distributed", "launcher"),
    "distributed.world_size": ("distributed", "world_size"), "distributed.nodes": ("distributed", "nodes"),
}  # fmt: skip
RUN_NAME_TAG = "mlflow.runName"
OPERATORS = ("==", "!=", "<>", "<=", ">=", "=", "<", ">")
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?(?![\w.]))
    | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*")
    | (?P<op>==|!=|<>|<=|>=|=|<|>)
    | (?P<punct>[(),])
    | (?P<name>(?:[A-Za-z_][\w/:-]*|`[^`]*`)(?:\.(?:[A-Za-z_0-9][\w/:-]*|`[^`]*`|"[^"]*"))*)
    )""",
    re.VERBOSE,
)


class FilterError(UsageError):
    """A `--where` expression that cannot be parsed; the message points at the position."""


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: int
    end: int = -1  # where the token ends (and the next may start)


def tokenize(expr: str) -> list[_Tok]:
    """The tokens of a `--where` expression, then an "end" token; FilterError when it does
    not tokenize (what the UI's prefilter splits expressions with, too)."""
    out: list[_Tok] = []
    pos = 0
    while pos < len(expr):
        if expr[pos:].strip() == "":
            break
        match = _TOKEN.match(expr, pos)
        if not match or match.end() == pos:
            start = pos + len(expr[pos:]) - len(expr[pos:].lstrip())
            if expr[start] in "'\"`":
                raise _error(expr, start, "unterminated quote: close it")
            raise _error(expr, start, f"unexpected character {expr[start]!r}")
        kind = match.lastgroup or ""
        start = match.start(kind)
        out.append(_Tok(kind, match.group(kind), start, match.end()))
        pos = match.end()
    out.append(_Tok("end", "", len(expr)))
    return out


def _error(expr: str, pos: int, message: str) -> FilterError:
    shown = expr if len(expr) <= 120 else expr[:117] + "..."
    return FilterError(f"bad --where expression at column {pos + 1}: {message}: {shown[:pos]}>>>{shown[pos:]}")


def _unquote(text: str) -> str:
    if text[0] == "'":
        return re.sub(r"\\(.)|''", lambda m: m.group(1) or "'", text[1:-1])
    return re.sub(r"\\(.)", lambda m: m.group(1), text[1:-1])


# ---------------------------------------------------------------------------- values


NUMERIC_TEXT = re.compile(r"\s*[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*\Z")


def _number(value: Any) -> float | None:
    """A number, or a string spelling a decimal number; None otherwise (`nan` text too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and NUMERIC_TEXT.match(value):
        return float(value)
    return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_MISSING = fields.MISSING


def _compare(left: Any, op: str, right: Any) -> bool:
    """SQL-like: a missing field or a mapping matches nothing; NaN equals nothing."""
    if left is _MISSING or isinstance(left, (dict, list)):
        return False
    if left is None or right is None:
        same = left is None and right is None
        return same if op in ("=", "==") else (not same) if op in ("!=", "<>") else False
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        if math.isnan(a) or math.isnan(b):
            return op in ("!=", "<>")
        x: Any = a
        y: Any = b
    elif a is not None or b is not None:
        return op in ("!=", "<>")  # a number and a text: different, never ordered
    else:
        x, y = _text(left), _text(right)
    if op in ("=", "=="):
        return bool(x == y)
    if op in ("!=", "<>"):
        return bool(x != y)
    if op == "<":
        return bool(x < y)
    if op == "<=":
        return bool(x <= y)
    if op == ">":
        return bool(x > y)
    return bool(x >= y)


def _like(pattern: str, insensitive: bool) -> Callable[[str], bool]:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    compiled = re.compile(regex + r"\Z", re.S | (re.I if insensitive else 0))
    return lambda text: compiled.match(text) is not None


# ---------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, expr: str):
        self.expr = expr
        self.toks = tokenize(expr)
        self.i = 0
        self.fields: set[str] = set()
        self.case_free = False  # the last field read compares without case (statuses)
        self.refs: set[tuple[str, str]] = set()
        self.path: tuple[str, ...] = ()  # the path of the field just parsed

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def word(self, *words: str) -> bool:
        tok = self.peek()
        return tok.kind == "name" and tok.text.lower() in words

    def fail(self, message: str, tok: _Tok | None = None) -> FilterError:
        return _error(self.expr, (tok or self.peek()).pos, message)

    def parse(self) -> Predicate:
        if self.peek().kind == "end":
            raise self.fail("the expression is empty; e.g. metrics.auc > 0.9")
        pred = self.or_expr()
        if self.peek().kind != "end":
            raise self.fail(f"expected `and`, `or` or the end, found {self.peek().text!r}")
        return pred

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.word("or"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def and_expr(self) -> Predicate:
        parts = [self.not_expr()]
        while self.word("and"):
            self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def not_expr(self) -> Predicate:
        if self.word("not"):
            self.take()
            inner = self.not_expr()
            return lambda r: not inner(r)
        if self.peek().text == "(" and self.peek().kind == "punct":
            self.take()
            inner = self.or_expr()
            if self.peek().text != ")":
                raise self.fail("expected `)`")
            self.take()
            return inner
        return self.comparison()

    def field(self) -> Callable[[dict[str, Any]], Any]:
        tok = self.peek()
        if tok.kind != "name" or tok.text.lower() in ("and", "or", "not", "in", "like", "ilike"):
            raise self.fail("expected a field such as metrics.auc, params.lr, tags.stage or status")
        self.take()
        parts = fields.split_name(tok.text)
        prefix = PREFIXES.get(parts[0].lower()) if not tok.text.startswith("`") else None
        path: tuple[str, ...]
        if prefix and len(parts) == 1:
            raise self.fail(f"{tok.text!r} needs a name after it, e.g. {tok.text}.auc", tok)
        if prefix:
            path = fields.field_path(tok.text)  # params.model.depth nested; metric/tag names whole
        elif prefix == "" and len(parts) > 1:
            path = self.attribute(".".join(parts[1:]), tok)  # attributes.status
        else:
            path = self.attribute(".".join(parts), tok)
        self.fields.add(path[0])
        self.path = path
        kind = {"metrics": "metric", "params": "param", "tags": "tag"}.get(path[0]) if prefix else None
        if kind and path != ("tags", RUN_NAME_TAG):  # checked against the runs by ledger.read.known
            self.refs.add((kind, ".".join(path[1:])))
        self.case_free = path == ("status",)  # `status = 'FINISHED'` (MLflow's spelling) works
        if path == ("status",):
            return lambda rec: _lower(fields.get_path(rec, path))
        if path == ("tags", RUN_NAME_TAG):  # MLflow's name for the run name, on any record

            def run_name(rec: dict[str, Any]) -> Any:
                value = fields.get_path(rec, path)
                return fields.get_path(rec, ("name",)) if value is _MISSING else value

            return run_name
        return lambda rec: fields.get_path(rec, path)  # params.a.b: nested, else the flat key

    def attribute(self, name: str, tok: _Tok) -> tuple[str, ...]:
        path = ATTRIBUTES.get(name.lower())
        if path is None:
            known = ", ".join(sorted(n for n in ATTRIBUTES if "." not in n))
            raise self.fail(f"unknown field {name!r}; use metrics.X, params.X, tags.X or one of {known}", tok)
        return path

    def value(self) -> Any:
        tok = self.take()
        if tok.kind == "number":
            return float(tok.text) if any(c in tok.text for c in ".eE") else int(tok.text)
        if tok.kind == "string":
            return _unquote(tok.text)
        if tok.kind == "name" and tok.text.lower() in ("true", "false"):
            return tok.text.lower() == "true"
        if tok.kind == "name" and tok.text.lower() in ("null", "none"):
            return None
        raise self.fail("expected a value: a number, 'text', true, false or null", tok)

    def comparison(self) -> Predicate:
        get = self.field()
        case_free = self.case_free
        path = self.path
        negate = False
        if self.word("not"):
            self.take()
            negate = True
        if self.word("like", "ilike"):
            insensitive = self.take().text.lower() == "ilike" or case_free
            tok = self.peek()
            pattern = self.value()
            if not isinstance(pattern, str):
                raise self.fail("LIKE needs a quoted pattern, e.g. 'xgb%'", tok)
            match = _like(pattern, insensitive)

            def like(rec: dict[str, Any]) -> bool:
                value = get(rec)
                if value is _MISSING or value is None or isinstance(value, (dict, list)):
                    return False
                return match(_text(value)) != negate

            return like
        if self.word("in"):
            self.take()
            if self.peek().text != "(":
                raise self.fail("IN needs a list in parentheses, e.g. ('a', 'b')")
            self.take()
            options = [self.value()]
            while self.peek().text == ",":
                self.take()
                options.append(self.value())
            if case_free:
                options = [_lower(o) for o in options]
            if self.peek().text != ")":
                raise self.fail("expected `,` or `)` in the IN list")
            self.take()

            def member(rec: dict[str, Any]) -> bool:
                value = get(rec)
                if value is _MISSING or value is None:
                    return False
                return any(_compare(value, "=", o) for o in options) != negate

            return member
        if negate:
            raise self.fail("expected LIKE, ILIKE or IN after NOT")
        tok = self.peek()
        if tok.kind != "op":
            raise self.fail("expected an operator (= != < <= > >= LIKE ILIKE IN)")
        self.take()
        value_tok = self.peek()
        right = self.value()
        if path[0] == "metrics" and isinstance(right, str) and _number(right) is None:
            raise self.fail(f"a metric compares with a number, not {right!r}: e.g. {tok.text} 0.9", value_tok)
        if case_free:
            right = _lower(right)
        op = tok.text
        return lambda rec: _compare(get(rec), op, right)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


@dataclass(frozen=True)
class Filter:
    """A compiled expression: call it on a record; `fields` are the top-level keys it reads,
    `refs` the (`metric`|`param`|`tag`, name) pairs it names (checked against the runs by
    `ledger.read.known`)."""

    expr: str
    predicate: Predicate
    fields: frozenset[str]
    refs: frozenset[tuple[str, str]] = frozenset()

    def __call__(self, rec: dict[str, Any]) -> bool:
        return self.predicate(rec)


def compile_filter(expr: str) -> Filter:
    """Parse an expression once; FilterError (one line, with the column) when it is bad."""
    parser = _Parser(expr)
    predicate = parser.parse()
    return Filter(expr, predicate, frozenset(parser.fields), frozenset(parser.refs))
