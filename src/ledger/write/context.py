"""Everything captured when a run starts, assembled into the record's context fields."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from ledger.core import yamlio
from ledger.core.fields import deep_merge
from ledger.core.redact import scrub_all
from ledger.core.workspace import Workspace
from ledger.write.capture import catch_and_warn
from ledger.write.capture.author import capture_author
from ledger.write.capture.code import CodeState, capture_code
from ledger.write.capture.data import capture_data
from ledger.write.capture.environment import capture_env
from ledger.write.capture.hardware import capture_hardware
from ledger.write.capture.params import apply_overrides, load_params_file, seed_field

_code = catch_and_warn("the code state", None)(capture_code)
_data = catch_and_warn("data versions", [])(capture_data)
_env = catch_and_warn("the environment", (None, None))(capture_env)
_hardware = catch_and_warn("the hardware", None)(capture_hardware)
_author = catch_and_warn("the author", None)(capture_author)


def effective_params(ws: Workspace, overrides: list[str], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """params file + `-p` overrides + params given in code. Bad input is an error here."""
    params = apply_overrides(load_params_file(ws.root, ws.config.params_file), overrides)
    return deep_merge(params, extra) if extra else params


def command_field(ws: Workspace, argv: list[str] | None, overrides: list[str]) -> dict[str, Any]:
    if argv is None:
        argv = [os.path.basename(sys.executable), *sys.argv] if sys.argv and sys.argv[0] else []
    secrets = ws.config.secrets
    field: dict[str, Any] = {"argv": scrub_all(argv, ws.root, secrets), "cwd": ws.cwd_relative()}
    if overrides:
        field["overrides"] = scrub_all(overrides, ws.root, secrets)
    return field


def write_patch(ws: Workspace, sidecar: str, code: CodeState) -> str | None:
    if not code.patch:
        return None
    relpath = f"{sidecar}/code.patch"
    yamlio.write_atomic(ws.path(relpath), code.patch)
    return relpath


def capture_context(
    ws: Workspace,
    sidecar: str,
    *,
    params: dict[str, Any],
    argv: list[str] | None,
    overrides: list[str],
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(context fields of the record, environment document to store). Never raises for
    a failing provider: that context is left empty with a warning."""
    code = _code(ws.root, ws.config.source_extensions, ws.config.secrets)
    env_field, env_document = _env(ws.config.env_allowlist, ws.config.secrets)
    code_field = None
    if code is not None:
        code_field = {
            "commit": code.commit,
            "branch": code.branch,
            "dirty": code.dirty,
            "patch": write_patch(ws, sidecar, code),
            "patch_hash": code.patch_hash,
            "tree": code.tree,
            "remote": code.remote,
        }
    fields = {
        "author": _author(ws.root),
        "command": command_field(ws, argv, overrides),
        "code": code_field,
        "data": _data(ws.root, ws.config.data),
        "params": params,
        "seed": seed_field(params),
        "env": env_field,
        "hardware": _hardware(),
    }
    return fields, env_document


def store_env_document(ws: Workspace, env_field: dict[str, Any] | None, document: Any) -> None:
    """Write the environment file once; same content, same name, so no one overwrites."""
    if not env_field or not document:
        return
    path: Path = ws.path(env_field["file"])
    if not path.exists():
        yamlio.dump_file(path, {"id": env_field["id"], **document})
