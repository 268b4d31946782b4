"""`ledger sweep --optimize METRIC`: adaptive search with Optuna, every trial a real run.

    ledger sweep --optimize auc --trials 40 --sampler tpe --prune median -j 2 \\
        -p 'lr=loguniform(1e-4,1e-1)' -p 'depth=int(2,10)' -p 'model=choice(rf,gbm)' -- python train.py

The search space comes from the `-p` specs: `uniform(a,b)`, `loguniform(a,b)`,
`int(a,b)` / `randint(a,b)` (both bounds included), and lists, `choice(...)` or `range(...)`
(categorical); a single value is fixed. Each worker slot asks the study for a trial, runs
it as a `ledger run` child with the trial's params as `-p` overrides (the trial is told
which it is through `LEDGER_TRIAL`, see `sweep_trial`), and tells the study the outcome
from the run's record: its final METRIC, `pruned`, or `fail`. The study is kept in an
Optuna journal file, so `-j` slots, `--shard` machines and `--submit` tasks cooperate on
one study, and running the same command again continues it until it has `--trials`
trials (any state counts, so a command that always fails still ends).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger import gitstore
from ledger.core.workspace import Workspace
from ledger.errors import UsageError
from ledger.sweep.execute import PointResult, SweepOptions, SweepReport, _Runner, check_options
from ledger.sweep.plan import Point, parse_dimension, split_top
from ledger.write import optuna as sweep_optuna
from ledger.write import trial_notes
from ledger.write.capture import params
from ledger.write.trial import ENV_TRIAL, TrialInfo

_INT = re.compile(r"^int\((.*)\)$", re.S)
STUDIES_DIR = "ledger-studies"


@dataclass(frozen=True)
class OptimizeOptions:
    metric: str
    direction: str | None = None  # None: ledger.yaml, else by the metric's name
    trials: int = 20
    sampler: str = "tpe"
    prune: str = "none"
    prune_startup: int = 5  # median: complete trials before pruning starts
    prune_warmup: int = 0  # steps of a trial before it may be pruned
    study: str | None = None
    storage: str | None = None  # the journal file; default: in the git directory


@dataclass(frozen=True)
class Space:
    """The search space: Optuna distributions, fixed overrides, the grid (None when a
    dimension is continuous)."""

    kinds: dict[str, tuple[str, tuple[Any, ...]]]
    fixed: tuple[str, ...]
    grid: dict[str, list[Any]] | None


def parse_space(specs: list[str]) -> Space:
    kinds: dict[str, tuple[str, tuple[Any, ...]]] = {}
    fixed: list[str] = []
    grid: dict[str, list[Any]] | None = {}
    for spec in specs:
        key, _, raw = spec.partition("=")
        key, raw = key.strip(), raw.strip()
        call = _INT.match(raw)
        if call:
            args = split_top(call.group(1))
            if len(args) != 2 or not all(re.fullmatch(r"-?\d+", a) for a in args):
                raise UsageError(f"{spec}: int takes two integer bounds, e.g. int(2,10)")
            low, high = int(args[0]), int(args[1])
            if low > high:
                raise UsageError(f"{spec}: the lower bound comes first")
            raw = f"randint({low},{high})"
        dim = parse_dimension(f"{key}={raw}")
        if key in kinds or any(f.startswith(f"{key}=") for f in fixed):
            raise UsageError(f"-p {key} is given twice: one -p per parameter")
        if dim.dist == "randint":
            kinds[key] = ("int", (int(dim.low), int(dim.high)))
            if grid is not None:
                grid[key] = list(range(int(dim.low), int(dim.high) + 1))
        elif dim.dist is not None:
            kinds[key] = ("loguniform" if dim.dist == "loguniform" else "float", (dim.low, dim.high))
            grid = None
        elif len(dim.values) == 1:
            fixed.append(f"{key}={dim.values[0]}")
        else:
            kinds[key] = ("categorical", dim.values)
            if grid is not None:
                grid[key] = list(dim.values)
    if not kinds:
        raise UsageError("nothing to optimise: give a range, e.g. -p 'lr=loguniform(1e-4,1e-1)'")
    return Space(kinds, tuple(fixed), grid)


def checked_space(ws: Workspace, specs: list[str]) -> Space:
    """The search space, checked against the params file: a key it lacks (without `+`)
    fails here, once, before any trial runs."""
    space = parse_space(specs)
    sample = [*space.fixed, *(_override(k, args[0]) for k, (_, args) in space.kinds.items())]
    params.check_against_file(ws.root, ws.config.params_file, sample)
    return space


def _float(value: float) -> str:
    """Full precision, written so YAML reads a float back (`1.0e-05`, not `1e-05`)."""
    text = repr(float(value))
    mantissa, sep, exponent = text.partition("e")
    return f"{mantissa}.0e{exponent}" if sep and "." not in mantissa else text


def _override(key: str, value: Any) -> str:
    if isinstance(value, float):
        return f"{key}={_float(value)}"
    return f"{key}={value}"


def study_id(opts: SweepOptions, o: OptimizeOptions) -> str:
    payload = json.dumps([opts.argv, opts.specs, o.metric, o.sampler, opts.seed], sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:8]


def check(opts: SweepOptions, o: OptimizeOptions) -> None:
    check_options(opts)
    if o.trials < 1:
        raise UsageError("--trials needs a positive number of trials")
    if o.sampler not in sweep_optuna.SAMPLERS:
        raise UsageError(f"--sampler {o.sampler}: choose one of {', '.join(sweep_optuna.SAMPLERS)}")
    if o.prune not in sweep_optuna.PRUNERS:
        raise UsageError(f"--prune {o.prune}: choose one of {', '.join(sweep_optuna.PRUNERS)}")
    if opts.random_count is not None:
        raise UsageError("--random and --optimize are two kinds of search: pick one")
    if o.sampler == "grid" and parse_space(opts.specs).grid is None:
        raise UsageError("--sampler grid needs lists, choice(...), range(...) or int(a,b): "
                         "uniform and loguniform ranges need tpe or random")  # fmt: skip


def storage_path(ws: Workspace, o: OptimizeOptions, name: str) -> Path:
    if o.storage:
        return Path(o.storage).expanduser().resolve()
    return gitstore.common_dir(ws.root) / STUDIES_DIR / f"{name}.log"


class _Study:
    """Asks the study for trials and tells it their outcomes, for one sweep process."""

    def __init__(self, ws: Workspace, opts: SweepOptions, o: OptimizeOptions, space: Space, name: str):
        self.opts, self.o, self.space, self.name = opts, o, space, name
        self.direction = o.direction or ws.config.direction(o.metric)
        self.path = storage_path(ws, o, name)
        self.study = sweep_optuna.load_study(
            self.path, name, self.direction, o.sampler, opts.seed, space.grid, o.prune,
            o.prune_startup, o.prune_warmup,
        )  # fmt: skip
        self.dists = {k: sweep_optuna.distribution(kind, args) for k, (kind, args) in space.kinds.items()}
        self.limit = o.trials
        if space.grid is not None and o.sampler == "grid":
            self.limit = min(self.limit, math.prod(len(v) for v in space.grid.values()))
        self.common = gitstore.common_dir(ws.root)
        self.notes: dict[int, Path] = {}  # trial number -> the note naming who runs it

    def take(self) -> Point | None:
        # Counting and asking under one lock: workers sharing the study never overshoot.
        with open(self.path.with_name(self.path.name + ".ask"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if sum(sweep_optuna.counts(self.study).values()) >= self.limit:
                return None
            number, params = sweep_optuna.ask(self.study, self.dists)
            # Noted at once: if this sweep is killed, the next write command fails the trial.
            self.notes[number] = trial_notes.write(self.common, self.path, self.name, number)
        overrides = [*self.space.fixed, *(_override(k, params[k]) for k in self.space.kinds)]
        return Point(number, tuple(overrides))

    def env(self, point: Point) -> dict[str, str]:
        info = TrialInfo(str(self.path), self.name, point.index, self.o.metric, self.direction,
                         self.o.prune, self.o.prune_startup, self.o.prune_warmup)  # fmt: skip
        return {ENV_TRIAL: info.to_env()}

    def launched(self, point: Point, pid: int) -> None:
        """The trial's `ledger run` runs it too: alive, it keeps the trial alive."""
        note = self.notes.get(point.index)
        if note is not None:
            trial_notes.add_process(note, pid)

    def tell(self, result: PointResult) -> None:
        value = ((result.record or {}).get("metrics") or {}).get(self.o.metric)
        number = result.point.index
        if result.state == "pruned":
            sweep_optuna.tell(self.study, number, "pruned")
        elif result.state == "finished" and isinstance(value, (int, float)) and math.isfinite(value):
            sweep_optuna.tell(self.study, number, "complete", float(value))
        else:  # failed, killed, no record, or no value of the metric
            if result.state == "finished":
                result.state = f"finished without {self.o.metric}"  # a failed trial: the sweep says so
            sweep_optuna.tell(self.study, number, "fail")
        note = self.notes.pop(number, None)
        if note is not None:
            trial_notes.remove(note)


def run_optimize(ws: Workspace, opts: SweepOptions,
                 on_result: Callable[[PointResult], None] | None = None) -> SweepReport:  # fmt: skip
    """Run trials, `opts.jobs` at a time, until the study has `--trials` trials."""
    o: OptimizeOptions = opts.optimize
    check(opts, o)
    space = checked_space(ws, opts.specs)
    sid = study_id(opts, o)
    name = o.study or f"{opts.name or 'study'}-{sid}"
    study = _Study(ws, opts, o, space, name)
    report = SweepReport(sid, study.limit, study.limit, study=name)
    runner = _Runner(ws, opts, sid, on_result)
    runner.point_env = study.env
    runner.on_launch = study.launched
    runner.on_finish = study.tell
    # Trials are new points each time: a trial that asks for params run before still runs.
    runner.force = True
    runner.run(study.take, report)
    report.results.sort(key=lambda r: r.point.index)
    report.best = sweep_optuna.best(study.study)
    report.trials = sweep_optuna.counts(study.study)
    return report
