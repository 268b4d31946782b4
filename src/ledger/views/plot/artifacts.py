"""Drawing a run's plot-data artifacts onto a figure prepared by `ledger.views.plot.charts`.

matplotlib itself is only touched through the figure and axes `ledger.views.plot.charts` hands over.
"""

from __future__ import annotations

from typing import Any

from ledger.views.plot.charts import BASELINE_COLOR, MUTED, label, palette


def confusion(fig: Any, data: dict[str, Any], title: str) -> None:
    ax = fig.add_subplot()
    matrix, labels = data["matrix"], [label(x, 20) for x in data["labels"]]
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax)
    ticks = list(range(len(labels)))
    ax.set_xticks(
        ticks, labels=labels, rotation=45 if len(labels) > 4 else 0, ha="right" if len(labels) > 4 else "center"
    )
    ax.set_yticks(ticks, labels=labels)
    peak = max((v for row in matrix for v in row), default=0.0)
    if len(labels) <= 20:
        for i, row in enumerate(matrix):
            for j, value in enumerate(row):
                ax.text(
                    j,
                    i,
                    f"{value:.4g}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if value > peak / 2 else "black",
                )
    ax.grid(False)
    ax.set_title(title)
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")


def roc(fig: Any, data: dict[str, Any], title: str) -> None:
    ax = fig.add_subplot()
    colours = palette(len(data["curves"]))
    for curve, color in zip(data["curves"], colours):
        name = label(curve["label"], 24)
        if curve["auc"] is not None:
            name = f"{name} (AUC {curve['auc']:.3f})" if name else f"AUC {curve['auc']:.3f}"
        ax.plot(curve["fpr"], curve["tpr"], color=color, linewidth=2, label=name or None)
    ax.plot([0, 1], [0, 1], color=MUTED, linestyle="--", linewidth=1, label="chance")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(loc="lower right")


def importance(fig: Any, data: dict[str, Any], title: str) -> None:
    ax = fig.add_subplot()
    pairs = sorted(zip(data["features"], data["importances"]), key=lambda p: -abs(p[1]))[:25][::-1]
    positions = list(range(len(pairs)))
    ax.barh(positions, [v for _, v in pairs], color=palette(1)[0])
    ax.set_yticks(positions, labels=[label(f, 32) for f, _ in pairs])
    ax.grid(axis="y", visible=False)
    ax.set_title(title)
    ax.set_xlabel("importance")


def residuals(fig: Any, data: dict[str, Any], title: str) -> None:
    ax = fig.add_subplot()
    ax.scatter(data["y_pred"], data["residuals"], s=12, alpha=0.6, color=palette(1)[0])
    ax.axhline(0.0, color=BASELINE_COLOR, linestyle="--", linewidth=1)
    ax.set_title(title)
    ax.set_xlabel("predicted value")
    ax.set_ylabel("residual (actual − predicted)")
