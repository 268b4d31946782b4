"""The Hugging Face `Trainer` callback, with a real (tiny, randomly initialised) model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from sklearn.datasets import load_iris
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

from ledger.autolog import autolog
from ledger.integrations.transformers import LedgerCallback
from support.autolog_helpers import artifact, only_record, series


class IrisTokens(torch.utils.data.Dataset):  # type: ignore[type-arg]
    """Iris as token sequences: each feature binned into one of 10 tokens."""

    def __init__(self) -> None:
        X, y = load_iris(return_X_y=True)
        bins = ((X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0)) * 9).round().astype(int)
        self.ids = torch.tensor(bins + 2)
        self.labels = torch.tensor(y)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.ids[i], "attention_mask": torch.ones(4, dtype=torch.long), "labels": self.labels[i]}


def _trainer(tmp_path: Path, callbacks: list[object] | None) -> Trainer:
    torch.manual_seed(0)
    config = BertConfig(vocab_size=16, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=16, max_position_embeddings=8, num_labels=3)  # fmt: skip
    args = TrainingArguments(output_dir=str(tmp_path / "out"), num_train_epochs=2, per_device_train_batch_size=50,
                             logging_steps=1, learning_rate=0.01, report_to=[], save_strategy="no",
                             use_cpu=True, disable_tqdm=True)  # fmt: skip
    model = BertForSequenceClassification(config)
    return Trainer(model=model, args=args, train_dataset=IrisTokens(), callbacks=callbacks)


def test_trainer_callback_records_args_config_losses_and_weights(repo: Path, tmp_path: Path) -> None:
    trainer = _trainer(tmp_path, [LedgerCallback(name="tiny-bert")])
    trainer.train()

    rec = only_record(repo)
    assert rec["name"] == "tiny-bert" and rec["status"] == "finished"
    assert rec["params"]["training_args"]["learning_rate"] == 0.01
    assert rec["params"]["training_args"]["num_train_epochs"] == 2
    assert rec["params"]["model_config"]["hidden_size"] == 8
    assert rec["params"]["torch"]["model"]["parameters"] == sum(p.numel() for p in trainer.model.parameters())
    assert rec["params"]["torch"]["optimizer"]["class"] == type(trainer.optimizer).__name__
    points = series(repo, rec)
    steps = trainer.state.global_step
    assert steps == 2 * 3  # 2 epochs x 3 batches
    assert [s for s, _ in points["loss"]] == list(range(1, steps + 1))
    logged = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert [v for _, v in points["loss"]] == pytest.approx(logged)
    artifact(repo, rec, "model.pt")


def test_autolog_adds_the_callback_once(repo: Path, tmp_path: Path) -> None:
    autolog(["torch"])
    try:
        trainer = _trainer(tmp_path, None)
        assert sum(isinstance(c, LedgerCallback) for c in trainer.callback_handler.callbacks) == 1
        trainer.train()
    finally:
        autolog(["torch"], disable=True)
    rec = only_record(repo)
    assert rec["name"] == "transformers" and rec["tags"]["autolog"] == "transformers"
    assert len(series(repo, rec)["loss"]) == 6
    assert not any(isinstance(c, LedgerCallback) for c in _trainer(tmp_path, None).callback_handler.callbacks)
