"""Comparing a reproduction with the run it reproduces: metrics, artifacts, params.

Pure functions over records, so the verdict rules are easy to read and to test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ledger.core.fields import flatten

if TYPE_CHECKING:
    from ledger.dvc.recompute import Plan

# `unproven`: the numbers may match, but the pipeline's outputs were not all remade by the
# rerun, so the match proves nothing.
VERDICTS = ("reproduced", "differs", "failed", "unproven")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def metric_matches(recorded: Any, reproduced: Any, tolerance: float | None) -> bool:
    """Exactly equal by default; with `tolerance`, relatively close (to the larger of the
    two values). NaN matches NaN; a metric missing on either side never matches."""
    a, b = _number(recorded), _number(reproduced)
    if a is None or b is None:
        return False
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if not tolerance:
        return a == b
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=0.0)


def metric_deltas(
    recorded: dict[str, Any], reproduced: dict[str, Any], tolerance: float | None
) -> dict[str, dict[str, Any]]:
    """Per metric (every metric of either run): both values, the difference, and a verdict."""
    deltas = {}
    for name in sorted(set(recorded) | set(reproduced)):
        a, b = _number(recorded.get(name)), _number(reproduced.get(name))
        delta = b - a if a is not None and b is not None and math.isfinite(b - a) else None
        deltas[name] = {
            "recorded": recorded.get(name),
            "reproduced": reproduced.get(name),
            "delta": delta,
            "match": metric_matches(a, b, tolerance),
        }
    return deltas


def artifact_hashes(recorded: list[dict[str, Any]], reproduced: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per artifact name: the recorded and reproduced hash, and whether they are equal."""
    before = {a["name"]: a.get("hash") for a in recorded if isinstance(a, dict) and "name" in a}
    after = {a["name"]: a.get("hash") for a in reproduced if isinstance(a, dict) and "name" in a}
    return {
        name: {
            "recorded": before.get(name),
            "reproduced": after.get(name),
            "match": before.get(name) is not None and before.get(name) == after.get(name),
        }
        for name in sorted(set(before) | set(after))
    }


def params_differences(recorded: dict[str, Any], reproduced: dict[str, Any]) -> list[str]:
    """`lr: 0.1 -> 0.2` for every effective parameter that differs (sorted)."""
    a, b = flatten(recorded or {}), flatten(reproduced or {})
    missing = object()
    lines = []
    for key in sorted(set(a) | set(b)):
        before, after = a.get(key, missing), b.get(key, missing)
        if before != after:
            show_before = "(none)" if before is missing else repr(before)
            show_after = "(none)" if after is missing else repr(after)
            lines.append(f"{key}: {show_before} -> {show_after}")
    return lines


def verdict(
    status: str,
    deltas: dict[str, dict[str, Any]],
    artifacts: dict[str, dict[str, Any]],
    params: list[str],
) -> str:
    """`reproduced` only when the rerun finished and every metric, artifact hash and
    parameter matches; `failed` when the rerun did not finish; `differs` otherwise."""
    if status != "finished":
        return "failed"
    if params or not all(d["match"] for d in (*deltas.values(), *artifacts.values())):
        return "differs"
    return "reproduced"


def output_hashes(
    recorded: dict[str, str], reproduced: list[dict[str, Any]], paths: list[str]
) -> dict[str, dict[str, Any]]:
    """Per pipeline output path: the recorded and the remade hash, and whether they agree."""
    after = {e["path"]: e.get("hash") for e in reproduced
             if isinstance(e, dict) and e.get("role") == "out" and isinstance(e.get("path"), str)}  # fmt: skip
    return {
        path: {
            "recorded": recorded[path],
            "reproduced": after.get(path),
            "match": after.get(path) == recorded[path],
        }  # fmt: skip
        for path in sorted(paths)
    }


@dataclass
class Judged:
    verdict: str
    deltas: dict[str, dict[str, Any]]
    artifacts: dict[str, dict[str, Any]]
    outputs: dict[str, dict[str, Any]]
    params: list[str]
    notes: list[str] = field(default_factory=list)


def judge(
    original: dict[str, Any], rerun: dict[str, Any], plan: Plan, stages: list[str] | None, tolerance: float | None
) -> Judged:
    """Compare a reproduction with the run it reproduces. For a DVC pipeline, `stages` are
    the stages DVC ran: the outputs of those stages are compared by hash, and a pipeline whose
    recorded outputs no stage remade is `unproven` at best."""
    deltas = metric_deltas(original.get("metrics") or {}, rerun.get("metrics") or {}, tolerance)
    artifacts = artifact_hashes(original.get("artifacts") or [], rerun.get("artifacts") or [])
    params = params_differences(original.get("params") or {}, rerun.get("params") or {})
    ran = set(stages or [])
    remade = [path for path in plan.compared if plan.producers.get(path) in ran]
    outputs = output_hashes(plan.outputs, list(rerun.get("data") or []), remade)
    result = Judged(verdict(str(rerun.get("status")), deltas, {**artifacts, **outputs}, params),
                    deltas, artifacts, outputs, params)  # fmt: skip
    if plan.pipeline:
        skipped = sorted({plan.producers[p] for p in plan.outputs} - ran)
        if stages:
            result.notes.append(f"DVC recomputed the stages {', '.join(stages)} (forced, without its run-cache)")
        if skipped:
            result.notes.append(f"stages that produced recorded outputs but did not run: {', '.join(skipped)}")
        if plan.outputs and not stages and result.verdict == "reproduced":
            result.verdict = "unproven"
            result.notes.append("DVC ran no stage, so no recorded output was recomputed: not a proof")
    return result
