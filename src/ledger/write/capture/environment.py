"""The software environment: interpreter, platform, installed packages, allowlisted variables.

The package list is what makes an environment large, so it is stored once per distinct
environment under `experiments/envs/<id>.yaml` (content-addressed: the id is a hash of the
file's content) and each record only references it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from importlib import metadata
from typing import Any

from ledger.core import yamlio
from ledger.core.record import ENVS_DIR
from ledger.core.redact import redactor

# Variables that change numerical results or placement; never anything else by default.
ENV_ALLOWLIST = (
    "CUDA_VISIBLE_DEVICES", "CUBLAS_WORKSPACE_CONFIG", "PYTHONHASHSEED", "OMP_NUM_THREADS",
    "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "TF_DETERMINISTIC_OPS",
    "TF_CUDNN_DETERMINISTIC", "XLA_FLAGS", "NCCL_ALGO", "TOKENIZERS_PARALLELISM",
)  # fmt: skip


def _from_folder(dist: metadata.Distribution) -> tuple[str, str] | None:
    """Name and version from a `name-version.dist-info` folder name, without parsing the
    METADATA file (which costs ~1 ms per package, most of `ledger run`'s start-up)."""
    folder = getattr(dist, "_path", None)
    stem = getattr(folder, "name", "")
    if stem.endswith(".dist-info"):
        name, sep, version = stem[: -len(".dist-info")].partition("-")
        if sep and name and version:
            return name, version
    return None


def _direct_source(dist: metadata.Distribution) -> str | None:
    """How a distribution was installed when it did not come from a package index (PEP 610's
    `direct_url.json`): `editable`, `directory`, `vcs`, `file` or `url`; None otherwise."""
    try:
        text = dist.read_text("direct_url.json")
    except (OSError, ValueError):
        return None
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return "url"
    if not isinstance(data, dict):
        return "url"
    if isinstance(data.get("dir_info"), dict):
        return "editable" if data["dir_info"].get("editable") else "directory"
    if "vcs_info" in data:
        return "vcs"
    return "file" if str(data.get("url", "")).startswith("file:") else "url"


def _key(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def installed_packages() -> tuple[dict[str, str], dict[str, str]]:
    """({name: version} of every installed distribution, {name: source} of those not
    installed from a package index, which no requirements file can pin)."""
    packages: dict[str, str] = {}
    local: dict[str, str] = {}
    for dist in metadata.distributions():
        found = _from_folder(dist) or (dist.metadata["Name"], dist.version)
        name, version = found
        if name and _key(name) not in packages:
            packages[_key(name)] = version
            source = _direct_source(dist)
            if source is not None:
                local[_key(name)] = source
    return dict(sorted(packages.items())), dict(sorted(local.items()))


def environment_document() -> dict[str, Any]:
    """The content-addressed environment file (without its id). `local` lists the
    distributions installed from a directory, a VCS or a URL rather than a package index."""
    packages, local = installed_packages()
    document: dict[str, Any] = {
        "schema_version": 1,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": f"{platform.system()}-{platform.machine()}",
        "packages": packages,
    }
    if local:
        document["local"] = local
    return document


def environment_id(document: dict[str, Any]) -> str:
    return hashlib.sha256(yamlio.dumps(document).encode("utf-8")).hexdigest()[:16]


def env_file(env_id: str) -> str:
    return f"{ENVS_DIR}/{env_id}.yaml"


def capture_env(
    extra_allowlist: tuple[str, ...] = (), secrets: tuple[str, ...] = ()
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the record's `env` field, the environment document to store under its id).

    An allowlisted variable is still checked by name (`SERVICE_API_KEY`) and by value."""
    document = environment_document()
    env_id = environment_id(document)
    names = sorted(set(ENV_ALLOWLIST) | set(extra_allowlist))
    found = {name: os.environ[name] for name in names if name in os.environ}
    variables = redactor(secrets).value(found)
    field = {
        "id": env_id,
        "file": env_file(env_id),
        "python": document["python"],
        "implementation": document["implementation"],
        "platform": platform.platform(terse=True),
        "variables": variables,
    }
    return field, document


def python_executable_name() -> str:
    return os.path.basename(sys.executable)
