"""Distributed jobs: which process of a torchrun / Slurm / MPI job this is.

One distributed job is one run: rank 0 records it, every other rank gets a run with the
same API that records nothing (`ledger.start_run` decides with `detect()`). The launchers'
own variables say who is who:

    torchrun (and torch.distributed's env://)  RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE
    Slurm tasks (srun -n N)                    SLURM_PROCID, SLURM_LOCALID, SLURM_NTASKS,
                                               SLURM_STEP_NUM_NODES / SLURM_NNODES
    Open MPI                                   OMPI_COMM_WORLD_RANK, _LOCAL_RANK, _SIZE, _LOCAL_SIZE
    MPICH / Intel MPI (PMI)                    PMI_RANK, PMI_SIZE, MPI_LOCALRANKID, MPI_LOCALNRANKS

The first launcher found wins, in that order (torchrun started by srun is torchrun). A job
of one process is not distributed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Distributed:
    """This process's place in a distributed job."""

    launcher: str  # torchrun, env, slurm, openmpi, mpi
    rank: int
    local_rank: int
    world_size: int
    nodes: int | None  # None when the launcher does not say
    job: str | None  # the same on every process of the job (None when nothing identifies it)

    @property
    def node_leader(self) -> bool:
        """The first process on its node: the one that samples the node's system metrics."""
        return self.local_rank == 0

    def record_field(self) -> dict[str, Any]:
        return {"launcher": self.launcher, "world_size": self.world_size, "nodes": self.nodes}


def _int(env: Mapping[str, str], name: str) -> int | None:
    try:
        return int(env[name])
    except (KeyError, ValueError):
        return None


def _nodes(world: int, local_size: int | None) -> int | None:
    if local_size and local_size > 0 and world % local_size == 0:
        return world // local_size
    return None


def _job(env: Mapping[str, str], *names: str) -> str | None:
    values = [env.get(name, "") for name in names]
    if not any(values):
        return None
    return hashlib.sha256("\0".join(values).encode("utf-8")).hexdigest()[:16]


def detect(env: Mapping[str, str] | None = None) -> Distributed | None:
    """This process's rank, or None when it is not part of a job of several processes."""
    env = os.environ if env is None else env
    found: Distributed | None = None
    rank, world = _int(env, "RANK"), _int(env, "WORLD_SIZE")
    if rank is not None and world is not None:
        local_size = _int(env, "LOCAL_WORLD_SIZE")
        launcher = "torchrun" if "TORCHELASTIC_RUN_ID" in env else "env"
        job = _job(env, "TORCHELASTIC_RUN_ID", "MASTER_ADDR", "MASTER_PORT", "SLURM_JOB_ID")
        found = Distributed(launcher, rank, _int(env, "LOCAL_RANK") or 0, world, _nodes(world, local_size), job)
    elif _int(env, "OMPI_COMM_WORLD_RANK") is not None and _int(env, "OMPI_COMM_WORLD_SIZE") is not None:
        world = _int(env, "OMPI_COMM_WORLD_SIZE") or 1
        found = Distributed(
            "openmpi", _int(env, "OMPI_COMM_WORLD_RANK") or 0, _int(env, "OMPI_COMM_WORLD_LOCAL_RANK") or 0,
            world, _nodes(world, _int(env, "OMPI_COMM_WORLD_LOCAL_SIZE")),
            _job(env, "PMIX_NAMESPACE", "OMPI_MCA_ess_base_jobid", "OMPI_MCA_orte_hnp_uri"),
        )  # fmt: skip
    elif _int(env, "PMI_RANK") is not None and _int(env, "PMI_SIZE") is not None:
        world = _int(env, "PMI_SIZE") or 1
        found = Distributed(
            "mpi", _int(env, "PMI_RANK") or 0, _int(env, "MPI_LOCALRANKID") or 0, world,
            _nodes(world, _int(env, "MPI_LOCALNRANKS")), _job(env, "PMI_KVSNAME", "PMI_ID", "PMIX_NAMESPACE"),
        )  # fmt: skip
    elif _int(env, "SLURM_PROCID") is not None:
        world = _int(env, "SLURM_STEP_NUM_TASKS") or _int(env, "SLURM_NTASKS") or 1
        nodes = _int(env, "SLURM_STEP_NUM_NODES") or _int(env, "SLURM_NNODES")
        found = Distributed(
            "slurm", _int(env, "SLURM_PROCID") or 0, _int(env, "SLURM_LOCALID") or 0, world, nodes,
            _job(env, "SLURM_JOB_ID", "SLURM_STEP_ID"),
        )  # fmt: skip
    if found is None or found.world_size < 2:
        return None
    return found
