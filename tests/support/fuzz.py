"""A seeded differential fuzzer: the fast record reader against the reference.

The reference is what a record means to ledger without any fast path: PyYAML's safe loader
with ledger's checks (`yamlio.loads`) and then jsonschema (`schema.validate`). The fast
reader is `bulkread.analyze` (shapes, fastyaml, fastschema, with their fallbacks). For each
mutated document the two must agree: the same record (types, key order, NaN), or both a
refusal; neither may raise anything but a RecordError. Used by the CI test
(tests/read/test_reference_fuzz.py, a few thousand cases) and by
benchmarks/bench_fuzz.py (10^6 cases).
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from typing import Any

from ledger.core import schema, yamlio
from ledger.errors import RecordError
from ledger.read import bulkread, cache, shapes, slotschema
from support.fastpath import TRICKY, full_record, same
from support.query_helpers import make

# ---------------------------------------------------------------------------- documents


def _bench_like(n: int, rng: random.Random) -> dict[str, Any]:
    """A record like the benchmark's: nested params, ten metrics, a traceback when failed."""
    metrics = {name: round(rng.uniform(0, 1), 6) for name in ("auc", "val/auc", "f1", "loss", "recall")}
    params = {"model": {"type": rng.choice(["xgb", "rf"]), "depth": rng.randint(2, 12),
                        "learning_rate": round(rng.uniform(0.001, 0.3), 5)},
              "train": {"epochs": rng.randint(5, 50), "seed": n, "balance": rng.choice([True, False])},
              "lr": 1e-05, "dropout": round(rng.uniform(0, 0.5), 3), "notes_tag": f"trial-{n}"}  # fmt: skip
    fields: dict[str, Any] = {
        "seed": n, "tags": {"stage": "sweep"},
        "resources": {"wall_s": 0.9, "cpu_s": 0.85, "peak_rss_bytes": 512000000},
        "series": {"path": "experiments/x/series.tsv",
                   "metrics": {"loss": {"count": 50, "last": metrics["loss"], "last_step": 49, "best": 0.1}}},
    }  # fmt: skip
    if n % 3 == 0:
        trace = 'Traceback (most recent call last):\n  File "train.py", line 3\nValueError: diverged\n'
        fields["error"] = {"type": "ValueError", "message": "diverged", "traceback": trace, "exit_code": 1}
        fields["status"] = "failed"
    return make(n, params=params, metrics=metrics, **fields)


def documents(rng: random.Random, count: int = 6) -> list[str]:
    """Base documents of a few layouts, as ledger writes them."""
    recs = [make(1, auc=0.5), full_record(2)]
    recs += [_bench_like(n, rng) for n in range(3, 3 + max(0, count - 2))]
    return [yamlio.dumps(rec) for rec in recs]


# ---------------------------------------------------------------------------- mutations

_NUMBER_LINE = re.compile(r"( *(?:- )*(?:[^\n]*?: )?)(-?[0-9][0-9.e+-]*)")
_SCALAR_LINE = re.compile(r"( *(?:- )*(?:[^\n]*?: )?)([^\n]*[^:\n])")

MALFORMED = [
    "2026-13-45", "2026-02-30", "2026-00-10", "2026-01-01 25:00:00", "2026-01-01T10:00:00+99:00",
    "2026-1-1", "!!bool x", "!!bool ''", "!!int x", "!!int ''", "!!int 0x", "!!int 0b", "!!float x",
    "!!float ''", "!!float ._", "!!timestamp x", "!!timestamp 2026-13-45", "!!timestamp ''",
    "!!null x", "!!str 1", "!!int 3", "!!float 1", "!!bool yes", "!!timestamp 2026-01-01",
    "!!binary eA==", "!!set {}", "!!python/name:os.system", "!!map x", "!!seq x", "!!omap []",
    "!!int " + "9" * 5000,
]  # fmt: skip


def _number_mutation(text: str, rng: random.Random) -> str:
    """Comma, space, quote and sign mutations of a number's text."""
    other = rng.choice(["0.999", "1", "0", "-2", "7.5", "1e3", "12345678901234567890"])
    cut = rng.randint(0, len(text))
    roll = rng.randrange(16)
    if roll == 0:
        return f"{text},{other}"
    if roll == 1:
        return f"{other},{text}"
    if roll == 2:
        return f"{text[:cut]},{text[cut:]}"
    if roll == 3:
        return f"{text[:cut]} {text[cut:]}".strip() or "0"
    if roll == 4:
        return f"{text} {other}"
    if roll == 5:
        return f"'{text}'"
    if roll == 6:
        return f'"{text}"'
    if roll == 7:
        return f"'{text}"
    if roll == 8:
        return f"+{text}"
    if roll == 9:
        return f"-{text}" if not text.startswith("-") else text[1:]
    if roll == 10:
        return rng.choice(["--", "+-", "-+", "- ", "+"]) + text
    if roll == 11:
        return f"{text[:cut]}_{text[cut:]}"
    if roll == 12:
        return f"0{text}"
    if roll == 13:
        return f"{text}:{rng.randint(0, 70)}"
    if roll == 14:
        return f"{text[:cut]}{rng.choice('.e,+- :#x')}{text[cut:]}"
    return f"{text},{other},{rng.choice(['1', '0.5'])}"


def _replace(lines: list[str], i: int, pattern: Any, value: str) -> None:
    found = pattern.fullmatch(lines[i])
    if found is not None:
        lines[i] = found.group(1) + value.replace("\n", " ")


def mutate(text: str, rng: random.Random) -> str:
    """`text` with one to three seeded mutations, most of them of numeric slots."""
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        numeric = [i for i, line in enumerate(lines) if _NUMBER_LINE.fullmatch(line)]
        scalars = [i for i, line in enumerate(lines) if _SCALAR_LINE.fullmatch(line)]
        roll = rng.randrange(10)
        if roll < 5 and numeric:
            i = rng.choice(numeric)
            found = _NUMBER_LINE.fullmatch(lines[i])
            assert found is not None
            _replace(lines, i, _NUMBER_LINE, _number_mutation(found.group(2), rng))
        elif roll < 7 and scalars:
            _replace(lines, rng.choice(scalars), _SCALAR_LINE, rng.choice(MALFORMED))
        elif roll < 8 and scalars:
            _replace(lines, rng.choice(scalars), _SCALAR_LINE, rng.choice(TRICKY))
        elif len(lines) > 2:
            i = rng.randrange(len(lines) - 1)
            line = lines[i]
            cut = rng.randint(0, len(line))
            kind = rng.randrange(4)
            if kind == 0:
                lines[i] = line[:cut] + rng.choice(",:' \"-#!&*[]{}|>") + line[cut:]
            elif kind == 1:
                lines[i] = line[:cut] + line[cut + 1 :]
            elif kind == 2:
                lines.insert(i, line)
            else:
                del lines[i]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- the oracle


def reference(data: bytes) -> dict[str, Any] | RecordError:
    """The record as the reference reads it, or its RecordError."""
    try:
        rec = yamlio.loads(data, source="")
        schema.validate(rec, source="")
    except RecordError as exc:
        return exc
    assert isinstance(rec, dict)
    return rec


def fresh_shapes() -> shapes.Shapes:
    return shapes.Shapes(cache.HEAD_FIELDS, slotschema.slot_checks)


def verdict(data: bytes) -> str:
    """How the fast reader and the reference compare on `data`: "accepted" or "refused" when
    they agree; "crash", "wrong accept", "wrong refusal" or "wrong value" when not."""
    try:
        payload = bulkread.analyze(data)
    except Exception:  # noqa: BLE001 - what is being counted
        return "crash"
    return compare(data, payload)


def compare(data: bytes, payload: dict[str, Any]) -> str:
    """How the fast reader's `payload` for `data` compares with the reference (`verdict`)."""
    if "crash" in payload:
        return "crash"
    try:
        expected: dict[str, Any] | RecordError = reference(data)
    except Exception:  # noqa: BLE001 - what is being counted
        return "crash"
    try:
        cached = cache.encode("0" * 40, payload) if "x" not in payload else None
    except Exception:  # noqa: BLE001 - what is being counted
        return "crash"
    if isinstance(expected, RecordError):
        if "e" not in payload:
            return "wrong accept"
        return "refused" if payload["e"] == expected.reason else "wrong refusal"
    if "e" in payload:
        return "wrong refusal"
    got = payload.get("r")
    if got is None:
        got = json.loads(payload["j"][1])
    if not same(got, expected):
        return "wrong value"
    if cached is not None:  # what a warm read will answer: the cache line
        entry = cache.decode(cached.rstrip(b"\n"))
        head = {k: expected[k] for k in cache.HEAD_FIELDS if k in expected}
        if entry is None or not same(entry[1], head) or not same(cache.full_record(entry[2]), expected):
            return "wrong value"
    return "accepted"


def run(
    seed: int, cases: int, reader: shapes.Shapes | None = None, batched: bool = False
) -> tuple[Counter[str], list[bytes]]:
    """`cases` seeded mutations of learnt layouts, one document at a time (`analyze`) or,
    when `batched`, in streams of many (`analyze_all`, as a worker reads them: see
    `batch`); the verdicts, and the inputs that failed."""
    rng = random.Random(seed)
    counts: Counter[str] = Counter()
    failures: list[bytes] = []
    previous = bulkread._SHAPES
    bulkread._SHAPES = reader or fresh_shapes()
    try:
        bases = documents(rng)
        for base in bases:  # learn each layout first, as a scan of one team's records would
            for _ in range(3):
                bulkread.analyze(base.encode("utf-8"))
        done = 0
        while done < cases:
            if batched:
                stream = batch(rng, bases, min(cases - done, rng.choice(_BATCH_SIZES)))
                outcomes = [compare(data, payload) for data, payload in _analyze_all(stream)]
            else:
                stream = [mutate(rng.choice(bases), rng).encode("utf-8")]
                outcomes = [verdict(stream[0])]
            for data, outcome in zip(stream, outcomes):
                counts[outcome] += 1
                if outcome not in ("accepted", "refused"):
                    failures.append(data)
            done += len(stream)
    finally:
        bulkread._SHAPES = previous
    return counts, failures


# ---------------------------------------------------------------------------- batches

# Texts a column read in bulk must type as each text alone: words YAML resolves (bools,
# nulls, ints in every base, floats, timestamps), near misses that are strings, quotes
# (`''` inside), numbers a join would misread (`1,0.999`), refused characters.
ODD = [
    "1,0.999", "0,5", "1,2,3", "0.5 1", "1e5", "1E5", "1.5e3", "1.0e-05", "12e45", "0x1f", "0X1F", "0o17", "0b101",
    "0b", "0b2", "0b1b", "0bb", "1b", "000b1", "7f3a9c", "deadbeef", "0000000000000000000000000000000000000001",
    "2026-01-01", "2026-1-1", "2026-01-01T00:00:00Z", "20260101", "1:20", "1_000", "+1", "-0", "-0.0", "00.5", "007",
    ".5", "1.", ".nan", ".inf", "-.inf", "yes", "Yes", "YES", "no", "No", "on", "Off", "true", "True", "FALSE", "y",
    "n", "null", "Null", "NULL", "~", "nulls", "yess", "offset", "truex", "falsey", "ontology", "t-1", "n0", "o.k",
    "''", "'a''b'", "'it''s'", "''''", "'yes'", "'1'", "'0x1f'", "'2026-01-01'", "' x '", "'a'b'", "'", "'a",
    "{}", "[]", "'{}'", "e", "_x", "x/y@z", "a.b-c_d", "é", "'é'", "naïve", "a\x07b", "'a\x07b'", "a\x85b",
    "'a\u2028b'", "a:b", "a: b", "a #b", "- a", "|", "9" * 4400, "1." + "0" * 4400, "-" + "9" * 4301,
]  # fmt: skip
_BATCH_SIZES = (1, 8, 64, 100, 300)
_RATES = (0.0, 0.02, 0.1, 0.5)


def _hex(rng: random.Random, width: int) -> str:
    digits = rng.choice(["0123456789", "0123456789abcdef", "0123456789abcdef", "abcdef"])
    return "".join(rng.choice(digits) for _ in range(width))


def _batch_record(n: int, rng: random.Random) -> dict[str, Any]:
    """A record of one layout whose schema-checked scalars vary from record to record."""
    words = ["xgb", "rf", "yes", "0.5", "", "x y", "2026-01-01", "it's", "on", "a" * 30, "7f3a9c", "ünï"]
    return make(
        n, slug=rng.choice(["sweep", "run", "x0"]), auc=rng.choice([rng.random(), 1, 0, float("nan"), None]),
        status=rng.choice(["finished", "failed", "killed", "running"]), baseline=rng.random() < 0.1,
        ended_at=rng.choice([None, f"2026-11-27T05:{n % 60:02d}:03.{n % 1000:03d}Z"]),
        duration_s=rng.choice([rng.uniform(0, 9), 0, 3, None]), description=rng.choice(words),
        tags={"stage": rng.choice(words), "owner": "ml"}, author={"name": "a", "email": rng.choice([None, "e@x"])},
        command={"argv": ["python", "x.py", rng.choice(words)], "cwd": rng.choice([".", "sub/dir", "a b"])},
        code={"commit": _hex(rng, 40), "branch": rng.choice(["main", "f-1"]), "dirty": rng.random() < 0.5,
              "patch": None, "tree": _hex(rng, 40)},
        data=[{"path": f"data/{rng.choice(words) or 'x'}", "hash": _hex(rng, 8), "size": rng.randint(0, 10**12),
               "nfiles": rng.randint(0, 9), "source": "x.dvc", "matches": rng.random() < 0.5,
               "role": rng.choice(["dep", "out", "data"])}],
        seed=rng.choice([n, None, 0]),
        series={"path": f"experiments/2026-11/{n}/series.tsv",
                "metrics": {"loss": {"count": rng.randint(0, 99), "last": rng.random(), "best": rng.random()}}},
        artifacts=[{"name": "m", "path": f"m{n}.pkl", "hash": _hex(rng, 12), "size": rng.randint(0, 99),
                    "kind": "model", "store": rng.choice(["git", "dvc", "workspace"])}],
        env={"id": _hex(rng, 16), "python": rng.choice(["3.11", "3.12"])},
        hardware={"cpu": "x", "cores": rng.randint(1, 64), "gpus": [{"name": "g"}]},
        resources={"wall_s": rng.uniform(0, 9)}, cost={"amount": rng.uniform(0, 9), "currency": "USD"},
        params={"lr": rng.choice([0.1, 0.01, 1e-05, rng.random()]), "depth": rng.randint(-3, 12),
                "name": rng.choice(words), "flag": rng.random() < 0.5, "opt": rng.choice([None, [], {}, "adam"])},
        notes=rng.choice(words),
    )  # fmt: skip


def _odd_text(rng: random.Random) -> str:
    roll = rng.randrange(4)
    if roll < 2:
        return rng.choice(ODD)
    if roll == 2:
        return rng.choice(TRICKY)
    return rng.choice(MALFORMED)


def batch(rng: random.Random, bases: list[str], size: int) -> list[bytes]:
    """A stream of `size` documents as a worker reads them: mostly records of one layout
    whose values vary, some of them with a column's text made odd (the same lines in
    several records, or in one) or mutated as `mutate` does, mixed with records of the
    other layouts."""
    docs = [yamlio.dumps(_batch_record(rng.randrange(10**6), rng)) for _ in range(size)]
    rate = rng.choice(_RATES)
    lines = docs[0].split("\n")
    scalars = [i for i, line in enumerate(lines) if _SCALAR_LINE.fullmatch(line)]
    odd_lines = rng.sample(scalars, k=min(len(scalars), rng.randint(1, 3)))
    for k, doc in enumerate(docs):
        roll = rng.random()
        if roll < rate:
            edited = doc.split("\n")
            for i in odd_lines[: rng.randint(1, len(odd_lines))]:
                if i < len(edited):
                    _replace(edited, i, _SCALAR_LINE, _odd_text(rng))
            docs[k] = "\n".join(edited)
        elif roll < 2 * rate:
            docs[k] = mutate(doc, rng)
        elif roll < 3 * rate:
            docs[k] = mutate(rng.choice(bases), rng)
    return [doc.encode("utf-8") for doc in docs]


def _analyze_all(stream: list[bytes]) -> list[tuple[bytes, dict[str, Any]]]:
    """`bulkread.analyze_all` over `stream`, each payload beside its document (a crash of
    the whole stream counts against each of them)."""
    try:
        got = dict(bulkread.analyze_all((str(k), data) for k, data in enumerate(stream)))
    except Exception:  # noqa: BLE001 - what is being counted
        return [(data, {"crash": 1}) for data in stream]
    return [(data, got[str(k)]) for k, data in enumerate(stream)]
