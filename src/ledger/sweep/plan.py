"""Sweep plans: what `-p` specs, `--random N` and `--shard K/N` expand to.

Each `-p KEY=SPEC` names one parameter (dotted for nested ones) and what it takes:

    -p lr=0.01                  one value, the same in every point
    -p lr=0.01,0.1,1            a list: the grid tries each; --random picks one per point
    -p depth=range(2,10,2)      integers as Python's range (stop excluded): 2,4,6,8
    -p lr=loguniform(1e-4,1e-1) random only: log-uniform between the bounds
    -p drop=uniform(0,0.5)      random only: uniform between the bounds
    -p layers=randint(1,4)      random only: an integer, both bounds included
    -p opt=choice(adam,sgd)     the same as the list adam,sgd

Values are YAML scalars or flow collections, as with `ledger run -p` (`[64,64]` is a list
and its commas do not split; `null` is no value, `None` the text "None"). Keys follow
`ledger run -p`'s grammar: a key the params file has, `+key=...` to add one, `~key` to
remove one from every point. The grid is the product of every list, the last `-p`
varying fastest. `--random N` draws N points with a seeded generator (seed 0 unless
`--seed` says otherwise) so that every machine of a sharded sweep expands the same plan;
drawn floats keep 6 significant digits, and a point drawn twice is kept once.
`--shard K/N` keeps the points whose position modulo N is K-1: the N shards partition
the plan exactly.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import UsageError
from ledger.write.capture.params import parse_override

_CALL = re.compile(r"^(uniform|loguniform|randint|choice|range)\((.*)\)$", re.S)
_RANDOM_ONLY = ("uniform", "loguniform", "randint")


@dataclass(frozen=True)
class Dimension:
    """One `-p` spec: a key and either its values or a distribution to draw from."""

    key: str
    values: tuple[str, ...] = ()  # override texts of the values (lists, range, choice)
    dist: str | None = None  # uniform, loguniform or randint
    low: float = 0.0
    high: float = 0.0

    @property
    def varies(self) -> bool:
        return self.dist is not None or len(self.values) > 1

    def override(self, value: str) -> str:
        """The `-p` text that sets this dimension to `value` (`~key` removes it)."""
        return self.key if self.key.startswith("~") and "=" not in self.key and not value else f"{self.key}={value}"

    def draw(self, rng: random.Random) -> str:
        if self.dist is None:
            return self.values[rng.randrange(len(self.values))]
        if self.dist == "randint":
            return str(rng.randint(int(self.low), int(self.high)))
        if self.dist == "loguniform":
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            value = rng.uniform(self.low, self.high)
        return format_float(value)


@dataclass(frozen=True)
class Point:
    """One run of the sweep: its position in the full plan and its overrides."""

    index: int
    overrides: tuple[str, ...]

    @property
    def label(self) -> str:
        return " ".join(self.overrides)


def format_float(value: float) -> str:
    """6 significant digits, written so YAML reads a float back (`1.0e-05`, not `1e-05`)."""
    text = repr(float(f"{value:.6g}"))
    mantissa, sep, exponent = text.partition("e")
    if sep and "." not in mantissa:
        text = f"{mantissa}.0e{exponent}"
    return text


def split_top(text: str) -> list[str]:
    """Split at commas that are not inside brackets, braces, parentheses or quotes."""
    parts: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{(":
            depth += 1
        elif char in "]})":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return parts


def _number(text: str, spec: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{spec}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise UsageError(f"{spec}: bounds must be finite numbers")
    return value


def parse_dimension(spec: str) -> Dimension:
    """Read one `-p KEY=SPEC` (see the module docstring)."""
    if spec.strip().startswith("~") and "=" not in spec:
        parse_override(spec)
        return Dimension(spec.strip(), ("",))  # removed in every point
    key, sep, raw = spec.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key or not raw:
        raise UsageError(f"bad sweep parameter {spec!r}: write -p key=v1,v2 or -p key=uniform(a,b)")
    parse_override(f"{key}=0")  # the same key rules as `ledger run -p`
    call = _CALL.match(raw)
    if call is None:
        values = split_top(raw)
        if any(not v for v in values):
            raise UsageError(f"{spec}: an empty value between commas: remove the extra comma")
        return Dimension(key, tuple(values))
    func, args = call.group(1), split_top(call.group(2))
    if func == "choice":
        if not args or any(not a for a in args):
            raise UsageError(f"{spec}: choice needs values, e.g. choice(adam,sgd)")
        return Dimension(key, tuple(args))
    if func == "range":
        if not 1 <= len(args) <= 3 or not all(re.fullmatch(r"-?\d+", a) for a in args):
            raise UsageError(f"{spec}: range takes 1 to 3 integers, e.g. range(2,10,2)")
        numbers = [int(a) for a in args]
        if len(numbers) == 3 and numbers[2] == 0:
            raise UsageError(f"{spec}: a range step cannot be 0")
        numbers_text = tuple(str(v) for v in range(*numbers))
        if not numbers_text:
            raise UsageError(f"{spec}: the range is empty")
        return Dimension(key, numbers_text)
    if len(args) != 2:
        raise UsageError(f"{spec}: {func} takes two bounds, e.g. {func}(1,10)")
    low, high = (_number(a, spec) for a in args)
    if low > high:
        raise UsageError(f"{spec}: the lower bound comes first")
    if func == "loguniform" and low <= 0:
        raise UsageError(f"{spec}: loguniform bounds must be greater than 0")
    if func == "randint" and (low != int(low) or high != int(high)):
        raise UsageError(f"{spec}: randint bounds must be integers")
    return Dimension(key, (), func, low, high)


def parse_dimensions(specs: Sequence[str]) -> list[Dimension]:
    dims = [parse_dimension(spec) for spec in specs]
    seen: set[str] = set()
    for dim in dims:
        if dim.key in seen:
            raise UsageError(f"-p {dim.key} is given twice: list all its values in one -p")
        seen.add(dim.key)
    return dims


def grid(dims: Sequence[Dimension]) -> list[Point]:
    """Every combination of the lists, the last dimension varying fastest."""
    for dim in dims:
        if dim.dist is not None:
            raise UsageError(f"-p {dim.key}={dim.dist}(...) is a range to draw from: add --random N")
    combos = itertools.product(*[[d.override(v) for v in d.values] for d in dims])
    return [Point(i, tuple(combo)) for i, combo in enumerate(combos)]


def random_points(dims: Sequence[Dimension], count: int, seed: int) -> list[Point]:
    """`count` draws (fewer when the space is smaller), reproducible from `seed`."""
    if count < 1:
        raise UsageError("--random needs a positive number of points")
    rng = random.Random(seed)
    points: list[Point] = []
    seen: set[tuple[str, ...]] = set()
    for _ in range(count * 20):  # bounded: a small discrete space runs out of new points
        overrides = tuple(d.override(d.draw(rng)) for d in dims)
        if overrides not in seen:
            seen.add(overrides)
            points.append(Point(len(points), overrides))
            if len(points) == count:
                break
    return points


def plan(specs: Sequence[str], *, random_count: int | None = None, seed: int = 0) -> list[Point]:
    """The full, ordered plan of a sweep."""
    dims = parse_dimensions(specs)
    if not dims:
        raise UsageError("nothing to sweep: give at least one -p key=v1,v2")
    if random_count is not None:
        return random_points(dims, random_count, seed)
    return grid(dims)


def point_name(base: str, point: Point, dims: Sequence[Dimension]) -> str:
    """A point's run name by what varies: `gb-learning_rate=0.1-max_depth=3` (the last part
    of each varying key; the whole key where two last parts are the same)."""
    varying = {d.key for d in dims if d.varies}
    shown = [text for text in point.overrides if text.partition("=")[0] in varying]
    leaves = [text.partition("=")[0].lstrip("+~").rsplit(".", 1)[-1] for text in shown]
    parts = []
    for text, leaf in zip(shown, leaves, strict=True):
        key, _, value = text.partition("=")
        parts.append(f"{leaf if leaves.count(leaf) == 1 else key.lstrip('+~')}={value}")
    return "-".join([base, *parts])[:200] if parts else f"{base}-p{point.index}"


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` -> (K, N), 1 <= K <= N."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise UsageError(f"bad shard {text!r}: write --shard K/N with 1 <= K <= N, e.g. 2/4")
    return int(match.group(1)), int(match.group(2))


def shard(points: Sequence[Point], k: int, n: int) -> list[Point]:
    """Shard K of N: the points at positions K-1, K-1+N, K-1+2N, ..."""
    return [p for p in points if p.index % n == k - 1]


def sweep_id(argv: Sequence[str], specs: Sequence[str], random_count: int | None, seed: int) -> str:
    """A short, stable name for one sweep definition (the same on every machine)."""
    payload = json.dumps([list(argv), list(specs), random_count, seed], sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:8]
