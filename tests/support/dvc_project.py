"""A small third-party style DVC project (prepare -> featurize -> train -> evaluate), made
with generated data, for the pipeline tests. Stages read params.yaml themselves and train
logs with dvclive, as DVC users' projects do."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

PARAMS = """\
# pipeline parameters (this comment must survive every ledger run)
prepare:
  split: 0.25
  seed: 11
featurize:
  scale: 2.0
train:
  lr: 0.1
  epochs: 5
"""

MODEL_CONFIG = "hidden: 8\nactivation: relu\n"

DVC_YAML = """\
stages:
  prepare:
    cmd: python prepare.py
    deps: [prepare.py, data/raw.csv]
    params: [prepare.split, prepare.seed]
    outs: [data/prepared]
  featurize:
    cmd: python featurize.py
    deps: [featurize.py, data/prepared]
    params: [featurize.scale]
    outs: [data/features]
  train:
    cmd: python train.py
    deps: [train.py, data/features]
    params:
      - train
      - configs/model.yaml:
    outs: [model.json]
    metrics:
      - dvclive/metrics.json:
          cache: false
    plots:
      - dvclive/plots:
          cache: false
  evaluate:
    cmd: python evaluate.py
    deps: [evaluate.py, model.json, data/features]
    metrics:
      - eval/metrics.json:
          cache: false
artifacts:
  wine-model:
    path: model.json
    type: model
    desc: linear model
"""

PREPARE = """\
import csv, os, random, yaml
p = yaml.safe_load(open("params.yaml"))["prepare"]
rows = list(csv.reader(open("data/raw.csv")))[1:]
random.Random(p["seed"]).shuffle(rows)
cut = int(len(rows) * p["split"])
os.makedirs("data/prepared", exist_ok=True)
for name, part in (("test.csv", rows[:cut]), ("train.csv", rows[cut:])):
    with open(os.path.join("data/prepared", name), "w", newline="") as fh:
        csv.writer(fh).writerows(part)
"""

FEATURIZE = """\
import csv, json, os, yaml
scale = yaml.safe_load(open("params.yaml"))["featurize"]["scale"]
os.makedirs("data/features", exist_ok=True)
for name in ("train", "test"):
    rows = [[float(v) for v in r] for r in csv.reader(open(f"data/prepared/{name}.csv"))]
    feats = [[r[0] / scale, r[1] / scale, r[2]] for r in rows]
    json.dump(feats, open(f"data/features/{name}.json", "w"))
"""

TRAIN = """\
import json, os, yaml
from dvclive import Live
p = yaml.safe_load(open("params.yaml"))["train"]
if p["epochs"] < 1:
    raise SystemExit("train.epochs must be positive")
rows = json.load(open("data/features/train.json"))
w = [0.0, 0.0, 0.0]
with Live("dvclive", dvcyaml=False) as live:
    for epoch in range(p["epochs"]):
        grad = [0.0, 0.0, 0.0]
        loss = 0.0
        for x1, x2, y in rows:
            err = w[0] * x1 + w[1] * x2 + w[2] - y
            loss += err * err / len(rows)
            for i, x in enumerate((x1, x2, 1.0)):
                grad[i] += 2 * err * x / len(rows)
        w = [wi - p["lr"] * gi for wi, gi in zip(w, grad)]
        live.log_metric("train/loss", loss)
        live.next_step()
json.dump({"weights": w}, open("model.json", "w"))
if os.environ.get("TRAIN_MARKER"):  # proof, for the tests, that this stage really ran
    with open(os.environ["TRAIN_MARKER"], "a") as fh:
        fh.write("train ran\\n")
"""

EVALUATE = """\
import json, os
w = json.load(open("model.json"))["weights"]
rows = json.load(open("data/features/test.json"))
mse = sum((w[0] * a + w[1] * b + w[2] - y) ** 2 for a, b, y in rows) / len(rows)
os.makedirs("eval", exist_ok=True)
json.dump({"test": {"mse": mse, "rows": len(rows)}}, open("eval/metrics.json", "w"))
"""


def run(cwd: Path, *args: str) -> str:
    # Pinned identity and no system config: this may run before the per-test isolation.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {
        **os.environ,
        "PATH": path,
        "GIT_CONFIG_NOSYSTEM": "1",
        "DVC_NO_ANALYTICS": "1",
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Test Author",
        "GIT_COMMITTER_EMAIL": "author@example.com",
    }
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


def make_project(root: Path, remote: Path) -> None:
    """Write the project, `dvc add` its raw data, push it to a local remote, commit."""
    root.mkdir(parents=True)
    run(root, "git", "init", "-q", "-b", "main")
    rng = random.Random(3)
    lines = ["x1,x2,y"]
    for _ in range(120):
        x1, x2 = rng.uniform(-3, 3), rng.uniform(-3, 3)
        lines.append(f"{x1:.4f},{x2:.4f},{1.5 * x1 - 2.0 * x2 + 0.5 + rng.gauss(0, 0.1):.4f}")
    (root / "data").mkdir()
    (root / "data" / "raw.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "configs").mkdir()
    files = {
        "params.yaml": PARAMS,
        "configs/model.yaml": MODEL_CONFIG,
        "dvc.yaml": DVC_YAML,
        "prepare.py": PREPARE,
        "featurize.py": FEATURIZE,
        "train.py": TRAIN,
        "evaluate.py": EVALUATE,
        "ledger.yaml": "experiment: wine\nprimary_metric: test/mse\n",
    }
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    run(root, "dvc", "init", "-q")
    run(root, "dvc", "remote", "add", "-d", "local", str(remote))
    run(root, "dvc", "add", "-q", "data/raw.csv")
    run(root, "dvc", "push", "-q")
    run(root, "git", "add", ".")
    run(root, "git", "commit", "-q", "-m", "pipeline")
