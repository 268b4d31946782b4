"""ledger sweep"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from ledger.cli import output
from ledger.cli.commands.run import parse_tags
from ledger.core.workspace import Workspace
from ledger.errors import UsageError
from ledger.sweep import plan as sweep_plan
from ledger.sweep import shard as sweep_shard
from ledger.sweep.execute import PointResult, SweepOptions, done_before, plan, run_sweep
from ledger.sweep.optimize import OptimizeOptions, checked_space, parse_space
from ledger.write import liveness
from ledger.write import optuna as sweep_optuna
from ledger.write.capture.params import parse_override

HELP = "grid or random search: one recorded run per point (ledger sweep -p k=v1,v2 -- COMMAND ...)"

EPILOG = """\
parameter specs (-p KEY=SPEC, nested keys with dots; +KEY=SPEC adds a key the params
file does not have, ~KEY removes one; values are YAML: null is no value, None a text):
  lr=0.01,0.1            values: the grid tries each, --random picks one per point
  depth=range(2,10,2)    integers 2,4,6,8 (stop excluded)
  lr=loguniform(1e-4,1e-1), drop=uniform(0,0.5), layers=randint(1,4)   with --random
  opt=choice(adam,sgd)   the same as adam,sgd
Points already done (same command, params, code and data) are skipped; an interrupted
sweep resumes by running the same command again.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("-p", "--param", action="append", default=[], metavar="KEY=SPEC",
                        help="a parameter and the values to try (repeatable; see below)")  # fmt: skip
    parser.add_argument("--random", type=int, metavar="N", help="draw N random points instead of the grid")
    parser.add_argument("--seed", type=int, default=0, help="seed of the --random draws (default 0)")
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="run N points at once (default 1)")
    parser.add_argument("--shard", metavar="K/N|auto",
                        help="run only shard K of N (1 <= K <= N); auto: from the scheduler's job-array "
                             "index (Slurm, Kubernetes, LSF, PBS, SGE)")  # fmt: skip
    parser.add_argument("--shards", type=int, metavar="N",
                        help="the number of shards, for --shard auto where the scheduler gives no count")  # fmt: skip
    parser.add_argument("--name", help="run names: NAME plus what varies, e.g. gb-lr=0.1-depth=3")
    parser.add_argument("--desc", "--description", dest="description", help="the purpose of the sweep")
    parser.add_argument("--tag", action="append", default=[], metavar="KEY[=VALUE]", help="a tag on every run")
    parser.add_argument("--force", action="store_true", help="run every point, even those done before")
    isolation = parser.add_mutually_exclusive_group()
    isolation.add_argument("--worktree", dest="worktree", action="store_const", const=True,
                           help="run each point in its own temporary git worktree "
                                "(automatic with -j > 1 for a `dvc` command or a DVC pipeline)")  # fmt: skip
    isolation.add_argument("--no-worktree", dest="worktree", action="store_const", const=False,
                           help="run every point in this checkout (in a DVC pipeline: one at a time)")  # fmt: skip
    parser.add_argument("--dry-run", action="store_true", help="print the plan and what would run; run nothing")
    search = parser.add_argument_group("adaptive search (Optuna; pip install 'ledger-ml[optuna]')")
    search.add_argument("--optimize", metavar="METRIC", help="search with Optuna for the best final METRIC")
    direction = search.add_mutually_exclusive_group()
    direction.add_argument("--max", dest="direction", action="store_const", const="max", help="higher is better")
    direction.add_argument("--min", dest="direction", action="store_const", const="min", help="lower is better")
    search.add_argument("--trials", type=int, default=20, metavar="N", help="trials in the study (default 20)")
    search.add_argument("--sampler", default="tpe", choices=sweep_optuna.SAMPLERS, help="default tpe")
    search.add_argument("--prune", default="none", choices=sweep_optuna.PRUNERS,
                        help="stop poor trials early from the METRIC they log with step= (default none)")  # fmt: skip
    search.add_argument("--prune-startup", type=int, default=5, metavar="N",
                        help="median: complete trials before any is pruned (default 5)")  # fmt: skip
    search.add_argument("--prune-warmup", type=int, default=0, metavar="STEPS",
                        help="steps of a trial before it may be pruned (default 0)")  # fmt: skip
    search.add_argument("--study", metavar="NAME", help="the study's name (default: from the sweep's definition)")
    search.add_argument("--storage", metavar="FILE",
                        help="the study's journal file; on a shared filesystem for several machines "
                             "(default: in the git directory)")  # fmt: skip
    cluster = parser.add_argument_group("job arrays (submitit; pip install 'ledger-ml[cluster]')")
    cluster.add_argument("--submit", choices=("slurm", "local"),
                         help="run the sweep as a job array of --shards tasks, each in its own clone, "
                              "pushing its records (local: processes on this machine)")  # fmt: skip
    cluster.add_argument("--submit-opt", action="append", default=[], metavar="KEY=VALUE",
                         help="a submitit executor parameter, e.g. slurm_partition=gpu, timeout_min=120, "
                              "gpus_per_node=1 (repeatable)")  # fmt: skip
    cluster.add_argument(
        "--submit-dir", metavar="DIR", help="submitit's folder for logs (default: in the git directory)"
    )
    cluster.add_argument("--wait", action="store_true", help="--submit slurm: wait for the tasks and report them")
    parser.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND", help="the command to run")


def _line(result: PointResult, metric: str | None, total: int) -> str:
    head = f"[{result.point.index + 1}/{total}] {result.point.label}: {result.state}"
    value = ((result.record or {}).get("metrics") or {}).get(metric) if metric else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        head += f" {metric}={value:.6g}"
    if result.run_id:
        head += f" ({'done before as ' if result.state == 'skipped' else ''}{result.run_id})"
    elif result.exit_code not in (None, 0):
        head += f" (exit code {result.exit_code})"
    return head


def _optimize(args: argparse.Namespace) -> OptimizeOptions | None:
    if args.optimize is None:
        return None
    return OptimizeOptions(
        metric=args.optimize, direction=args.direction, trials=args.trials, sampler=args.sampler,
        prune=args.prune, prune_startup=args.prune_startup, prune_warmup=args.prune_warmup,
        study=args.study, storage=args.storage,
    )  # fmt: skip


def _progress(metric: str | None, total: int) -> Callable[[PointResult], None]:
    def progress(result: PointResult) -> None:
        output.err("ledger: " + _line(result, metric, total))
        if result.state not in ("finished", "skipped", "pruned") and result.log_tail:
            for text in result.log_tail.splitlines():
                output.err(f"    {text}")

    return progress


def _run_optimize(ws: Workspace, opts: SweepOptions, metric: str, dry_run: bool) -> int:
    o = opts.optimize
    if dry_run:
        space = parse_space(opts.specs)
        for key, (kind, values) in sorted(space.kinds.items()):
            output.out(f"{key}\t{kind}{tuple(values)}")
        for fixed in space.fixed:
            output.out(f"{fixed}\tfixed")
        output.err(f"ledger: would run up to {o.trials} trials ({o.sampler}, pruning: {o.prune})")
        return 0
    report = run_sweep(ws, opts, _progress(metric, o.trials))
    counts = ", ".join(f"{n} {s}" for s, n in sorted(report.trials.items()))
    output.err(f"ledger: study {report.study}: {counts or 'no trials'}")
    if report.best is not None:
        number, value = report.best
        output.err(f"ledger: best: trial {number}, {metric}={value:.6g}")
    if report.interrupted:
        output.err("ledger: sweep interrupted: run the same command again to continue the study")
        return 130
    return 0 if report.ok else 1


def _task_args(args: argparse.Namespace, opts: SweepOptions, ws: Workspace) -> list[list[str]]:
    """The `ledger sweep` arguments of each submitted task."""
    common: list[str] = [f"--param={spec}" for spec in opts.specs]
    if opts.random_count is not None:
        common.append(f"--random={opts.random_count}")
    common += [f"--seed={opts.seed}", f"--jobs={opts.jobs}"]
    for flag, value in (("--name", opts.name), ("--desc", opts.description)):
        if value:
            common.append(f"{flag}={value}")
    common += [f"--tag={key}={value}" for key, value in sorted(opts.tags.items())]
    if opts.force:
        common.append("--force")
    if opts.worktree is not None:
        common.append("--worktree" if opts.worktree else "--no-worktree")
    o = opts.optimize
    if o is None:
        return [[*common, f"--shard={k}/{args.shards}", "--", *opts.argv] for k in range(1, args.shards + 1)]
    from ledger.sweep.optimize import storage_path, study_id

    # Every task is one more worker of the same study, in a journal they all reach.
    study = o.study or f"{opts.name or 'study'}-{study_id(opts, o)}"
    common += [f"--optimize={o.metric}", f"--trials={o.trials}", f"--sampler={o.sampler}", f"--prune={o.prune}",
               f"--prune-startup={o.prune_startup}", f"--prune-warmup={o.prune_warmup}", f"--study={study}",
               f"--storage={storage_path(ws, o, study)}"]  # fmt: skip
    if o.direction:
        common.append(f"--{o.direction}")
    return [[*common, "--", *opts.argv] for _ in range(args.shards)]


def _submit(ws: Workspace, args: argparse.Namespace, opts: SweepOptions) -> int:
    from ledger.sweep import submit

    if args.shards is None or args.shards < 1:
        raise UsageError("--submit needs --shards N: how many tasks share the sweep")
    if args.shard is not None or args.dry_run:
        raise UsageError("--submit makes the shards itself: drop --shard / --dry-run")
    if opts.optimize is None:
        plan(ws, opts)  # bad specs fail here, not on the nodes
    else:
        checked_space(ws, opts.specs)
    parameters = {}
    for item in args.submit_opt:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"bad --submit-opt {item!r}: write KEY=VALUE, e.g. slurm_partition=gpu")
        parameters[key.strip()] = parse_override(f"x={value}")[1]
    folder = Path(args.submit_dir).resolve() if args.submit_dir else None
    done = submit.submit(ws, args.submit, _task_args(args, opts, ws), folder=folder, parameters=parameters,
                         wait=args.wait)  # fmt: skip
    output.err(f"ledger: submitted {len(done.job_ids)} task(s) ({args.submit}): {', '.join(done.job_ids)}; "
               f"logs in {done.folder}")  # fmt: skip
    if not done.results:
        output.err("ledger: each task pushes its records when it ends: `ledger push` (or git pull) brings them here")
        return 0
    for task in done.results:
        state = "ok" if task.ok else f"sweep exit {task.sweep_exit}, push exit {task.push_exit}"
        output.err(f"ledger: task {task.shard}/{len(done.results)}: {state}")
        if not task.ok:
            for text in task.output.strip().splitlines()[-12:]:
                output.err(f"    {text}")
    output.err("ledger: the records are on the remote: `ledger push` (or git pull) brings them here")
    return 0 if all(t.ok for t in done.results) else 1


def _shard(args: argparse.Namespace) -> tuple[int, int] | None:
    if args.submit:
        return None
    if args.shard is None:
        if args.shards is not None:
            raise UsageError("--shards N goes with --shard auto (or --submit)")
        return None
    if args.shard.strip() == "auto":
        task = sweep_shard.from_environment(os.environ, args.shards)
        return task.k, task.n
    return sweep_plan.parse_shard(args.shard)


def run(args: argparse.Namespace) -> int:
    argv = list(args.argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise UsageError("nothing to run: write `ledger sweep -p key=v1,v2 -- COMMAND [ARGS...]`")
    opts = SweepOptions(
        argv=argv, specs=args.param, random_count=args.random, seed=args.seed, jobs=args.jobs,
        shard=_shard(args), name=args.name,
        description=args.description, tags=parse_tags(args.tag), force=args.force,
        worktree=args.worktree, optimize=_optimize(args),
    )  # fmt: skip
    ws = Workspace.find()
    liveness.tidy(ws)  # what dead ledger processes left: a write command's job
    metric = ws.config.primary_metric
    if args.submit:
        return _submit(ws, args, opts)
    if opts.optimize is not None:
        return _run_optimize(ws, opts, metric=opts.optimize.metric, dry_run=args.dry_run)
    if args.dry_run:
        sid, points, selected = plan(ws, opts)
        earlier = done_before(ws, opts, selected)
        for point in selected:
            done = f"  (done: {earlier[point.index]['id']})" if point.index in earlier else ""
            output.out(f"{point.index + 1}\t{point.label}{done}")
        output.err(f"ledger: sweep {sid}: {len(selected)} of {len(points)} points, "
                   f"{len(selected) - len(earlier)} to run")  # fmt: skip
        return 0
    _, points, _ = plan(ws, opts)
    report = run_sweep(ws, opts, _progress(metric, len(points)))
    counts = {s: report.count(s) for s in ("finished", "skipped", "failed", "killed")}
    others = len(report.results) - sum(counts.values())
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    if others:
        summary += f", {others} without a record"
    output.err(f"ledger: sweep {report.sweep_id}: {report.selected} of {report.planned} points: "
               f"{summary or 'nothing to do'}")  # fmt: skip
    if report.interrupted:
        output.err("ledger: sweep interrupted: run the same command again to finish it")
        return 130
    return 0 if report.ok else 1
