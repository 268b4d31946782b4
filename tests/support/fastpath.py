"""Inputs shared by the tests that pin the fast readers to PyYAML and jsonschema."""

from __future__ import annotations

import math
import random
import re
from typing import Any

from ledger.core import yamlio
from support.query_helpers import make

TRICKY = [
    "",
    " ",
    "yes",
    "No",
    "on",
    "OFF",
    "true",
    "False",
    "null",
    "~",
    "Null",
    "1",
    "-1",
    "+1",
    "0",
    "007",
    "0x1F",
    "0o17",
    "0b101",
    "1_000",
    "1:20",
    "1:20.5",
    "1.5",
    "-.5",
    ".5",
    "1.",
    "1e5",
    "1.0e-05",
    "1.0e+20",
    "-1.5e3",
    ".inf",
    "-.Inf",
    ".NaN",
    "nan",
    "inf",
    "2026-11-27",
    "2026-11-27T05:12:03Z",
    "2026-11",
    "=",
    "<<",
    "-",
    "--",
    "--flag",
    "- a",
    "a: b",
    "a:b",
    "key:",
    "#x",
    "a #b",
    "a#b",
    " lead",
    "trail ",
    "mid  dle",
    "'q'",
    '"dq"',
    "it's",
    "[x]",
    "{y}",
    "[]",
    "{}",
    "*alias",
    "&anchor",
    "!tag",
    "%pct",
    "@at",
    "`bt`",
    "?q",
    ":c",
    ",",
    "|",
    ">",
    "a|b",
    "ünïcödé ✓",
    "emoji 🚀",
    "tab\there",
    "bell\x07",
    "nul\x00",
    "esc\x1b[31m",
    "line\nbreak",
    "two\n\nblank",
    "trailing\n",
    "trailing2\n\n",
    "\nleading",
    "  indented\nx",
    "x\n  indented",
    "last space \nx",
    "crlf\r\nx",
    "nel\x85x",
    "ls\u2028x",
    "bom\ufeffx",
    "http://user@example.com:80/x",
    "C:\\path\\x",
    "a" * 300,
    "x" * 70000,
    "---",
    "...",
    "--- x",
    "... x",
    "- - x",
    "0.1",
    "-0.0",
    "1e-310",
    "12345678901234567890",
]

VALUES = [None, True, False, 0, 1, -1, 1.0, 2.5, -0.5, float("nan"), float("inf"), "", "x", "finished",
          "2026-11-27T05:12:03.123Z", "2026-11-27", "../etc", "/abs", "a" * 300, [], ["x"], [1], {}, {"a": 1},
          {"path": "d"}, {"count": 1, "last": 0.5}, "0123456789abcdef", "20261127-051203-x-7f3a9c"]  # fmt: skip


def same(a: Any, b: Any) -> bool:
    """Equal, with types (True is not 1), key order, and NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def full_record(n: int) -> dict[str, Any]:
    return make(
        n, auc=0.9, tags={"stage": "final"}, description="d", author={"name": "a", "email": None},
        command={"argv": ["python", "x.py"], "cwd": "."},
        code={"commit": "a" * 40, "branch": "main", "dirty": False, "patch": None, "tree": "b" * 40},
        data=[{"path": "data/x", "hash": "abc", "size": 1, "nfiles": 1, "source": "x.dvc", "matches": True,
               "role": "dep"}],
        seed=3,
        series={"path": "experiments/x/series.tsv", "metrics": {"loss": {"count": 2, "last": 0.1, "best": 0.1}}},
        artifacts=[{"name": "m", "path": "m.pkl", "hash": "h", "size": 3, "kind": "model", "store": "git"}],
        env={"id": "0123456789abcdef", "python": "3.11"}, hardware={"cpu": "x", "cores": 2, "gpus": [{"name": "g"}]},
        resources={"wall_s": 1.0}, cost={"amount": 1.5, "currency": "USD"},
        error={"type": "E", "exit_code": 1}, reproduces={"run": "x", "verdict": None}, notes="n",
    )  # fmt: skip


SCALAR_LINE = re.compile(r"( *(?:- )*(?:[^\n]*?: )?)([^\n]*[^:\n])")


def with_scalar(text: str, rng: random.Random, replacement: str) -> str:
    """`text` with the scalar text of one random line replaced (kept on one line)."""
    lines = text.split("\n")
    candidates = [i for i, line in enumerate(lines) if SCALAR_LINE.fullmatch(line)]
    i = rng.choice(candidates)
    found = SCALAR_LINE.fullmatch(lines[i])
    assert found is not None
    lines[i] = found.group(1) + replacement.replace("\n", " ")
    return "\n".join(lines)


ONE_LINE = [v for v in VALUES if not isinstance(v, (dict, list)) or not v]


def scalar_texts(rng: random.Random) -> str:
    roll = rng.randrange(6)
    if roll == 0:
        return rng.choice(TRICKY)
    if roll == 1:
        return yamlio.dumps({"k": rng.choice(ONE_LINE)}).partition(": ")[2].split("\n")[0]
    if roll == 2:
        return str(rng.choice([rng.random(), -rng.random(), rng.randint(-9, 10**9), 0, -0.0, 1e-7, 2.5e20]))
    if roll == 3:
        return rng.choice(["'", "''", "'a''b'", "'a'b'", "'x': y", "a: b", "- x", "|", "|-", "{}", "[]", "", " ", "k:"])
    if roll == 4:
        return "".join(rng.choice("ab1.-:' #|{}[]é") for _ in range(rng.randint(1, 6)))
    return rng.choice(["007", "0o17", "1_000", "1.", ".5", "+1", "-0", "00.5", "1e5", "1.5e3", ".nan", "-.inf", "0.0"])
