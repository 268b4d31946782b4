"""Optuna, behind one module (the only one that imports it, and only for `--optimize`).

The study lives in an Optuna journal file (`JournalStorage` over `JournalFileBackend`): no
database, safe for many processes and for machines sharing a filesystem, so `-j` workers,
shards and submitted tasks all ask and tell the same study. The sweep process asks for a
trial and tells its outcome; the trial's own process reports intermediate values and asks
whether to stop (`report`), through the same file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ledger.errors import LedgerError

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("none", "median", "hyperband")


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise LedgerError("--optimize needs Optuna: `pip install 'ledger-ml[optuna]'`") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def storage(path: Path) -> Any:
    optuna = _optuna()
    from optuna.storages.journal import JournalFileBackend

    path.parent.mkdir(parents=True, exist_ok=True)
    return optuna.storages.JournalStorage(JournalFileBackend(str(path)))


def pruner(name: str, startup: int, warmup: int) -> Any:
    optuna = _optuna()
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=startup, n_warmup_steps=warmup)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=max(1, warmup), max_resource="auto")
    return optuna.pruners.NopPruner()


def distribution(kind: str, args: Sequence[Any]) -> Any:
    """`float`/`loguniform` (low, high), `int` (low, high), `categorical` (choices)."""
    dists = _optuna().distributions
    if kind == "int":
        return dists.IntDistribution(int(args[0]), int(args[1]))
    if kind == "categorical":
        return dists.CategoricalDistribution(list(args))
    return dists.FloatDistribution(float(args[0]), float(args[1]), log=kind == "loguniform")


def load_study(path: Path, name: str, direction: str, sampler_name: str, seed: int,
               grid: dict[str, list[Any]] | None, prune: str, startup: int, warmup: int) -> Any:  # fmt: skip
    """Create the study, or continue it (the same name in the same journal)."""
    optuna = _optuna()
    if sampler_name == "grid":
        sampler = optuna.samplers.GridSampler(grid or {}, seed=seed)
    elif sampler_name == "random":
        sampler = optuna.samplers.RandomSampler(seed=seed)
    else:
        sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(
        storage=storage(path), study_name=name, sampler=sampler, pruner=pruner(prune, startup, warmup),
        direction="minimize" if direction == "min" else "maximize", load_if_exists=True,
    )  # fmt: skip
    wanted = "MINIMIZE" if direction == "min" else "MAXIMIZE"
    if study.direction.name != wanted:
        raise LedgerError(
            f"study {name} {study.direction.name.lower()}s its metric: resume it with the same direction, "
            "or start another with --study NAME"
        )
    return study


def counts(study: Any) -> dict[str, int]:
    """Trials of the study by state (complete, pruned, fail, running, waiting)."""
    found: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        found[trial.state.name.lower()] = found.get(trial.state.name.lower(), 0) + 1
    return found


def ask(study: Any, space: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A new trial: (number, params)."""
    try:
        trial = study.ask(space)
    except ValueError as exc:  # e.g. other choices than the study's for a categorical parameter
        raise LedgerError(
            f"study {study.study_name} cannot continue with this search space ({exc}): "
            "keep its -p specs, or start another study with --study NAME"
        ) from None
    return trial.number, dict(trial.params)


def tell(study: Any, number: int, state: str, value: float | None = None) -> None:
    """The outcome of a trial: complete (with its value), pruned or fail."""
    optuna = _optuna()
    states = {"complete": None, "pruned": optuna.trial.TrialState.PRUNED, "fail": optuna.trial.TrialState.FAIL}
    if state == "complete":
        study.tell(number, value, skip_if_finished=True)
    else:
        study.tell(number, state=states[state], skip_if_finished=True)


def best(study: Any) -> tuple[int, float] | None:
    try:
        trial = study.best_trial
    except ValueError:  # no complete trial yet
        return None
    return trial.number, float(trial.value)


def fail_if_running(path: Path, study_name: str, number: int) -> bool:
    """Fail trial `number` of the study kept in journal `path` if it is still RUNNING (the
    processes that ran it have died: `trial_notes`); whether it was."""
    optuna = _optuna()
    journal = storage(path)
    try:
        study = optuna.load_study(study_name=study_name, storage=journal)
        trial_id = journal.get_trial_id_from_study_id_trial_number(journal.get_study_id_from_name(study_name), number)
    except KeyError:  # no such study or trial (any more)
        return False
    if journal.get_trial(trial_id).state != optuna.trial.TrialState.RUNNING:
        return False
    journal.set_trial_user_attr(trial_id, "ledger_failed", "its sweep was killed before it told the outcome")
    study.tell(number, state=optuna.trial.TrialState.FAIL, skip_if_finished=True)
    return True


class TrialHandle:
    """The running trial, from its own process: report a value, ask whether to stop."""

    def __init__(self, path: Path, study: str, number: int, prune: str, startup: int, warmup: int):
        optuna = _optuna()
        journal = storage(path)
        loaded = optuna.load_study(study_name=study, storage=journal, pruner=pruner(prune, startup, warmup))
        trial_id = journal.get_trial_id_from_study_id_trial_number(journal.get_study_id_from_name(study), number)
        self.trial = optuna.trial.Trial(loaded, trial_id)

    def report(self, value: float, step: int) -> bool:
        """Report `value` at `step`; True when the pruner says the trial should stop."""
        self.trial.report(value, step)
        return bool(self.trial.should_prune())
