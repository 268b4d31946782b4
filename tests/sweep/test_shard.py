"""`--shard auto`: the shard of a job-array task, from each scheduler's variables."""

from __future__ import annotations

import pytest

from ledger.errors import UsageError
from ledger.sweep.shard import from_environment


def _shards(envs: list[dict[str, str]], shards: int | None = None) -> list[tuple[int, int]]:
    found = []
    for env in envs:
        task = from_environment(env, shards)
        found.append((task.k, task.n))
    return found


@pytest.mark.parametrize("first", [0, 1, 5])
def test_slurm_arrays_of_any_start_run_every_shard_once(first: int) -> None:
    envs = [{"SLURM_ARRAY_TASK_ID": str(first + i), "SLURM_ARRAY_TASK_MIN": str(first),
             "SLURM_ARRAY_TASK_COUNT": "4"} for i in range(4)]  # fmt: skip
    assert _shards(envs) == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_slurm_array_with_a_step_and_without_min() -> None:
    envs = [{"SLURM_ARRAY_TASK_ID": str(i), "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_STEP": "4",
             "SLURM_ARRAY_TASK_COUNT": "3"} for i in (0, 4, 8)]  # fmt: skip
    assert _shards(envs) == [(1, 3), (2, 3), (3, 3)]
    # Without _MIN (older Slurm), indices count from 0.
    assert _shards([{"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "2"}]) == [(1, 2)]


def test_kubernetes_indexed_job_needs_the_count() -> None:
    envs = [{"JOB_COMPLETION_INDEX": str(i)} for i in range(3)]
    assert _shards(envs, shards=3) == [(1, 3), (2, 3), (3, 3)]
    with pytest.raises(UsageError, match="add --shards N"):
        from_environment({"JOB_COMPLETION_INDEX": "0"})


def test_lsf_pbs_and_sge() -> None:
    lsf = [{"LSB_JOBINDEX": str(i), "LSB_JOBINDEX_END": "3"} for i in (1, 2, 3)]
    assert _shards(lsf) == [(1, 3), (2, 3), (3, 3)]
    # PBS gives no start: 0..N-1 and 1..N both cover every shard exactly once.
    for indices in ((0, 1, 2), (1, 2, 3)):
        found = _shards([{"PBS_ARRAY_INDEX": str(i)} for i in indices], shards=3)
        assert sorted(found) == [(1, 3), (2, 3), (3, 3)]
    assert _shards([{"PBS_ARRAYID": "2"}], shards=2) == [(1, 2)]
    sge = [{"SGE_TASK_ID": str(i), "SGE_TASK_FIRST": "1", "SGE_TASK_LAST": "7", "SGE_TASK_STEPSIZE": "3"}
           for i in (1, 4, 7)]  # fmt: skip
    assert _shards(sge) == [(1, 3), (2, 3), (3, 3)]
    # LSB_JOBINDEX=0 and SGE_TASK_ID=undefined mean "not an array task".
    with pytest.raises(UsageError, match="found no job-array index"):
        from_environment({"LSB_JOBINDEX": "0", "SGE_TASK_ID": "undefined"})


@pytest.mark.parametrize(
    ("env", "shards", "message"),
    [
        ({"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_COUNT": "4"}, None,
         "SLURM_ARRAY_TASK_ID=4 is outside the sweep's 4 shards"),
        ({"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4"}, 8, "--shards 8 but the Slurm array has 4"),
        ({"JOB_COMPLETION_INDEX": "3"}, 3, "JOB_COMPLETION_INDEX=3 is outside the sweep's 3 shards"),
        ({"PBS_ARRAY_INDEX": "4"}, 3, "number the array 0..2 or 1..3"),
        ({}, None, "give --shard K/N"),
    ],
)  # fmt: skip
def test_an_index_outside_the_plan_is_refused_in_one_line(env: dict[str, str], shards: int | None,
                                                          message: str) -> None:  # fmt: skip
    with pytest.raises(UsageError) as info:
        from_environment(env, shards)
    assert message in str(info.value) and "\n" not in str(info.value)
