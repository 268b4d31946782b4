"""Put every secret of the corpus into every place a user can put one, record real runs
(`ledger run`, `ledger sweep`, the Python API, `ledger import mlflow`), then look for any
trace of them in every git object and in the worktree's experiments/.

Each (shape, placement) cell gets its own secret, so a leak names where it came from.
Used by tests/test_secret_corpus.py (which asserts no leak) and by
benchmarks/bench_secrets.py (which prints the detection and false-positive rates).
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from support.secret_corpus import ALL_SHAPES, HARMLESS, KEY_NAMES, PROJECT_PATTERN, Secret, generate, plain_value

# Where a secret of a known shape can go, and where a value under a secret key name can go.
SHAPE_PLACEMENTS = (
    "params-file", "override", "logged-params", "tag", "description", "notes", "name",
    "argv", "env", "traceback", "patch-yaml", "patch-json", "patch-py", "patch-env",
    "artifact-name", "mlflow-import",
)  # fmt: skip
KEY_PLACEMENTS = (
    "params-file", "override", "sweep-override", "logged-params", "tag", "description",
    "notes", "argv", "argv-equals", "env", "traceback", "patch-yaml", "patch-json", "patch-py",
    "patch-env", "mlflow-import",
)  # fmt: skip

CHILD = textwrap.dedent(
    """\
    import json, os, sys
    import ledger

    cells = json.load(open(os.environ["LT_SECRETS"], encoding="utf-8"))
    ledger.log_params(cells["logged-params"])
    ledger.note(cells["notes"])
    raise RuntimeError("could not connect:\\n" + cells["traceback"])
    """
)


@dataclass
class Outcome:
    shape_cells: dict[tuple[str, str], Secret] = field(default_factory=dict)
    key_cells: dict[tuple[str, str], Secret] = field(default_factory=dict)
    not_applicable: list[tuple[str, str]] = field(default_factory=list)
    leaked_shapes: list[tuple[str, str]] = field(default_factory=list)
    leaked_keys: list[tuple[str, str]] = field(default_factory=list)
    harmless_changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    remote_leaked: bool = False
    runs: int = 0


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _git(root: Path, *args: str, **kw: Any) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True, **kw).stdout


def _ledger(root: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger", *args], cwd=root, capture_output=True,
                          text=True, env=env, timeout=600)  # fmt: skip


def _make_repo(root: Path, remote_secret: Secret, env_names: list[str]) -> None:
    root.mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    (root / "params.yaml").write_text(yaml.safe_dump({"lr": 0.1, **HARMLESS}, sort_keys=False), "utf-8")
    (root / "ledger.yaml").write_text(
        "experiment: secrets\nprimary_metric: auc\n"
        f"secrets: ['{PROJECT_PATTERN}']\nenv_allowlist: {json.dumps(env_names)}\n",
        encoding="utf-8",
    )
    (root / "train.py").write_text(CHILD, encoding="utf-8")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "initial")
    _git(root, "remote", "add", "origin", f"https://ci:{remote_secret.text}@git.example.com/acme/app.git")


def _draw(out: Outcome, rng: random.Random) -> None:
    for shape in ALL_SHAPES:
        for placement in SHAPE_PLACEMENTS:
            secret = generate(shape, rng)
            text = secret.text
            if placement == "name" and ("\n" in text or len(text) > 190):
                out.not_applicable.append((shape, placement))
            elif placement == "artifact-name" and ("/" in text or "\n" in text or len(text) > 180):
                out.not_applicable.append((shape, placement))
            else:
                out.shape_cells[(shape, placement)] = secret
    for key in KEY_NAMES:
        for placement in KEY_PLACEMENTS:
            out.key_cells[(key, placement)] = plain_value(rng)


def _cells(out: Outcome, placement: str) -> list[tuple[str, str, Secret]]:
    """(label, kind, secret) of one placement: kind 'shape' (neutral key) or 'key'."""
    found = [(_slug(s), "shape", v) for (s, p), v in out.shape_cells.items() if p == placement]
    found += [(k, "key", v) for (k, p), v in out.key_cells.items() if p == placement]
    return found


def _mapping(out: Outcome, placement: str, prefix: str) -> dict[str, str]:
    return {(f"{prefix}{label}" if kind == "shape" else label): s.text for label, kind, s in _cells(out, placement)}


def _free_text(out: Outcome, placement: str) -> str:
    lines = [s.text if kind == "shape" else f"{label}={s.text}" for label, kind, s in _cells(out, placement)]
    return "\n".join(lines)


def _write_workspace_files(root: Path, out: Outcome) -> None:
    params = yaml.safe_load((root / "params.yaml").read_text("utf-8"))
    params.update(_mapping(out, "params-file", "v_"))
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), "utf-8")
    (root / "conf").mkdir()
    (root / "conf" / "local.yaml").write_text(yaml.safe_dump(_mapping(out, "patch-yaml", "y_")), "utf-8")
    (root / "conf" / "local.json").write_text(json.dumps(_mapping(out, "patch-json", "j_"), indent=2), "utf-8")
    (root / ".env").write_text(
        "".join(f"{k}={json.dumps(v)}\n" for k, v in _mapping(out, "patch-env", "E_").items()), "utf-8"
    )
    py = _mapping(out, "patch-py", "P_")
    constants = "".join(f"{k.upper()} = {v!r}\n" for k, v in py.items() if k.startswith("P_"))
    config = {k: v for k, v in py.items() if not k.startswith("P_")}
    with (root / "train.py").open("a", encoding="utf-8") as fh:
        fh.write("\n" + constants + f"CONFIG = {config!r}\n")


def _cli_run(root: Path, scratch: Path, out: Outcome, env: dict[str, str]) -> None:
    child_cells = {p: _mapping(out, p, "l_") if p == "logged-params" else _free_text(out, p)
                   for p in ("logged-params", "notes", "traceback")}  # fmt: skip
    secrets_file = scratch / "child-secrets.json"
    secrets_file.write_text(json.dumps(child_cells), "utf-8")
    run_env = dict(env, LT_SECRETS=str(secrets_file))
    run_env.update({f"LT_{label}": s.text for label, _, s in _cells(out, "env")})
    args = ["run", "--force", "--desc", _free_text(out, "description")]
    for key, value in _mapping(out, "tag", "t_").items():
        args += ["--tag", f"{key}={value}"]
    for key, value in _mapping(out, "override", "o_").items():
        args += ["-p", f"++{key if key.startswith('o_') else 'svc.' + key}={value}"]  # ++: set, new or not
    argv = [sys.executable, "train.py"]
    for label, kind, s in _cells(out, "argv"):
        argv += [f"--{'v_' + label if kind == 'shape' else label}", s.text]
    for label, _, s in _cells(out, "argv-equals"):
        argv.append(f"--{label}={s.text}")
    result = _ledger(root, *args, "--", *argv, env=run_env)
    if "RuntimeError" not in result.stderr:
        raise AssertionError(f"the recorded child did not run as planned:\n{result.stderr[-3000:]}")
    out.runs += 1


def _sweep(root: Path, out: Outcome, env: dict[str, str]) -> None:
    args = ["sweep", "--force"]
    for label, _, s in _cells(out, "sweep-override"):
        args += ["-p", f"++sw.{label}={s.text}"]
    result = _ledger(root, *args, "--", sys.executable, "-c", "pass", env=env)
    if result.returncode != 0:
        raise AssertionError(f"ledger sweep failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    out.runs += 1


def _api_runs(root: Path, scratch: Path, out: Outcome, env: dict[str, str]) -> None:
    """Runs named with secrets (packed a few per name) and one logging artifacts whose
    file names hold secrets: one Python process, through the public API."""
    names, current = [], ""
    for (_, placement), s in out.shape_cells.items():
        if placement != "name":
            continue
        if current and len(current) + 1 + len(s.text) > 200:
            names.append(current)
            current = ""
        current = f"{current} {s.text}".strip()
    names.append(current)
    artifacts = scratch / "artifacts"
    artifacts.mkdir()
    files = []
    for (_, placement), s in out.shape_cells.items():
        if placement == "artifact-name":
            path = artifacts / f"model-{s.text}.bin"
            path.write_bytes(b"weights")
            files.append(str(path))
    plan = scratch / "api-plan.json"
    plan.write_text(json.dumps({"names": names, "artifacts": files}), "utf-8")
    script = textwrap.dedent(
        """\
        import json, sys
        import ledger
        plan = json.load(open(sys.argv[1], encoding="utf-8"))
        for name in plan["names"]:
            with ledger.start_run(name=name) as run:
                run.log_metric("auc", 0.5)
        with ledger.start_run(name="artifacts") as run:
            for path in plan["artifacts"]:
                run.log_artifact(path, kind="model")
        """
    )
    result = subprocess.run([sys.executable, "-c", script, str(plan)], cwd=root, capture_output=True,
                            text=True, env=env, timeout=600)  # fmt: skip
    if result.returncode != 0:
        raise AssertionError(f"API runs failed:\n{result.stderr[-3000:]}")
    out.runs += len(names) + 1


MLFLOW_GEN = textwrap.dedent(
    """\
    import json, os, sys
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    import mlflow
    from mlflow.tracking import MlflowClient
    params = json.load(open(sys.argv[2], encoding="utf-8"))
    mlflow.set_tracking_uri("file:" + sys.argv[1])
    client = MlflowClient()
    exp = client.create_experiment("imported")
    run = client.create_run(exp, run_name="imported")
    for key, value in params.items():
        client.log_param(run.info.run_id, key, value)
    client.log_metric(run.info.run_id, "auc", 0.5)
    client.set_terminated(run.info.run_id, "FINISHED")
    """
)


def _mlflow_import(root: Path, scratch: Path, out: Outcome, env: dict[str, str]) -> None:
    params_file = scratch / "mlflow-params.json"
    params_file.write_text(json.dumps(_mapping(out, "mlflow-import", "m_")), "utf-8")
    store = scratch / "mlruns"
    made = subprocess.run([sys.executable, "-c", MLFLOW_GEN, str(store), str(params_file)],
                          capture_output=True, text=True, env=env, timeout=600)  # fmt: skip
    if made.returncode != 0:
        raise AssertionError(f"could not make the MLflow store:\n{made.stderr[-3000:]}")
    result = _ledger(root, "import", "mlflow", str(store), env=env)
    if result.returncode != 0:
        raise AssertionError(f"ledger import mlflow failed:\n{result.stderr[-3000:]}")
    out.runs += 1


def haystack(root: Path) -> str:
    """Every git object's content and every file under experiments/, as one text."""
    objects = subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch"], cwd=root,
                             check=True, capture_output=True).stdout  # fmt: skip
    parts = [objects.decode("latin-1")]
    for path in sorted((root / "experiments").rglob("*")):
        parts.append(str(path.relative_to(root)))
        if path.is_file():
            parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def _leaks(secret: Secret, hay: str, lower: str) -> bool:
    return any(f in hay or f.lower() in lower for f in secret.fragments)


def run_corpus(scratch: Path, seed: int = 14) -> Outcome:
    """Record the whole corpus in a fresh repository under `scratch`; see the module doc."""
    rng = random.Random(seed)
    out = Outcome()
    _draw(out, rng)
    remote_secret = generate("github-classic-pat", rng)
    root = scratch / "project"
    _make_repo(root, remote_secret, [f"LT_{label}" for label, _, _ in _cells(out, "env")])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEDGER_", "LT_"))}
    _write_workspace_files(root, out)
    _cli_run(root, scratch, out, env)
    _sweep(root, out, env)
    _api_runs(root, scratch, out, env)
    _mlflow_import(root, scratch, out, env)
    hay = haystack(root)
    lower = hay.lower()
    out.leaked_shapes = sorted(cell for cell, s in out.shape_cells.items() if _leaks(s, hay, lower))
    out.leaked_keys = sorted(cell for cell, s in out.key_cells.items() if _leaks(s, hay, lower))
    out.remote_leaked = _leaks(remote_secret, hay, lower)
    out.harmless_changed = _harmless_changes(root)
    return out


def _harmless_changes(root: Path) -> dict[str, tuple[Any, Any]]:
    records = [p for p in (root / "experiments").glob("[0-9]*/*.yaml")]
    for path in records:
        rec = yaml.safe_load(path.read_text("utf-8"))
        if rec.get("status") == "failed" and (rec.get("command") or {}).get("argv", [""])[-1:] != ["pass"]:
            params = rec.get("params") or {}
            return {k: (v, params.get(k)) for k, v in HARMLESS.items() if params.get(k) != v}
    raise AssertionError("the `ledger run` record was not found")
