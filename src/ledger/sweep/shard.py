"""`--shard auto`: which shard of a sweep this task of a scheduler's job array runs.

Each scheduler tells an array task its index in its own variables:

    Slurm       SLURM_ARRAY_TASK_ID, _MIN, _COUNT, _STEP   (--array=0-3, 1-4, 0-15:4 ...)
    Kubernetes  JOB_COMPLETION_INDEX (0-based)             needs --shards N
    LSF         LSB_JOBINDEX, LSB_JOBINDEX_END, _STEP      (-J "name[1-4]")
    PBS/Torque  PBS_ARRAY_INDEX or PBS_ARRAYID             needs --shards N
    SGE         SGE_TASK_ID, SGE_TASK_FIRST, _LAST, _STEPSIZE

Where the scheduler gives the array's first index and step (Slurm, SGE), the task's
position in the array is exact, so 0-based and 1-based arrays both work. PBS gives
neither, so index i runs shard (i mod N) + 1: an array 0..N-1 and an array 1..N both run
every shard exactly once. An index that falls outside the plan is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ledger.errors import UsageError


@dataclass(frozen=True)
class ArrayTask:
    """This task's shard, 1 <= k <= n, and where that came from."""

    k: int
    n: int
    scheduler: str
    index: int  # the scheduler's own index of this task


def _int(env: Mapping[str, str], name: str) -> int | None:
    text = env.get(name, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return None  # SGE writes "undefined" outside an array job


def _check_count(scheduler: str, found: int, shards: int | None) -> int:
    if shards is not None and shards != found:
        raise UsageError(
            f"--shards {shards} but the {scheduler} array has {found} tasks: drop --shards or make them agree"
        )
    return found


def _need_shards(scheduler: str, variable: str, shards: int | None) -> int:
    if shards is None:
        raise UsageError(f"{variable} is set but {scheduler} gives no task count: add --shards N (the array's size)")
    return shards


def _positioned(scheduler: str, variable: str, index: int, first: int, step: int, count: int) -> ArrayTask:
    offset = index - first
    if step < 1 or offset < 0 or offset % step or offset // step >= count:
        raise UsageError(
            f"{variable}={index} is outside the sweep's {count} shards (array from {first}, step {step}): "
            "submit the array with as many tasks as shards"
        )
    return ArrayTask(offset // step + 1, count, scheduler, index)


def _modulo(scheduler: str, variable: str, index: int, count: int) -> ArrayTask:
    # No start is given: arrays 0..N-1 and 1..N both map onto shards 1..N exactly once.
    if not 0 <= index <= count:
        raise UsageError(
            f"{variable}={index} is outside the sweep's {count} shards: number the array 0..{count - 1} or 1..{count}"
        )
    return ArrayTask(index % count + 1, count, scheduler, index)


def from_environment(env: Mapping[str, str], shards: int | None = None) -> ArrayTask:
    """This task's shard from the scheduler's variables; `shards` is `--shards N`."""
    if shards is not None and shards < 1:
        raise UsageError("--shards needs a positive number of shards")
    index = _int(env, "SLURM_ARRAY_TASK_ID")
    if index is not None:
        count = _int(env, "SLURM_ARRAY_TASK_COUNT")
        first = _int(env, "SLURM_ARRAY_TASK_MIN")
        step = _int(env, "SLURM_ARRAY_TASK_STEP") or 1
        if count is None:
            count = _need_shards("Slurm", "SLURM_ARRAY_TASK_ID", shards)
        else:
            count = _check_count("Slurm", count, shards)
        return _positioned("Slurm", "SLURM_ARRAY_TASK_ID", index, 0 if first is None else first, step, count)
    index = _int(env, "JOB_COMPLETION_INDEX")
    if index is not None:
        count = _need_shards("Kubernetes", "JOB_COMPLETION_INDEX", shards)
        return _positioned("Kubernetes", "JOB_COMPLETION_INDEX", index, 0, 1, count)
    index = _int(env, "LSB_JOBINDEX")
    if index:  # 0 means "not an array job" in LSF
        step = _int(env, "LSB_JOBINDEX_STEP") or 1
        end = _int(env, "LSB_JOBINDEX_END")
        if shards is None and end is not None:
            return _positioned("LSF", "LSB_JOBINDEX", index, 1, step, (end - 1) // step + 1)
        count = _need_shards("LSF", "LSB_JOBINDEX", shards)
        return _positioned("LSF", "LSB_JOBINDEX", index, 1, step, count)
    for variable in ("PBS_ARRAY_INDEX", "PBS_ARRAYID"):
        index = _int(env, variable)
        if index is not None:
            return _modulo("PBS", variable, index, _need_shards("PBS", variable, shards))
    index = _int(env, "SGE_TASK_ID")
    if index is not None:
        first = _int(env, "SGE_TASK_FIRST")
        last = _int(env, "SGE_TASK_LAST")
        step = _int(env, "SGE_TASK_STEPSIZE") or 1
        if first is not None and last is not None:
            count = _check_count("SGE", (last - first) // step + 1, shards)
            return _positioned("SGE", "SGE_TASK_ID", index, first, step, count)
        return _modulo("SGE", "SGE_TASK_ID", index, _need_shards("SGE", "SGE_TASK_ID", shards))
    raise UsageError(
        "--shard auto found no job-array index (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, "
        "LSB_JOBINDEX, PBS_ARRAY_INDEX, SGE_TASK_ID): run it as an array task, or give --shard K/N"
    )
