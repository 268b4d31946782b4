"""Stage 2: fit the model family chosen in params.yaml (`model.family`)."""

from __future__ import annotations

import pickle

from common import MODEL, fail, params, read_split, run
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def build(model: dict) -> object:
    family = model["family"]
    settings = dict(model.get(family) or {})
    if family == "logistic_regression":
        return make_pipeline(StandardScaler(), LogisticRegression(**settings))
    if family == "random_forest":
        return RandomForestClassifier(random_state=model["seed"], n_jobs=1, **settings)
    if family == "gradient_boosting":
        return GradientBoostingClassifier(random_state=model["seed"], **settings)
    fail(f"unknown model.family {family!r}: use logistic_regression, random_forest or gradient_boosting")
    raise AssertionError


def main() -> None:
    model_params = params()["model"]
    x_train, y_train = read_split("train")
    model = build(model_params)
    model.fit(x_train, y_train)  # an invalid hyperparameter fails here, and the run with it
    MODEL.parent.mkdir(parents=True, exist_ok=True)
    with open(MODEL, "wb") as fh:
        pickle.dump(model, fh)
    current = run()
    if current is not None:
        current.log_artifact(str(MODEL), kind="model")
    print(f"trained {model_params['family']}")


if __name__ == "__main__":
    main()
