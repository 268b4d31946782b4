"""A trial of `ledger sweep --optimize`, seen from the run that is the trial.

The sweep gives each trial's `ledger run` the study in `LEDGER_TRIAL` (JSON: journal path,
study name, trial number, metric, pruner). The `ledger run` process writes the record's
`trial` field from it; the training process, when it logs the optimised metric
(`ledger.log_metric(metric, value, step=s)`), reports the value to the trial and asks the
pruner. When the pruner says stop, it notes `pruned` (with the step) in the run's journal
and raises `TrialPruned`, which ends the process quietly: the run is recorded as `pruned`
and the sweep tells the study so. Optuna is imported only when a value is reported, and
only through `ledger.write.optuna` (the one module that imports it).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ledger.core.journal import write_event
from ledger.errors import LedgerWarning, TrialPruned

ENV_TRIAL = "LEDGER_TRIAL"


@dataclass(frozen=True)
class TrialInfo:
    storage: str
    study: str
    number: int
    metric: str
    direction: str
    prune: str = "none"
    startup: int = 5
    warmup: int = 0

    def to_env(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)

    def record_field(self) -> dict[str, Any]:
        return {"study": self.study, "number": self.number, "metric": self.metric, "direction": self.direction}


def from_env(env: Mapping[str, str] | None = None) -> TrialInfo | None:
    """The trial this process runs, or None (not a trial, or an unreadable variable)."""
    text = (os.environ if env is None else env).get(ENV_TRIAL)
    if not text:
        return None
    try:
        data = json.loads(text)
        return TrialInfo(
            storage=str(data["storage"]), study=str(data["study"]), number=int(data["number"]),
            metric=str(data["metric"]), direction=str(data["direction"]), prune=str(data.get("prune", "none")),
            startup=int(data.get("startup", 5)), warmup=int(data.get("warmup", 0)),
        )  # fmt: skip
    except (ValueError, TypeError, KeyError):
        return None


class Reporter:
    """Reports the optimised metric of the run to its trial (used by `Run.log_metric`)."""

    def __init__(self, info: TrialInfo):
        self.info = info
        self.metric = info.metric
        self._handle: Any = None

    def report(self, run_dir: Path, value: float, step: int) -> None:
        if self.info.prune == "none":
            return
        if self._handle is None:
            from ledger.write.optuna import TrialHandle

            info = self.info
            try:
                self._handle = TrialHandle(Path(info.storage), info.study, info.number, info.prune,
                                           info.startup, info.warmup)  # fmt: skip
            except Exception as exc:  # noqa: BLE001 - no Optuna here, or no study: train on, unpruned
                self.info = replace(info, prune="none")
                warnings.warn(f"trial {info.number} cannot be pruned ({exc}): it runs to the end",
                              LedgerWarning, stacklevel=3)  # fmt: skip
                return
        if self._handle.report(value, step):
            write_event(run_dir, "pruned", {"step": step, "metric": self.metric, "value": value})
            raise TrialPruned(self.info.number, step)
