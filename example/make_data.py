"""Write the example's raw data: scikit-learn's breast-cancer data set (it ships inside the
package, so no download) as a CSV. The output is byte-identical on every machine, so the
DVC hash committed in `example/data/breast_cancer.csv.dvc` matches a fresh clone's file."""

from __future__ import annotations

import csv
from pathlib import Path

from sklearn.datasets import load_breast_cancer

OUT = Path(__file__).resolve().parent / "data" / "breast_cancer.csv"


def main() -> None:
    data = load_breast_cancer()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([*(name.replace(" ", "_") for name in data.feature_names), "malignant"])
        for row, target in zip(data.data, data.target):
            # target 0 is malignant in scikit-learn's encoding; the positive class here.
            writer.writerow([*(repr(float(v)) for v in row), int(target == 0)])
    print(f"wrote {OUT.relative_to(Path.cwd()) if OUT.is_relative_to(Path.cwd()) else OUT}")


if __name__ == "__main__":
    main()
