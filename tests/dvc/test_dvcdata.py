"""Data versions checked through DVC, and large artifacts stored in DVC's cache."""

from __future__ import annotations

import hashlib
import shutil
import warnings
from pathlib import Path

import pytest
from dvc.repo import Repo

import ledger
from ledger.cli import main
from ledger.core import yamlio
from ledger.errors import LedgerWarning
from support.repo import git, records


@pytest.fixture
def dvc_repo(repo: Path, tmp_path: Path) -> Path:
    """The `repo` workspace with `dvc init`, a tracked data file and a local remote."""
    Repo.init(str(repo))
    (repo / "data").mkdir()
    (repo / "data" / "table.csv").write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    with Repo(str(repo)) as dvc:
        dvc.add("data/table.csv")
        with dvc.config.edit() as conf:
            conf["remote"]["storage"] = {"url": str(tmp_path / "remote")}
            conf["core"]["remote"] = "storage"
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "dvc data")
    return repo


def _one_run(**kwargs: object) -> dict:
    with ledger.start_run(name="r") as run:
        for name, path in kwargs.items():
            run.log_artifact(str(path), kind="model", name=name)
    assert run.record is not None
    return run.record


def test_data_is_checked_against_the_workspace(dvc_repo: Path) -> None:
    rec = _one_run()
    (entry,) = rec["data"]
    assert entry == {"path": "data/table.csv", "hash": hashlib.md5(b"a,b\n1,2\n3,4\n").hexdigest(),
                     "size": 12, "nfiles": 1, "source": "data/table.csv.dvc", "matches": True,
                     "role": "data"}  # fmt: skip
    (dvc_repo / "data" / "table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.warns(LedgerWarning, match="data differs from its DVC version: data/table.csv"):
        changed = _one_run()
    assert changed["data"][0]["matches"] is False
    (dvc_repo / "data" / "table.csv").unlink()
    with pytest.warns(LedgerWarning, match="data/table.csv"):
        assert _one_run()["data"][0]["matches"] is False


def test_large_artifact_goes_to_dvc_and_comes_back_from_the_remote(
    dvc_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = dvc_repo / "model.bin"
    model.write_bytes(bytes(range(256)) * 8192)  # 2 MiB: too large for git
    md5 = hashlib.md5(model.read_bytes()).hexdigest()
    rec = _one_run(**{"model.bin": model})
    (art,) = rec["artifacts"]
    assert art["store"] == "dvc" and art["hash"] == md5 and art["size"] == 2 * 1024 * 1024
    # The .dvc file is committed with the record; the bytes are in DVC's cache, not in git.
    dvc_file = f"{art['path']}.dvc"
    assert yamlio.loads(git(dvc_repo, "show", f"HEAD:{dvc_file}"))["outs"][0]["md5"] == md5
    assert art["path"] not in git(dvc_repo, "ls-tree", "-r", "--name-only", "HEAD").splitlines()
    cached = dvc_repo / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    assert cached.is_file()
    # A later run does not take ledger's artifact .dvc files for data.
    assert [d["path"] for d in _one_run()["data"]] == ["data/table.csv"]
    with Repo(str(dvc_repo)) as dvc:
        dvc.push()
    shutil.rmtree(dvc_repo / ".dvc" / "cache")
    assert main(["artifact", "get", rec["id"], "model.bin", "-o", "restored/model.bin"]) == 0
    assert "from dvc remote" in capsys.readouterr().err
    assert hashlib.md5((dvc_repo / "restored" / "model.bin").read_bytes()).hexdigest() == md5
    assert main(["artifact", "get", rec["id"], "model.bin", "-o", "restored/model.bin"]) == 1
    assert "exists" in capsys.readouterr().err
    assert main(["artifact", "get", rec["id"], "model.bin", "-o", "restored/model.bin", "--force"]) == 0
    assert "from dvc cache" in capsys.readouterr().err


def test_missing_object_is_a_clear_error(dvc_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = dvc_repo / "model.bin"
    model.write_bytes(b"\1" * (2 * 1024 * 1024))
    rec = _one_run(**{"model.bin": model})
    shutil.rmtree(dvc_repo / ".dvc" / "cache")  # never pushed
    assert main(["artifact", "get", rec["id"], "model.bin", "-o", "got.bin"]) == 1
    err = capsys.readouterr().err
    assert "neither in DVC's cache nor on the remote" in err and "dvc push" in err
    assert not (dvc_repo / "got.bin").exists() and not (dvc_repo / ".got.bin.ledger-partial").exists()


def test_git_only_workflow(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small, large = repo / "small.txt", repo / "large.bin"
    small.write_text("weights\n", encoding="utf-8")
    large.write_bytes(b"\2" * (1024 * 1024 + 1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec = _one_run(**{"small.txt": small, "large.bin": large})
    assert any("not a DVC repository" in str(w.message) for w in caught)
    stores = {a["name"]: (a["store"], a["path"]) for a in rec["artifacts"]}
    assert stores["large.bin"] == ("workspace", "large.bin")
    assert stores["small.txt"][0] == "git"
    small.unlink()  # the git copy brings it back
    assert main(["artifact", "get", rec["id"], "small.txt"]) == 0
    assert small.read_text(encoding="utf-8") == "weights\n"
    assert main(["artifact", "get", rec["id"], "large.bin", "-o", "copy.bin"]) == 0
    assert (repo / "copy.bin").read_bytes() == large.read_bytes()
    large.write_bytes(b"changed")
    assert main(["artifact", "get", rec["id"], "large.bin", "-o", "again.bin"]) == 1
    assert "the stored copy was changed" in capsys.readouterr().err
    assert main(["artifact", "get", rec["id"], "nope"]) == 1
    assert "has no artifact 'nope': it has large.bin, small.txt" in capsys.readouterr().err
    assert main(["artifact", "get", rec["id"], "small.txt", "-o", "../outside.txt"]) == 1
    assert "outside the repository" in capsys.readouterr().err
    assert not (repo.parent / "outside.txt").exists()
    assert len(records(repo)) == 1
