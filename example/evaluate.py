"""Stage 3: AUC, F1, accuracy and log loss on validation (`auc`, ...) and test (`test/auc`,
...); for gradient boosting also the validation curves per boosting step."""

from __future__ import annotations

import json
import pickle

from common import METRICS, MODEL, read_split, run
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score


def scores(y, proba) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {
        "auc": round(float(roc_auc_score(y, proba)), 6),
        "f1": round(float(f1_score(y, proba >= 0.5)), 6),
        "accuracy": round(float(accuracy_score(y, proba >= 0.5)), 6),
        "log_loss": round(float(log_loss(y, proba, labels=[0, 1])), 6),
    }


def main() -> None:
    with open(MODEL, "rb") as fh:  # the model the train stage just wrote
        model = pickle.load(fh)  # noqa: S301
    x_val, y_val = read_split("val")
    x_test, y_test = read_split("test")
    val = scores(y_val, model.predict_proba(x_val)[:, 1])
    test = scores(y_test, model.predict_proba(x_test)[:, 1])
    metrics = {**val, **{f"test/{k}": v for k, v in test.items()}}
    METRICS.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    current = run()
    if current is not None:
        if hasattr(model, "staged_predict_proba"):  # one point per boosting step
            for step, proba in enumerate(model.staged_predict_proba(x_val), start=1):
                current.log_metrics({k: v for k, v in scores(y_val, proba[:, 1]).items()
                                     if k in ("auc", "log_loss")}, step=step)  # fmt: skip
        for name, value in metrics.items():
            if not (hasattr(model, "staged_predict_proba") and name in ("auc", "log_loss")):
                current.log_metric(name, value)
    print(json.dumps(metrics, sort_keys=True))


if __name__ == "__main__":
    main()
