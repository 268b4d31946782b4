"""One distributed job, one record: rank 0 records, the other ranks get a run that records
nothing. The launchers' variables, and a real `torchrun --nproc_per_node 2` on CPU (gloo)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.core import yamlio
from ledger.write.ranks import detect
from support.repo import git, ledger_cli, records

TORCHRUN = shutil.which("torchrun") or str(Path(sys.executable).with_name("torchrun"))

DDP = """
import os, sys
import torch
import torch.distributed as dist
import ledger

dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
with ledger.start_run(name="ddp") as run:
    lr = ledger.params()["lr"]            # every rank sees the params
    for step in range(3):
        total = torch.tensor([float(rank + 1)])
        dist.all_reduce(total)           # a real collective across the two processes
        run.log_metric("loss", total.item() / (step + 1) + rank, step=step)
    run.log_params({"rank_that_logged": rank})
    ledger.log_metric("auc", 0.9 + rank)
    print(f"rank {rank} recording={run.recording}", flush=True)
dist.barrier()
dist.destroy_process_group()
"""


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"RANK": "3", "LOCAL_RANK": "1", "WORLD_SIZE": "4", "LOCAL_WORLD_SIZE": "2", "TORCHELASTIC_RUN_ID": "x"},
         ("torchrun", 3, 1, 4, 2)),
        ({"SLURM_PROCID": "5", "SLURM_LOCALID": "1", "SLURM_NTASKS": "8", "SLURM_NNODES": "2"},
         ("slurm", 5, 1, 8, 2)),
        ({"OMPI_COMM_WORLD_RANK": "2", "OMPI_COMM_WORLD_LOCAL_RANK": "0", "OMPI_COMM_WORLD_SIZE": "4",
          "OMPI_COMM_WORLD_LOCAL_SIZE": "2"}, ("openmpi", 2, 0, 4, 2)),
        ({"PMI_RANK": "1", "PMI_SIZE": "2"}, ("mpi", 1, 0, 2, None)),
        # torchrun started by srun: torchrun's own ranks win
        ({"RANK": "0", "WORLD_SIZE": "2", "SLURM_PROCID": "1", "SLURM_NTASKS": "2"}, ("env", 0, 0, 2, None)),
    ],
)  # fmt: skip
def test_launcher_variables(env: dict[str, str], expected: tuple[object, ...]) -> None:
    found = detect(env)
    assert found is not None
    assert (found.launcher, found.rank, found.local_rank, found.world_size, found.nodes) == expected


def test_one_process_is_not_distributed() -> None:
    assert detect({}) is None
    assert detect({"SLURM_PROCID": "0", "SLURM_NTASKS": "1"}) is None  # a plain sbatch job
    assert detect({"RANK": "0", "WORLD_SIZE": "1"}) is None


def _torchrun(*args: str) -> list[str]:
    return [TORCHRUN, "--standalone", "--nproc_per_node", "2", *args]


def _child_env() -> dict[str, str]:
    # torchrun's workers must not inherit a rank of an outer launcher.
    return {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "SLURM_PROCID")}


def _check_one_record(repo: Path, out: str) -> dict[str, object]:
    paths = records(repo)
    assert len(paths) == 1, [p.name for p in paths]
    rec = yamlio.load_file(paths[0])
    assert rec["status"] == "finished"
    assert rec["distributed"] == {"launcher": "torchrun", "world_size": 2, "nodes": 1}
    assert rec["params"]["rank_that_logged"] == 0
    assert rec["metrics"]["auc"] == 0.9  # rank 1's 1.9 never reached the record
    assert rec["series"]["metrics"]["loss"]["count"] == 3  # rank 0's three points only
    assert "rank 0 recording=True" in out and "rank 1 recording=False" in out
    assert git(repo, "status", "--porcelain") == ""
    return rec


def test_torchrun_two_processes_make_one_record(repo: Path) -> None:
    (repo / "train_ddp.py").write_text(DDP)
    git(repo, "add", "train_ddp.py")
    git(repo, "commit", "-qm", "ddp")
    proc = subprocess.run(_torchrun("train_ddp.py"), cwd=repo, capture_output=True, text=True,
                          timeout=180, env=_child_env())  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_one_record(repo, proc.stdout)


def test_ledger_run_around_torchrun_records_rank_zero_only(repo: Path) -> None:
    (repo / "train_ddp.py").write_text(DDP)
    git(repo, "add", "train_ddp.py")
    git(repo, "commit", "-qm", "ddp")
    result = ledger_cli(repo, "run", "-p", "lr=0.5", "--", *_torchrun("train_ddp.py"), env=_child_env())
    assert result.returncode == 0, result.stderr[-3000:]
    rec = _check_one_record(repo, result.stdout)
    assert rec["params"]["lr"] == 0.5


TWO_NODES = """
import time
import torch.distributed as dist
import ledger

dist.init_process_group("gloo")
with ledger.start_run(name="two-nodes") as run:
    time.sleep(1.5)  # long enough for a few samples on each node
    run.log_metric("auc", 0.5)
dist.barrier()
dist.destroy_process_group()
"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_two_nodes_one_record_with_both_nodes_system_metrics(repo: Path) -> None:
    """Two torchrun agents, one process each, as two nodes would run them (sharing the
    project over a network filesystem): rank 1 is the first process of its node, so it
    samples that node, and rank 0's record holds both nodes' samples."""
    (repo / "two_nodes.py").write_text(TWO_NODES)
    git(repo, "add", "two_nodes.py")
    git(repo, "commit", "-qm", "two nodes")
    port = str(_free_port())
    env = {**_child_env(), "LEDGER_SYSTEM_INTERVAL": "0.3"}
    agents = [
        subprocess.Popen([TORCHRUN, "--nnodes", "2", "--node_rank", str(node), "--nproc_per_node", "1",
                          "--master_addr", "127.0.0.1", "--master_port", port, "two_nodes.py"],
                         cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for node in (0, 1)
    ]  # fmt: skip
    for agent in agents:
        _, err = agent.communicate(timeout=180)
        assert agent.returncode == 0, err[-3000:]
    paths = records(repo)
    assert len(paths) == 1
    rec = yamlio.load_file(paths[0])
    assert rec["distributed"] == {"launcher": "torchrun", "world_size": 2, "nodes": 2}
    names = set(rec["system"]["metrics"])
    assert "system/cpu_percent" in names and "system/rank1/cpu_percent" in names
    sidecar = paths[0].with_suffix("")
    assert sorted(p.name for p in sidecar.iterdir()) == ["system.tsv"]  # rank 1's file merged, removed
    assert git(repo, "status", "--porcelain") == ""
    common = Path(git(repo, "rev-parse", "--git-common-dir"))
    assert not list((repo / common / "ledger-ranks").glob("*.json"))  # the rendezvous is gone
