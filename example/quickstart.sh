#!/usr/bin/env bash
# ledger quickstart: install ledger, then run the bundled example end to end in a scratch
# copy of this repository (your checkout is left exactly as it is):
#   a DVC pipeline (prepare -> train -> evaluate) over scikit-learn's breast-cancer data,
#   a baseline run, a small parallel sweep (one point fails on purpose), the leaderboard
#   and a report. Needs Python 3.11+ and git; everything else is installed into a venv.
#
#   bash example/quickstart.sh
#
# Environment:
#   LEDGER_QUICKSTART_DIR     where to work (default: a new temporary directory)
#   LEDGER_QUICKSTART_PYTHON  a Python that already has ledger, DVC and scikit-learn
#                             installed: no virtualenv is made (used by the tests)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE="${LEDGER_QUICKSTART_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/ledger-quickstart.XXXXXX")}"
PROJECT="$BASE/project"
export DVC_NO_ANALYTICS=1

say() { printf '\n==> %s\n' "$*"; }

# 1. ledger (and DVC, scikit-learn) in a virtualenv beside the scratch copy, never inside it.
if [ -n "${LEDGER_QUICKSTART_PYTHON:-}" ]; then
  PYTHON="$LEDGER_QUICKSTART_PYTHON"
else
  say "installing ledger into $BASE/venv"
  PY="$(command -v python3.11 || command -v python3)"
  "$PY" -m venv "$BASE/venv"
  "$BASE/venv/bin/python" -m pip install --quiet --upgrade pip
  "$BASE/venv/bin/python" -m pip install --quiet -e "$REPO[sklearn]"
  PYTHON="$BASE/venv/bin/python"
fi
# `ledger`, `dvc` and the pipeline's `python` all come from that environment.
export PATH="$(cd "$(dirname "$PYTHON")" && pwd):$PATH"

# 2. A scratch copy: a clone of your checkout's HEAD.
say "cloning $REPO into $PROJECT"
git clone --quiet "$REPO" "$PROJECT"
cd "$PROJECT"
git config user.name >/dev/null || git config user.name "ledger quickstart"
git config user.email >/dev/null || git config user.email "quickstart@example.com"

# 3. An empty ledger: this repository ships example runs in experiments/ (your checkout keeps
#    them); the copy starts without them, so the leaderboard below shows your own runs and
#    `ledger show baseline` means your baseline.
if [ -d experiments ]; then
  say "starting an empty ledger (the shipped example runs stay in $REPO)"
  git rm -rq experiments
  git commit --quiet -m "quickstart: start with an empty ledger"
fi

# 4. The data, tracked by DVC (written from the copy inside scikit-learn: no download).
say "tracking the example data with DVC"
[ -d .dvc ] || dvc init --quiet
python example/make_data.py
dvc add --quiet example/data/breast_cancer.csv
git add .dvc .dvcignore example/data/breast_cancer.csv.dvc example/data/.gitignore 2>/dev/null || true
git diff --cached --quiet || git commit --quiet -m "example: track the data with DVC"

# 5. A baseline: the logistic regression of params.yaml.
say "recording the baseline: ledger run --baseline -- dvc repro"
if ! ledger run --baseline --name baseline --desc "logistic regression baseline" -- dvc repro; then
  echo "(no new baseline run: see the message above)"
fi

# 6. Sweeps, two points at a time, each in its own temporary worktree. The second
#    random forest asks for max_depth=0, which scikit-learn rejects: a failed run is
#    recorded too. Running a sweep again skips every point already done.
say "sweeping: gradient boosting x 2, random forest x 2 (one fails on purpose)"
ledger sweep -j 2 --name gb --desc "does boosting beat the baseline?" \
  -p model.family=gradient_boosting -p model.gradient_boosting.learning_rate=0.05,0.3 \
  -- dvc repro || true
ledger sweep -j 2 --name rf --desc "random forests, one invalid depth" \
  -p model.family=random_forest -p model.random_forest.max_depth=4,0 \
  -- dvc repro || true

# 7. What the ledger says.
say "leaderboard: ledger top --metric auc"
ledger top --metric auc
if ledger report --help >/dev/null 2>&1; then
  say "report: ledger report -o $BASE/report.html"
  ledger report -o "$BASE/report.html" || echo "(the report could not be written)"
fi

say "done. The scratch copy is $PROJECT (its git log holds one commit per run);"
echo "    try: cd $PROJECT && ledger ls && ledger show baseline"
