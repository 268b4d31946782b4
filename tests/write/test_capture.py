"""Capture providers on their own: data versions, params and seeds, env, hardware."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import pytest

from ledger.errors import LedgerWarning, UsageError
from ledger.write.capture import catch_and_warn
from ledger.write.capture.data import capture_data
from ledger.write.capture.environment import capture_env
from ledger.write.capture.hardware import capture_hardware
from ledger.write.capture.params import apply_overrides, parse_override, seed_field


def test_data_versions_from_dvc_files_and_lock(repo: Path) -> None:
    (repo / "data").mkdir()
    (repo / "data/raw.csv.dvc").write_text(
        "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 42\n  hash: md5\n  path: raw.csv\n"
    )
    (repo / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  prepare:\n    cmd: python prep.py\n    deps:\n"
        "    - path: data/raw.csv\n      hash: md5\n      md5: 0123456789abcdef0123456789abcdef\n      size: 42\n"
        "    outs:\n    - path: data/prepared\n      hash: md5\n      md5: fedcba9876543210fedcba9876543210.dir\n"
        "      size: 100\n      nfiles: 2\n    - path: ../../escape\n      md5: aa\n"
    )  # fmt: skip
    entries = capture_data(repo)
    assert entries == [
        {"path": "data/raw.csv", "hash": "0123456789abcdef0123456789abcdef", "size": 42,
         "nfiles": 1, "source": "data/raw.csv.dvc", "matches": None, "role": "data"},
        {"path": "data/prepared", "hash": "fedcba9876543210fedcba9876543210.dir", "size": 100,
         "nfiles": 2, "source": "dvc.lock:prepare", "matches": None, "role": "out"},
    ]  # fmt: skip


def test_extra_data_from_ledger_yaml_is_hashed(repo: Path) -> None:
    (repo / "table.csv").write_text("a\n1\n")
    [entry] = capture_data(repo, ("table.csv",))
    assert entry["hash"] == hashlib.md5(b"a\n1\n").hexdigest()
    assert entry["size"] == 4 and entry["matches"] is True


def test_overrides_are_typed_and_nested() -> None:
    params = {"lr": 0.1, "model": {"depth": 3}}
    out = apply_overrides(params, ["lr=0.5", "model.depth=6", "model.kind=xgb", "layers=[64, 32]",
                                   "flag=true", "name=2026-01-01", "raw=a: b: c"])  # fmt: skip
    assert out == {"lr": 0.5, "model": {"depth": 6, "kind": "xgb"}, "layers": [64, 32],
                   "flag": True, "name": "2026-01-01", "raw": "a: b: c"}  # fmt: skip
    assert params == {"lr": 0.1, "model": {"depth": 3}}  # unchanged
    with pytest.raises(UsageError):
        parse_override("novalue")


def test_seed_detection() -> None:
    assert seed_field({"lr": 1}) is None
    assert seed_field({"seed": 3}) == 3
    assert seed_field({"model": {"random_state": 1}, "data_seed": 2}) == {"model.random_state": 1, "data_seed": 2}
    assert seed_field({"seed": True}) is None


def test_environment_is_content_addressed() -> None:
    field, document = capture_env()
    again, _ = capture_env()
    assert field["id"] == again["id"] and len(field["id"]) == 16
    assert field["file"] == f"experiments/envs/{field['id']}.yaml"
    assert document["packages"]["pyyaml"]


def test_hardware_without_gpu() -> None:
    hw = capture_hardware()
    assert hw["cores"] and hw["memory_bytes"] and hw["gpus"] == []


def test_a_failing_provider_warns_and_returns_its_default() -> None:
    @catch_and_warn("the weather", {"sunny": False})
    def provider() -> dict[str, bool]:
        raise OSError("no sensor")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert provider() == {"sunny": False}
    assert caught[0].category is LedgerWarning
    assert "could not capture the weather: OSError: no sensor" in str(caught[0].message)


def test_package_list_from_folder_names_equals_the_metadata() -> None:
    from importlib import metadata

    from ledger.write.capture.environment import installed_packages

    parsed: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            parsed.setdefault(name.lower().replace("_", "-").replace(".", "-"), dist.version)
    assert installed_packages()[0] == dict(sorted(parsed.items()))
