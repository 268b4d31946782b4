"""ledger.yaml: the project's settings, with defaults for everything."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.core import yamlio
from ledger.errors import ConfigError, RecordError

CONFIG_FILE = "ledger.yaml"
COMMIT_POLICIES = ("auto", "off")
DIRECTIONS = ("max", "min")

# Metric names with one of these words in their last segment are minimised unless
# ledger.yaml says otherwise (word-wise: `val_loss_epoch` and `fit_time_s` are minimised,
# `lossless_ratio` is not).
_MIN_WORDS = re.compile(
    r"(?:^|[_\-])(loss|error|err|rmse|mse|mae|mape|smape|logloss|log_loss|time|cost|latency|"
    r"perplexity|ppl|wer|cer|fpr|fnr|duration|memory|seconds)s?(?:$|[_\-])",
    re.I,
)

DEFAULT_TEXT = """\
# ledger settings. Every key is optional; see the README for what each one does.
experiment: default        # grouping name written into each run
primary_metric: null       # the metric `ledger top`, `diff` and `report` rank by, e.g. auc
metrics: {}                # direction per metric, e.g. {auc: max, val/loss: min}
baseline: null             # the baseline run id (`ledger baseline ID` sets it)
naming: null               # run-name template, e.g. "{date}_{featureset}_{model}_{hypothesis}"
commit: auto               # auto: commit each finished record; off: leave it for you to commit
params_file: params.yaml   # the parameters file (DVC's convention)
data: []                   # extra data paths (not tracked by DVC) to hash into each record
cost:
  currency: USD
  cpu_hour: 0.0            # price of one hour of wall time on this machine
  gpu_hour: 0.0            # price of one GPU hour (charged per GPU)
secrets: []                # extra regular expressions whose matches are redacted
env_allowlist: []          # extra environment variables to record (beyond the built-in list)
source_extensions: []      # extra untracked-file extensions captured into the code patch
guard: []                  # paths (globs) that may only be committed after a recorded run
system_interval: 10        # seconds between system-metric samples (CPU, memory, I/O, GPUs); 0: off
"""


def direction_by_name(metric: str) -> str:
    """`min` for names that read as a loss, error, time or cost; `max` otherwise."""
    last = re.split(r"[/.:]", metric)[-1]
    return "min" if _MIN_WORDS.search(last) else "max"


@dataclass(frozen=True)
class Config:
    experiment: str = "default"
    primary_metric: str | None = None
    metrics: dict[str, str] = field(default_factory=dict)
    baseline: str | None = None
    naming: str | None = None
    commit: str = "auto"
    params_file: str = "params.yaml"
    data: tuple[str, ...] = ()
    currency: str = "USD"
    cpu_hour: float = 0.0
    gpu_hour: float = 0.0
    secrets: tuple[str, ...] = ()
    env_allowlist: tuple[str, ...] = ()
    source_extensions: tuple[str, ...] = ()
    guard: tuple[str, ...] = ()
    system_interval: float = 10.0
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def direction(self, metric: str) -> str:
        """The metric's direction: ledger.yaml first, then the name."""
        return self.metrics.get(metric) or direction_by_name(metric)


def _str_list(raw: dict[str, Any], key: str, source: str) -> tuple[str, ...]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{source}: `{key}` must be a list of strings")
    return tuple(value)


def _opt_str(raw: dict[str, Any], key: str, source: str, default: str | None) -> str | None:
    value = raw.get(key, default)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{source}: `{key}` must be a string")
    return value


def parse(raw: Any, source: str = CONFIG_FILE) -> Config:
    """Build a Config from ledger.yaml's parsed content, with one-line errors."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: must be a mapping of settings")
    metrics = raw.get("metrics") or {}
    if not isinstance(metrics, dict) or any(v not in DIRECTIONS for v in metrics.values()):
        raise ConfigError(f"{source}: `metrics` maps metric names to max or min")
    commit = raw.get("commit", "auto")
    if commit is False:  # YAML 1.1 reads a bare `off` as false
        commit = "off"
    if commit not in COMMIT_POLICIES:
        raise ConfigError(f"{source}: `commit` must be auto or off, not {commit!r}")
    cost = raw.get("cost") or {}
    if not isinstance(cost, dict):
        raise ConfigError(f"{source}: `cost` must be a mapping (currency, cpu_hour, gpu_hour)")
    try:
        cpu_hour = float(cost.get("cpu_hour") or 0.0)
        gpu_hour = float(cost.get("gpu_hour") or 0.0)
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: cost rates must be numbers") from None
    for pattern in _str_list(raw, "secrets", source):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"{source}: secret pattern {pattern!r} is invalid: {exc}") from None
    interval = raw.get("system_interval", 10.0)
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not 0 <= interval < float("inf"):
        raise ConfigError(f"{source}: `system_interval` must be a number of seconds (0 turns sampling off)")
    return Config(
        experiment=_opt_str(raw, "experiment", source, "default") or "default",
        primary_metric=_opt_str(raw, "primary_metric", source, None),
        metrics={str(k): str(v) for k, v in metrics.items()},
        baseline=_opt_str(raw, "baseline", source, None),
        naming=_opt_str(raw, "naming", source, None),
        commit=str(commit),
        params_file=_opt_str(raw, "params_file", source, "params.yaml") or "params.yaml",
        data=_str_list(raw, "data", source),
        currency=str(cost.get("currency") or "USD"),
        cpu_hour=cpu_hour,
        gpu_hour=gpu_hour,
        secrets=_str_list(raw, "secrets", source),
        env_allowlist=_str_list(raw, "env_allowlist", source),
        source_extensions=_str_list(raw, "source_extensions", source),
        guard=_str_list(raw, "guard", source),
        system_interval=float(interval),
        raw=raw,
    )


def load(root: Path) -> Config:
    """The workspace's settings; defaults when there is no ledger.yaml."""
    try:
        with open(root / CONFIG_FILE, "rb") as fh:
            data = fh.read(yamlio.MAX_BYTES + 1)
    except FileNotFoundError:
        return Config()
    try:
        raw = _parsed(data, CONFIG_FILE, root)
    except RecordError as exc:
        raise ConfigError(f"{exc}: fix {CONFIG_FILE} (or delete it to use the defaults)") from None
    return parse(raw)


def from_bytes(data: bytes, source: str, root: Path | None = None) -> Config:
    """Settings from ledger.yaml's bytes as some revision has them (`source` names it in
    errors); `root`'s git directory keeps the parse, as `load` does."""
    return parse(_parsed(data, source, root), source)


# ---------------------------------------------------------------------------- the memo
#
# ledger.yaml is written by hand (comments, flow style, anchors refused), so only the real
# YAML parser reads it; but PyYAML costs a warm `ledger top` more than the rest of its
# imports together. A parse is a pure function of the file's bytes and of the parser, so
# its answer is remembered in the git directory's disposable cache, keyed by a hash of
# both: the same bytes read by the same parser give the same settings, and any change to
# the file (or to the parser: `yamlio.parser_version`) misses the memo and parses again.
# Only answers that survive a JSON round trip unchanged are kept (not NaN, not a non-text
# key); reading the memo runs nothing, and `parse` checks what it holds as it checks a
# fresh parse. Deleting it only costs a parse.

MEMO_FILE = "ledger-cache/config.json"
MEMO_FORMAT = 1
MEMO_ENTRIES = 8  # a few versions of ledger.yaml (branches, BASE in `ledger diff`)


def _parsed(data: bytes, source: str, root: Path | None) -> Any:
    """ledger.yaml's bytes parsed (safe loader, limits), from the memo when it knows them."""
    memo = _memo_path(root) if root is not None else None
    if memo is None:
        return yamlio.loads(data, source=source)
    seed = f"{MEMO_FORMAT}|{yamlio.parser_version()}|{yamlio.MAX_BYTES}|{yamlio.MAX_DEPTH}\0".encode()
    key = hashlib.sha256(seed + data).hexdigest()
    entries = _read_memo(memo)
    if key in entries:
        return entries[key]
    raw = yamlio.loads(data, source=source)
    _remember(memo, entries, key, raw)
    return raw


def _memo_path(root: Path) -> Path | None:
    """The memo in the repository's git directory: `.git/` itself, or the directory a `.git`
    file names (a linked worktree, a submodule). Found without running git; None when
    there is no git directory to hold it."""
    dot = root / ".git"
    if dot.is_dir():
        return dot / MEMO_FILE
    try:
        with open(dot, "rb") as fh:
            text = fh.read(4096).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith("gitdir:"):
        return None
    git_dir = root / text[len("gitdir:") :].strip()
    return git_dir / MEMO_FILE if git_dir.is_dir() else None


def _read_memo(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            memo = json.loads(fh.read(4 * yamlio.MAX_BYTES))
    except (OSError, ValueError):
        return {}  # none yet, or damaged: parse again and write a new one
    if not isinstance(memo, dict) or memo.get("format") != MEMO_FORMAT or not isinstance(memo.get("entries"), dict):
        return {}
    return memo["entries"]


def _remember(path: Path, entries: dict[str, Any], key: str, raw: Any) -> None:
    """Add one parse to the memo (atomically; a reader sees the old memo or the new one).
    A memo that cannot be written (a read-only checkout) is no error: it is only a memo."""
    try:
        text = json.dumps(raw, ensure_ascii=False, allow_nan=False)
        if json.loads(text) != raw:
            return  # a key or value JSON would change (e.g. `1:` as a key): not remembered
    except (TypeError, ValueError):
        return
    kept = {k: v for k, v in list(entries.items())[-(MEMO_ENTRIES - 1) :] if k != key}
    kept[key] = raw
    body = json.dumps({"format": MEMO_FORMAT, "entries": kept}, ensure_ascii=False, allow_nan=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
