"""PyTorch: the plain-loop tracker, the Lightning logger and the Hugging Face callback, each
with a real (tiny) training on iris."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch
from sklearn.datasets import load_iris
from torch import nn

import ledger
from ledger.autolog import autolog
from ledger.autolog import torch as ledger_torch
from ledger.integrations.lightning import LedgerLogger
from support.autolog_helpers import all_records, artifact, only_record, series

Data = tuple[torch.Tensor, torch.Tensor]


@pytest.fixture(scope="module")
def iris() -> Data:
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y)


def _train(
    model: nn.Module, opt: torch.optim.Optimizer, data: Data, tracker: ledger_torch.Tracker, epochs: int
) -> list[float]:
    X, y = data
    accuracies = []
    for _ in range(epochs):
        for i in range(0, len(X), 50):
            loss = nn.functional.cross_entropy(model(X[i : i + 50]), y[i : i + 50])
            opt.zero_grad()
            loss.backward()
            opt.step()
            tracker.log_step(loss=loss)
        accuracy = (model(X).argmax(1) == y).float().mean()
        accuracies.append(float(accuracy))
        tracker.log_epoch({"train/acc": accuracy})
    return accuracies


def test_plain_loop_tracker_records_steps_epochs_model_and_optimizer(repo: Path, iris: Data) -> None:
    X, y = iris
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    with ledger_torch.track(model, opt, name="mlp", hparams={"epochs": 4, "batch_size": 50}) as tracker:
        accuracies = _train(model, opt, (X, y), tracker, epochs=4)

    rec = only_record(repo)
    assert rec["name"] == "mlp" and rec["status"] == "finished"
    assert rec["params"]["hparams"] == {"epochs": 4, "batch_size": 50}
    assert rec["params"]["torch"] == {
        "model": {"class": "Sequential", "parameters": 4 * 8 + 8 + 8 * 3 + 3,
                  "trainable_parameters": 67, "size_bytes": 67 * 4},
        "optimizer": {"class": "SGD", "lr": 0.2, "momentum": 0.9, "dampening": 0, "weight_decay": 0,
                      "nesterov": False, "maximize": False, "differentiable": False},
    }  # fmt: skip
    points = series(repo, rec)
    assert [s for s, _ in points["loss"]] == list(range(4 * 3))  # 3 batches x 4 epochs
    assert [s for s, _ in points["train/acc"]] == [0, 1, 2, 3]
    assert [v for _, v in points["train/acc"]] == pytest.approx(accuracies)
    assert rec["metrics"]["train/acc"] == pytest.approx(accuracies[-1])
    entry, path = artifact(repo, rec, "model.pt")
    assert entry["kind"] == "model" and path.stat().st_size > 0


def test_a_failing_loop_is_a_failed_run_and_the_error_propagates(repo: Path, iris: Data) -> None:
    X, y = iris
    model = nn.Linear(4, 3)
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        with ledger_torch.track(model) as tracker:
            tracker.log_step(loss=1.5)
            model(X[:, :3])
    rec = only_record(repo)
    assert rec["status"] == "failed" and rec["error"]["type"] == "RuntimeError"
    assert "shapes cannot be multiplied" in rec["error"]["traceback"]
    assert rec["metrics"] == {"loss": 1.5}  # what was logged before the failure is kept
    assert not rec.get("artifacts")  # no model for a failed run


class Classifier(pl.LightningModule):
    def __init__(self, lr: float = 0.05, hidden: int = 6):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, 3))

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], index: int) -> torch.Tensor:
        x, target = batch
        loss = nn.functional.cross_entropy(self.net(x), target)
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


def _trainer(**kwargs: object) -> pl.Trainer:
    return pl.Trainer(max_epochs=3, log_every_n_steps=1, enable_checkpointing=False, enable_progress_bar=False,
                      enable_model_summary=False, accelerator="cpu", **kwargs)  # fmt: skip


def test_lightning_logger_records_hparams_step_and_epoch_metrics(repo: Path, iris: Data) -> None:
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*iris), batch_size=50)
    module = Classifier()
    _trainer(logger=LedgerLogger(name="lit")).fit(module, loader)

    rec = only_record(repo)
    assert rec["name"] == "lit" and rec["status"] == "finished"
    assert rec["params"]["hparams"] == {"lr": 0.05, "hidden": 6}
    assert rec["params"]["torch"]["model"]["parameters"] == sum(p.numel() for p in module.parameters())
    assert rec["params"]["torch"]["optimizer"]["class"] == "Adam"
    assert rec["params"]["torch"]["optimizer"]["lr"] == 0.05
    points = series(repo, rec)
    assert len(points["train_loss_step"]) == 3 * 3  # every step of 3 epochs x 3 batches
    assert len(points["train_loss_epoch"]) == 3
    assert "epoch" not in points
    artifact(repo, rec, "model.pt")


def test_autolog_adds_the_logger_and_a_failing_fit_is_recorded(repo: Path, iris: Data) -> None:
    class Broken(Classifier):
        def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], index: int) -> torch.Tensor:
            if self.global_step == 2:
                raise ArithmeticError("diverged")
            return super().training_step(batch, index)

    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*iris), batch_size=50)
    autolog(["torch"])
    try:
        with ledger.start_run(name="outer-run"):
            _trainer(logger=False).fit(Classifier(), loader)
        with pytest.raises(ArithmeticError, match="diverged"):
            _trainer(logger=False).fit(Broken(), loader)
    finally:
        autolog(["torch"], disable=True)
    assert "__ledger_autolog__" not in vars(pl.Trainer.fit)

    outer, broken = sorted(all_records(repo), key=lambda r: r["status"] == "failed")
    assert outer["name"] == "outer-run" and outer["status"] == "finished"
    assert outer["params"]["hparams"]["lr"] == 0.05
    assert len(series(repo, outer)["train_loss_epoch"]) == 3
    assert broken["status"] == "failed" and broken["error"]["type"] == "ArithmeticError"
    assert "diverged" in broken["error"]["traceback"]
    assert [s for s, _ in series(repo, broken)["train_loss_step"]] == [0, 1]
