#!/usr/bin/env bash
# Record the example runs that this repository ships in experiments/, with ledger itself.
# Run once by a maintainer, from a checkout whose code is committed (records must point at
# committed code), with ledger, DVC and scikit-learn installed (pip install -e ".[sklearn]"):
#
#   bash example/record_examples.sh
#
# It sets DVC up if needed and commits that (.dvc/, the data's .dvc file), then records a
# baseline, a grid sweep, a random sweep and one run that fails on purpose; each record is
# committed by ledger on the current branch. Run it again and every point already done is
# skipped. Afterwards: `ledger top --metric auc`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DVC_NO_ANALYTICS=1

if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "error: commit (or stash) your changes first: example records must come from committed code" >&2
  exit 1
fi

# The data, tracked by DVC: written from the copy inside scikit-learn, byte-identical
# everywhere, so a fresh clone regenerates exactly the committed version.
[ -d .dvc ] || dvc init --quiet
python example/make_data.py
dvc add --quiet example/data/breast_cancer.csv
git add .dvc .dvcignore example/data/breast_cancer.csv.dvc example/data/.gitignore
git diff --cached --quiet || git commit --quiet -m "example: track the breast-cancer data with DVC"

# The baseline: params.yaml as committed (logistic regression).
ledger run --baseline --name baseline --desc "logistic regression baseline" \
  --tag stage=baseline -- dvc repro || true

# A grid over gradient boosting, two points at a time (each in its own worktree).
ledger sweep -j 2 --name gb --desc "does gradient boosting beat the baseline?" --tag stage=sweep \
  -p model.family=gradient_boosting \
  -p model.gradient_boosting.learning_rate=0.05,0.1,0.3 \
  -p model.gradient_boosting.max_depth=2,3 \
  -- dvc repro || true

# Random forests; max_depth=0 is invalid in scikit-learn: that run fails, and is recorded.
ledger sweep -j 2 --name rf --desc "random forests by depth (0 is invalid on purpose)" --tag stage=sweep \
  -p model.family=random_forest \
  -p model.random_forest.max_depth=3,6,0 \
  -- dvc repro || true

# A random search over the baseline's regularisation.
ledger sweep -j 2 --name lr --desc "how much regularisation does the baseline want?" --tag stage=sweep \
  --random 3 --seed 1 -p "model.logistic_regression.C=loguniform(0.01,10)" \
  -- dvc repro || true

ledger top --metric auc
