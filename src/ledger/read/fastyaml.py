"""A strict reader for the YAML that ledger itself writes, with PyYAML as the reference.

Parsing records is the cold read path's main cost, and PyYAML's C loader is several times
slower than reading the blobs. Records are machine-written by `yamlio.dumps`: block style,
two-space indentation, one scalar per line, no comments, no flow collections except `{}` and
`[]`. This module reads exactly that subset and nothing more. Anything else (an alias, a
tag, a comment, a double-quoted or folded scalar, a timestamp, a duplicate key, odd
indentation, a character PyYAML's reader refuses...) raises `NotCanonical`, and the caller
falls back to `yamlio.loads`, the safe loader with every check. So this reader never decides
whether a document is acceptable: it only answers, faster, for documents whose meaning is
unambiguous, and the answer is the one `yamlio.loads` gives (pinned down by property tests).

Plain scalars are typed with PyYAML's own implicit resolvers (YAML 1.1: `yes`, `0x1F`,
`1:20`, ...), and only their simplest spellings are converted here; the rest fall back.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from ledger.core import yamlio

_TAG = "tag:yaml.org,2002:"
_RESOLVERS: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    key: [(tag, regexp) for tag, regexp in items] for key, items in yamlio.implicit_resolvers().items() if key
}


@functools.cache
def _maybe_typed(first: str) -> re.Pattern[str] | None:
    """Does any resolver for this first character match? Their union, each with its own
    flags (compiled on first use: a warm query never types a scalar)."""
    items = _RESOLVERS.get(first)
    if not items:
        return None
    return re.compile("|".join(f"(?x:{r.pattern})" if r.flags & re.X else f"(?:{r.pattern})" for _, r in items))


def untyped_first(first: str) -> bool:
    """Whether no implicit resolver (bool, int, float, null, timestamp, merge, value) takes a
    plain scalar starting with `first`: then a plain word is a string."""
    return first not in _RESOLVERS and first not in _PLAIN_FIRST_BAD and first not in " -"


# What PyYAML's reader refuses, plus line breaks other than "\n" and tabs (kept simple);
# the ASCII version is the same set for pure-ASCII text, and much cheaper to scan.
_REFUSED = re.compile("[^\x0a\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]")
_REFUSED_ASCII = re.compile("[\x00-\x09\x0b-\x1f\x7f]")
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_BOOLS = {"yes": True, "no": False, "true": True, "false": False, "on": True, "off": False}
_NAN_INF = {".nan": float("nan"), ".inf": float("inf"), "-.inf": float("-inf"), "+.inf": float("inf")}
_PLAIN_FIRST_BAD = frozenset(",[]{}#&*!|>'\"%@`?:")
_BLOCK_HEADER = re.compile(r"\|([+-]?)([1-9]?)([+-]?)\Z")


class NotCanonical(Exception):
    """The text is outside the subset this reader handles: use `yamlio.loads`."""


def parse(text: str) -> dict[str, Any]:
    """The mapping a canonical record document holds; NotCanonical for anything else."""
    return document(lines_of(text))


def lines_of(text: str) -> list[str]:
    """The lines of a document that passes the character and layout checks (the checks that
    look at the whole text rather than at one line)."""
    check_characters(text)
    lines = text.split("\n")
    lines.pop()  # the empty string after the final newline
    if not lines or lines[0][:1] in ("", " ", "-", "%") or lines[0].startswith("---"):
        raise NotCanonical("not a block mapping document")
    return lines


def check_characters(text: str) -> None:
    """NotCanonical unless `text` ends with a newline and holds no character refused here."""
    if not text.endswith("\n") or refused(text):
        raise NotCanonical("unusual characters or no final newline")


def refused(text: str) -> bool:
    """Whether `text` holds a character refused here (any line break but "\\n" included)."""
    return (_REFUSED_ASCII if text.isascii() else _REFUSED).search(text) is not None


def document(lines: list[str]) -> dict[str, Any]:
    """The top-level block mapping that `lines` hold, all of them."""
    value, end = _Parser(lines).mapping(0, 0, 1)
    if end != len(lines):
        raise NotCanonical(f"unexpected line {end + 1}")
    return value


def _plain(text: str) -> Any:
    """A plain scalar's value, as PyYAML's resolver and SafeConstructor would make it."""
    if (
        not text
        or text[0] in _PLAIN_FIRST_BAD
        or text[-1] in " :"
        or text[0] == " "
        or ": " in text
        or " #" in text
        or (text[0] == "-" and (len(text) == 1 or text[1] == " "))
    ):
        raise NotCanonical(f"plain scalar {text!r} needs the full loader")
    maybe = _maybe_typed(text[0])
    if maybe is None or maybe.match(text) is None:
        return text  # no resolver takes it: a string (the common case, in one regex call)
    tag = next(tag for tag, regexp in _RESOLVERS[text[0]] if regexp.match(text))
    kind = tag[len(_TAG) :]
    if kind == "int" and _INT.match(text):
        return int(text)
    if kind == "float" and "_" not in text and ":" not in text:
        lowered = text.lower()
        special = _NAN_INF.get(lowered)
        return special if special is not None else float(lowered)
    if kind == "bool":
        return _BOOLS[text.lower()]
    if kind == "null" and text in ("null", "Null", "NULL", "~"):
        return None
    raise NotCanonical(f"{kind} scalar {text!r} needs the full loader")


def _single_quoted(text: str) -> str:
    """A one-line single-quoted scalar (the whole of `text`)."""
    if len(text) < 2 or text[-1] != "'":
        raise NotCanonical("multi-line quoted scalar")
    body = text[1:-1]
    if "'" in body.replace("''", ""):
        raise NotCanonical("text after a quoted scalar")
    return body.replace("''", "'")


_MISS = object()
# Keys and common values repeat across records: remember what each spelling means.
_MEMO: dict[str, Any] = {}
_MEMO_MAX = 100_000


def scalar(text: str) -> Any:
    """The value of a one-line scalar (plain, single-quoted, `{}` or `[]`) as the safe
    loader reads it; NotCanonical for anything that needs the full loader."""
    value = _MEMO.get(text, _MISS)
    if value is _MISS:
        if text == "{}":
            return {}
        if text == "[]":
            return []
        value = _single_quoted(text) if text[:1] == "'" else _plain(text)
        if len(_MEMO) < _MEMO_MAX:
            _MEMO[text] = value
    return value


def _split_key(text: str) -> tuple[str, str | None] | None:
    """(key, rest) for `key: rest` or `key:` (rest None); None when `text` is no entry."""
    if text[0] == "'":
        end = 1
        while True:
            end = text.find("'", end)
            if end < 0:
                return None
            if text[end + 1 : end + 2] == "'":
                end += 2
                continue
            break
        after = text[end + 1 :]
        if after == ":":
            return _single_quoted(text[: end + 1]), None
        if after.startswith(": "):
            return _single_quoted(text[: end + 1]), after[2:]
        return None
    pos = text.find(": ")
    if pos > 0:
        key, rest = text[:pos], text[pos + 2 :]
    elif text[-1] == ":":
        key, rest = text[:-1], None
    else:
        return None
    return _key(key), rest


def _key(text: str) -> str:
    value = _MEMO.get(text, _MISS)
    if value is _MISS:
        value = _plain(text)
        if len(_MEMO) < _MEMO_MAX:
            _MEMO[text] = value
    if type(value) is not str:
        raise NotCanonical(f"key {text!r} is not a string")
    return value


class _Parser:
    def __init__(self, lines: list[str]):
        self.lines = lines

    def _indent(self, i: int) -> int:
        line = self.lines[i]
        return len(line) - len(line.lstrip(" "))

    def mapping(self, i: int, n: int, depth: int) -> tuple[dict[str, Any], int]:
        if depth >= yamlio.MAX_DEPTH - 1:
            raise NotCanonical("deep nesting")
        lines, count = self.lines, len(self.lines)
        memo, miss = _MEMO, _MISS
        result: dict[str, Any] = {}
        while i < count:
            head, sep, rest = lines[i].partition(": ")
            text = head.lstrip(" ")
            indent = len(head) - len(text)
            if indent != n:
                if indent < n:
                    break
                raise NotCanonical(f"unexpected indentation on line {i + 1}")
            if not text:
                raise NotCanonical(f"line {i + 1} is not a mapping entry")
            if sep and text[0] != "'":
                # The common line, `key: scalar`, in as few steps as possible.
                key = memo.get(text, miss)
                if key is miss or type(key) is not str:
                    key = _key(text)
                if key in result:
                    raise NotCanonical(f"duplicate key {key!r}")
                value = memo.get(rest, miss)
                if value is miss:
                    if not rest:
                        raise NotCanonical("empty value")
                    if rest[0] == "|":
                        result[key], i = self.literal(rest, i + 1, n)
                        continue
                    value = scalar(rest)
                result[key] = value
                i += 1
                continue
            entry = _split_key(text if not sep else text + sep + rest)
            if entry is None:
                raise NotCanonical(f"line {i + 1} is not a mapping entry")
            key, value_text = entry
            if key in result:
                raise NotCanonical(f"duplicate key {key!r}")
            if value_text is None:
                result[key], i = self.nested(i + 1, n, depth)
            elif value_text[:1] == "|":
                result[key], i = self.literal(value_text, i + 1, n)
            elif not value_text:
                raise NotCanonical("empty value")
            else:
                result[key] = scalar(value_text)
                i += 1
        return result, i

    def nested(self, i: int, n: int, depth: int) -> tuple[Any, int]:
        """The block collection after `key:` at indentation n."""
        if i >= len(self.lines):
            raise NotCanonical("empty value")
        line = self.lines[i]
        indent = self._indent(i)
        if indent == n and (line[n : n + 2] == "- "):
            return self.sequence(i, n, depth + 1)
        if indent > n:
            if line[indent : indent + 2] == "- ":
                return self.sequence(i, indent, depth + 1)
            return self.mapping(i, indent, depth + 1)
        raise NotCanonical("empty value")

    def sequence(self, i: int, n: int, depth: int) -> tuple[list[Any], int]:
        if depth >= yamlio.MAX_DEPTH - 1:
            raise NotCanonical("deep nesting")
        lines, count = self.lines, len(self.lines)
        result: list[Any] = []
        while i < count:
            line = lines[i]
            indent = len(line) - len(line.lstrip(" "))
            if indent < n or (indent == n and line[n : n + 2] != "- "):
                break
            if indent > n:
                raise NotCanonical(f"unexpected indentation on line {i + 1}")
            rest = line[n + 2 :]
            if not rest or rest[0] == " ":
                raise NotCanonical("unusual sequence item")
            item: Any
            if rest[:2] == "- ":
                lines[i] = " " * (n + 2) + rest
                item, i = self.sequence(i, n + 2, depth + 1)
            elif rest[0] == "|":
                item, i = self.literal(rest, i + 1, n)
            elif _split_key(rest) is not None:
                lines[i] = " " * (n + 2) + rest
                item, i = self.mapping(i, n + 2, depth + 1)
            else:
                item = scalar(rest)
                i += 1
            result.append(item)
        return result, i

    def literal(self, header: str, i: int, parent: int) -> tuple[str, int]:
        """A literal block scalar (`|`, `|-`, `|+`, `|2-`...) whose parent is at `parent`."""
        match = _BLOCK_HEADER.match(header)
        if not match or (match.group(1) and match.group(3)):
            raise NotCanonical(f"block scalar header {header!r}")
        chomp = match.group(1) or match.group(3)
        lines, count = self.lines, len(self.lines)
        start = i
        if match.group(2):
            indent = parent + int(match.group(2))
        else:
            # Auto-detected: the first non-blank line's indentation; blank lines before it
            # must not be longer (YAML would take theirs).
            widest = 0
            while i < count and not lines[i].strip(" "):
                widest = max(widest, len(lines[i]))
                i += 1
            if i >= count:
                raise NotCanonical("empty block scalar")
            indent = self._indent(i)
            if widest > indent or indent <= parent:
                raise NotCanonical("unusual block scalar indentation")
            i = start
        min_indent = max(parent + 1, 1)
        if indent < min_indent:
            raise NotCanonical("block scalar indentation")
        pad = " " * indent
        pieces: list[str] = []
        breaks = 0
        content = False
        while i < count:
            line = lines[i]
            if len(line) > indent and line.startswith(pad):
                if content or breaks:
                    pieces.append("\n" * (breaks + (1 if content else 0)))
                pieces.append(line[indent:])
                content = True
                breaks = 0
            elif not line.strip(" "):
                breaks += 1
            else:
                break
            i += 1
        if not content:
            raise NotCanonical("empty block scalar")
        # Trailing blank lines belong to the scalar (chomping decides); the next node
        # starts at a line with less indentation.
        if chomp == "-":
            tail = ""
        elif chomp == "+":
            tail = "\n" * (breaks + 1)
        else:
            tail = "\n"
        return "".join(pieces) + tail, i
