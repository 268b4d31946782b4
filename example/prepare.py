"""Stage 1: choose the feature set and split the raw data into train / validation / test
(stratified, seeded)."""

from __future__ import annotations

import numpy as np
from common import PREPARED, RAW, header, params, run
from sklearn.model_selection import train_test_split


def main() -> None:
    p = params()["prepare"]
    table = np.loadtxt(RAW, delimiter=",", skiprows=1)
    names = header().split(",")[:-1]
    if p["features"] == "mean":  # the 10 `mean_*` measurements only: a harder problem
        keep = [i for i, name in enumerate(names) if name.startswith("mean_")]
    elif p["features"] == "all":
        keep = list(range(len(names)))
    else:
        raise SystemExit(f"error: prepare.features must be mean or all, not {p['features']!r}")
    x, y = table[:, keep], table[:, -1].astype(int)
    columns = ",".join([*(names[i] for i in keep), "malignant"])
    holdout = p["val_size"] + p["test_size"]
    x_train, x_rest, y_train, y_rest = train_test_split(x, y, test_size=holdout, stratify=y, random_state=p["seed"])
    x_val, x_test, y_val, y_test = train_test_split(
        x_rest, y_rest, test_size=p["test_size"] / holdout, stratify=y_rest, random_state=p["seed"]
    )
    PREPARED.mkdir(parents=True, exist_ok=True)
    for name, xs, ys in (("train", x_train, y_train), ("val", x_val, y_val), ("test", x_test, y_test)):
        np.savetxt(PREPARED / f"{name}.csv", np.column_stack([xs, ys]), delimiter=",",
                   header=columns, comments="", fmt="%.10g")  # fmt: skip
    current = run()
    if current is not None:
        current.log_dataset("train", x_train, target=y_train)
        current.log_dataset("validation", x_val, target=y_val)
    print(f"prepared {len(y_train)} train, {len(y_val)} validation, {len(y_test)} test rows")


if __name__ == "__main__":
    main()
