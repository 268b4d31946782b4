"""The Python API: start_run and what ends up in the record."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest

import ledger
from ledger.core import schema, yamlio
from ledger.errors import LedgerError
from support.repo import git, records


def only_record(root: Path) -> dict:
    [path] = records(root)
    rec = yamlio.load_file(path)
    schema.validate(rec, source=str(path))
    return rec


def test_context_is_captured(repo: Path) -> None:
    (repo / "train.py").write_text("print('changed')\n")
    (repo / "helper.py").write_text("X = 1\n")  # untracked source
    (repo / "big.csv").write_text("a,b\n1,2\n")  # untracked data: not part of the patch
    head = git(repo, "rev-parse", "HEAD")
    with ledger.start_run(name="ctx", description="does context land?") as run:
        assert run.params() == {"lr": 0.1, "seed": 7, "model": {"depth": 3}}
    rec = only_record(repo)
    assert rec["code"]["commit"] == head
    assert rec["code"]["branch"] == "main"
    assert rec["code"]["dirty"] is True
    patch = (repo / rec["code"]["patch"]).read_text()
    assert "+print('changed')" in patch and "helper.py" in patch and "big.csv" not in patch
    assert rec["seed"] == 7
    assert rec["params"]["model"]["depth"] == 3
    assert rec["experiment"] == "tests" and rec["description"] == "does context land?"
    assert rec["author"]["email"] == "author@example.com"
    env = yamlio.load_file(repo / rec["env"]["file"])
    assert env["id"] == rec["env"]["id"] and "pyyaml" in env["packages"]
    assert rec["hardware"]["cores"] >= 1 and rec["hardware"]["memory_bytes"] > 0
    assert rec["resources"]["wall_s"] >= 0 and rec["resources"]["peak_rss_bytes"] > 0


def test_patch_applies_to_head_and_gives_the_same_tree(repo: Path, tmp_path: Path) -> None:
    (repo / "train.py").write_text("print('v2')\n")
    (repo / "new_module.py").write_text("Y = 2\n")
    with ledger.start_run(name="p"):
        pass
    rec = only_record(repo)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    git(clone, "checkout", "-q", rec["code"]["commit"])
    git(clone, "apply", str(repo / rec["code"]["patch"]))
    assert (clone / "train.py").read_text() == "print('v2')\n"
    assert (clone / "new_module.py").read_text() == "Y = 2\n"


def test_code_tree_ignores_ledger_commits(repo: Path) -> None:
    with ledger.start_run(name="a"):
        pass
    with ledger.start_run(name="b"):
        pass
    trees = {yamlio.load_file(p)["code"]["tree"] for p in records(repo)}
    assert len(trees) == 1
    (repo / "train.py").write_text("print('other')\n")
    with ledger.start_run(name="c"):
        pass
    assert len({yamlio.load_file(p)["code"]["tree"] for p in records(repo)}) == 2


def test_metrics_series_and_summaries(repo: Path) -> None:
    with ledger.start_run(name="m") as run:
        for step, loss in enumerate([0.9, 0.5, 0.7]):
            run.log_metric("train/loss", loss)
            run.log_metrics({"val/auc": 0.5 + step / 10}, step=step * 10)
        run.log_metric("final", 1)
    rec = only_record(repo)
    assert rec["metrics"] == {"final": 1.0, "train/loss": 0.7, "val/auc": 0.7}
    loss = rec["series"]["metrics"]["train/loss"]
    assert loss == {"count": 3, "last": 0.7, "last_step": 2, "best": 0.5, "best_step": 1}
    auc = rec["series"]["metrics"]["val/auc"]
    assert auc["best"] == 0.7 and auc["best_step"] == 20
    assert "final" not in rec["series"]["metrics"]
    lines = (repo / rec["series"]["path"]).read_text().splitlines()
    assert lines[0] == "step\tmetric\tvalue\ttime"
    assert len(lines) == 1 + 7


def test_nan_and_inf_metrics_are_kept(repo: Path) -> None:
    with ledger.start_run(name="diverged") as run:
        run.log_metric("loss", float("nan"))
        run.log_metric("grad", float("inf"))
    rec = only_record(repo)
    assert math.isnan(rec["metrics"]["loss"]) and rec["metrics"]["grad"] == math.inf


@pytest.mark.parametrize(("name", "value"), [("has space", 1), ("", 1), ("ok", "high"), ("ok", None)])
def test_bad_metrics_are_refused_clearly(repo: Path, name: str, value: object) -> None:
    with ledger.start_run(name="bad") as run:
        with pytest.raises(LedgerError, match="metric"):
            run.log_metric(name, value)
    assert only_record(repo)["status"] == "finished"


def test_exception_means_failed_and_still_propagates(repo: Path) -> None:
    with pytest.raises(ZeroDivisionError):
        with ledger.start_run(name="boom") as run:
            run.log_metric("loss", 0.4)
            1 / 0  # noqa: B018
    rec = only_record(repo)
    assert rec["status"] == "failed"
    assert rec["error"]["type"] == "ZeroDivisionError"
    assert "1 / 0" in rec["error"]["traceback"]
    assert str(repo) not in rec["error"]["traceback"]  # paths are repo-relative
    assert rec["metrics"] == {"loss": 0.4}


def test_keyboard_interrupt_means_killed(repo: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        with ledger.start_run(name="ctrl-c"):
            raise KeyboardInterrupt
    rec = only_record(repo)
    assert rec["status"] == "killed" and rec["error"]["signal"] == "SIGINT"


@pytest.mark.parametrize(("code", "status"), [(0, "finished"), (None, "finished"), (3, "failed")])
def test_sys_exit_inside_a_run(repo: Path, code: int | None, status: str) -> None:
    with pytest.raises(SystemExit):
        with ledger.start_run(name="exit"):
            raise SystemExit(code)
    assert only_record(repo)["status"] == status


def test_module_level_api_params_tags_notes_cost_dataset_artifact(repo: Path) -> None:
    (repo / "ledger.yaml").write_text("experiment: tests\ncost:\n  currency: EUR\n  cpu_hour: 3600\n")
    (repo / "confusion.json").write_text('{"m": [[1, 0], [0, 1]]}')
    with ledger.start_run(name="full", tags={"team": "a"}):
        ledger.log_params({"model": {"depth": 6}, "extra": [1, 2]})
        ledger.log_param("lr", 0.01)
        assert ledger.params()["model"]["depth"] == 6
        ledger.set_tags({"stage": "final"})
        ledger.note("first idea")
        ledger.note("second idea")
        ledger.log_cost(0.25, description="LLM judge")
        ledger.log_dataset("train", [[1, 2], [3, 4], [5, 6]], target=[0, 1, 1])
        entry = ledger.log_artifact(str(repo / "confusion.json"), kind="plot-data")
    rec = only_record(repo)
    assert rec["params"] == {"lr": 0.01, "seed": 7, "model": {"depth": 6}, "extra": [1, 2]}
    assert rec["tags"] == {"team": "a", "stage": "final"}
    assert rec["notes"] == "first idea\n\nsecond idea"
    assert rec["cost"]["currency"] == "EUR" and rec["cost"]["amount"] >= 0.25
    assert rec["cost"]["items"] == [{"amount": 0.25, "currency": "EUR", "description": "LLM judge"}]
    assert rec["datasets"]["train"]["rows"] == 3 and rec["datasets"]["train"]["classes"] == {"0": 1, "1": 2}
    [artifact] = rec["artifacts"]
    assert artifact == entry and artifact["store"] == "git" and artifact["kind"] == "plot-data"
    assert (repo / artifact["path"]).read_text() == '{"m": [[1, 0], [0, 1]]}'
    assert artifact["path"] in git(repo, "show", "--name-only", "--format=", "HEAD")


def test_logging_after_end_is_refused(repo: Path) -> None:
    with ledger.start_run(name="done") as run:
        pass
    with pytest.raises(LedgerError, match="has ended"):
        run.log_param("x", 1)


def test_secrets_are_redacted(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "should-never-appear")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    token = "ghp_" + "a" * 36
    with ledger.start_run(name="s", tags={"note": f"token {token}"}) as run:
        run.log_params({"api_token": "abc123", "max_tokens": 256,
                        "db_url": "postgres://user:hunter2@db/x", "key": "AKIA" + "B" * 16,
                        "openai": "sk-" + "c" * 30})  # fmt: skip
        run.note(f"used {token}")
    text = records(repo)[0].read_text()
    rec = yamlio.loads(text)
    assert rec["params"]["api_token"] == "<redacted>"
    assert rec["params"]["max_tokens"] == 256
    assert rec["params"]["db_url"] == "<redacted>"  # a database URL is a secret as a whole
    for secret in (token, "hunter2", "AKIA" + "B" * 16, "sk-" + "c" * 30, "abc123", "should-never-appear"):
        assert secret not in text
    assert rec["env"]["variables"] == {"OMP_NUM_THREADS": "2"}


def test_remote_url_credentials_are_stripped(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://alice:s3cret@example.com/team/project.git")
    with ledger.start_run(name="r"):
        pass
    rec = only_record(repo)
    assert rec["code"]["remote"] == "https://example.com/team/project.git"


def test_naming_template(repo: Path) -> None:
    (repo / "ledger.yaml").write_text("naming: '{date}_{featureset}_{depth}_{hypothesis}'\n")
    with ledger.start_run(tags={"featureset": "v2", "hypothesis": "deeper"}):
        pass
    rec = only_record(repo)
    assert rec["name"].endswith("_v2_3_deeper") and rec["name"][:8].isdigit()


def test_outside_a_git_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LedgerError, match="not a git repository"):
        ledger.start_run(name="x")


def test_a_local_remote_keeps_no_absolute_path(repo: Path, tmp_path: Path) -> None:
    """A bare repository on this machine as `origin` (the usual team setup on a shared disk,
    or a test remote): the record says where it is without this machine's layout."""
    bare = tmp_path / "shared" / "project.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    with ledger.start_run(name="local-remote"):
        pass
    remote = only_record(repo)["code"]["remote"]
    assert remote == "<tmp>/" + bare.relative_to(tempfile.gettempdir()).as_posix()  # pytest's tmp is under /tmp
    assert str(tmp_path) not in remote
    git(repo, "remote", "set-url", "origin", f"file://{bare}")
    git(repo, "commit", "-q", "--allow-empty", "-m", "again")
    with ledger.start_run(name="file-url"):
        pass
    [second] = [yamlio.load_file(p) for p in records(repo) if "file-url" in p.name]
    assert second["code"]["remote"] == remote


def test_public_run_face_for_clients(repo: Path) -> None:
    """What DVC pipelines and the MLflow shim need from a run, without its private members:
    start tags, whether it ended, and outputs known only after the pipeline ran."""
    from ledger.write import tracking

    (repo / "model.bin").write_bytes(b"weights")
    data = [{"path": "data/raw", "hash": "md5:abc", "size": 3, "nfiles": 1, "source": "dvc.lock"}]
    with ledger.start_run(name="outs", tags={"team": "a"}) as run:
        assert tracking.innermost() is run
        assert run.tags == {"team": "a"} and run.ended is False
        entry = run.log_artifact(repo / "model.bin", kind="model")
        run.record_outputs(data=data, artifacts=[{**entry, "name": "model-copy"}])
    assert run.ended is True and tracking.innermost() is None
    rec = only_record(repo)
    assert rec["data"] == data
    assert sorted(a["name"] for a in rec["artifacts"]) == ["model-copy", "model.bin"]
    with pytest.raises(LedgerError, match="has ended"):
        run.record_outputs(data=[])


# The public face of a run, as it was before the lifecycle was split into modules: the
# split moved code, not names (properties, class methods and signatures pinned).
RUN_SURFACE = """\
attach () -> 'Run | None'
create (ws: 'Workspace', *, name: 'str | None' = None, description: 'str | None' = None, \
tags: 'dict[str, Any] | list[str] | None' = None, experiment: 'str | None' = None, \
params: 'dict[str, Any] | None' = None, overrides: 'list[str] | None' = None, argv: 'list[str] | None' = None, \
baseline: 'bool' = False, fields: 'dict[str, Any] | None' = None, started: 'datetime.datetime | None' = None) -> 'Run'
end (self, status: 'str' = 'finished', error: 'dict[str, Any] | None' = None, \
resources: 'dict[str, Any] | None' = None) -> 'dict[str, Any] | None'
ended property
flush (self) -> 'None'
log_artifact (self, path: 'str | os.PathLike[str]', kind: 'str' = 'artifact', name: 'str | None' = None) \
-> 'dict[str, Any]'
log_cost (self, amount: 'float', currency: 'str | None' = None, description: 'str | None' = None) -> 'None'
log_dataset (self, name: 'str', data: 'Any', target: 'Any' = None, context: 'str | None' = None) -> 'dict[str, Any]'
log_dataset_stats (self, name: 'str', stats: 'dict[str, Any]') -> 'None'
log_metric (self, name: 'str', value: 'Any', step: 'int | None' = None, *, timestamp: 'float | None' = None) \
-> 'None'
log_metrics (self, metrics: 'dict[str, Any]', step: 'int | None' = None) -> 'None'
log_param (self, key: 'str', value: 'Any') -> 'None'
log_params (self, params: 'dict[str, Any]') -> 'None'
name property
note (self, text: 'str') -> 'None'
params (self) -> 'dict[str, Any]'
path property
record_outputs (self, *, data: 'list[dict[str, Any]] | None' = None, \
artifacts: 'Iterable[dict[str, Any]]' = ()) -> 'None'
recording True
set_distributed (self, field: 'dict[str, Any]') -> 'None'
set_fields (self, **fields: 'Any') -> 'None'
set_tag (self, key: 'str', value: 'Any' = '') -> 'None'
set_tags (self, tags: 'dict[str, Any] | list[str] | tuple[str, ...]') -> 'None'
sidecar property
started property
tags property
"""


def test_the_public_face_of_a_run_is_pinned() -> None:
    import inspect

    from ledger.write.tracking import Run

    lines = []
    for name in sorted(n for n in dir(Run) if not n.startswith("_")):
        member = inspect.getattr_static(Run, name)
        if isinstance(member, property):
            lines.append(f"{name} property")
        elif isinstance(member, classmethod):
            lines.append(f"{name} {inspect.signature(getattr(Run, name))}")
        elif callable(member):
            lines.append(f"{name} {inspect.signature(member)}")
        else:
            lines.append(f"{name} {member!r}")
    assert "\n".join(lines) + "\n" == RUN_SURFACE
