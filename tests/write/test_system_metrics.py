"""System metrics sampled during a run: psutil or /proc, GPUs through NVML (a fake library
here: no GPU on this machine), the sidecar series, the record's summary, plots."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ledger.core import config, yamlio
from ledger.errors import ConfigError
from ledger.write import system_nvml, system_probe
from ledger.write.system import Sampler, interval_from, merge_rank_files, summarise
from support.repo import git, ledger_cli, records


class FakeNvml:
    """pynvml's surface, for two GPUs whose readings the test chooses."""

    NVML_TEMPERATURE_GPU = 0

    def __init__(self, readings: list[list[tuple[int, int, int, int]]], power: bool = True):
        self.readings = readings  # per sample, per GPU: (utilisation %, memory bytes, milliwatts, °C)
        self.calls = 0
        self.power = power
        self.shut = False

    def nvmlInit(self) -> None:  # noqa: N802 - pynvml's names
        pass

    def nvmlShutdown(self) -> None:  # noqa: N802
        self.shut = True

    def nvmlDeviceGetCount(self) -> int:  # noqa: N802
        return len(self.readings[0])

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:  # noqa: N802
        return index

    def _now(self, handle: int) -> tuple[int, int, int, int]:
        return self.readings[min(self.calls, len(self.readings) - 1)][handle]

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> Any:  # noqa: N802
        return SimpleNamespace(gpu=self._now(handle)[0], memory=0)

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> Any:  # noqa: N802
        return SimpleNamespace(used=self._now(handle)[1], total=80 << 30, free=0)

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:  # noqa: N802
        if not self.power:
            raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")
        return self._now(handle)[2]

    def nvmlDeviceGetTemperature(self, handle: int, sensor: int) -> int:  # noqa: N802
        value = self._now(handle)[3]
        if handle == len(self.readings[0]) - 1:
            self.calls += 1  # the last query of a sample moves to the next reading
        return value


def test_gpu_columns_from_nvml_and_their_summary(tmp_path: Path) -> None:
    fake = FakeNvml([[(10, 1 << 30, 100_000, 50), (0, 0, 50_000, 40)],
                     [(90, 3 << 30, 300_000, 70), (20, 1 << 30, 60_000, 45)]])  # fmt: skip
    sampler = Sampler(tmp_path / "system.tsv", time.time(), 60, gpu_library=fake)
    sampler.open()
    assert sampler.gpus == 2 and sampler.source == "psutil"
    assert sampler.sample_once() and sampler.sample_once()
    sampler.stop(final=False)
    assert fake.shut
    summary = summarise(tmp_path / "system.tsv")
    assert summary["system/gpu0/utilization_percent"] == {"mean": 50.0, "max": 90.0, "last": 90.0}
    assert summary["system/gpu0/memory_used_bytes"]["max"] == 3 << 30  # peak GPU memory
    assert summary["system/gpu0/power_watts"]["mean"] == 200.0
    assert summary["system/gpu1/temperature_c"]["last"] == 45.0
    assert "system/cpu_percent" in summary and "system/process_rss_bytes" in summary
    rows = (tmp_path / "system.tsv").read_text().splitlines()
    assert rows[0] == "step\tmetric\tvalue\ttime" and {r.split("\t")[0] for r in rows[1:]} == {"0", "1"}


def test_no_gpu_library_or_a_failing_query_is_never_an_error(tmp_path: Path) -> None:
    class Broken:
        def nvmlInit(self) -> None:  # noqa: N802
            raise OSError("NVML Shared Library Not Found")

    assert system_nvml.open_gpus(Broken()) is None
    no_gpus = FakeNvml([[]])
    assert system_nvml.open_gpus(no_gpus) is None and no_gpus.shut
    gpus = system_nvml.open_gpus(FakeNvml([[(5, 10, 1, 30)]], power=False))
    assert gpus is not None
    assert sorted(gpus.sample()) == ["system/gpu0/memory_used_bytes", "system/gpu0/temperature_c",
                                     "system/gpu0/utilization_percent"]  # power dropped, the rest kept  # fmt: skip
    # This machine's own NVML: no GPU here, so no GPU columns (and no error).
    assert system_nvml.open_gpus() is None


def test_proc_fallback_without_psutil(tmp_path: Path) -> None:
    probe = system_probe.open_probe(use_psutil=False)
    assert isinstance(probe, system_probe.ProcProbe)
    sum(range(2_000_000))
    values = probe.sample()
    assert 0.0 <= values["system/cpu_percent"] <= 100.0
    assert values["system/memory_used_bytes"] > 0 and "system/disk_read_bytes_per_s" in values
    missing = system_probe.ProcProbe.__new__(system_probe.ProcProbe)
    with pytest.raises(OSError):  # open_probe turns this into "nothing to sample"
        missing.__init__(tmp_path / "no-proc")


def test_interval_from_config_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.parse({}).system_interval == 10.0
    assert config.parse({"system_interval": 0}).system_interval == 0.0
    for bad in ("fast", -1, True):
        with pytest.raises(ConfigError, match="system_interval"):
            config.parse({"system_interval": bad})
    monkeypatch.delenv("LEDGER_SYSTEM_INTERVAL", raising=False)
    assert interval_from(30.0) == 30.0
    monkeypatch.setenv("LEDGER_SYSTEM_INTERVAL", "0.5")
    assert interval_from(30.0) == 0.5
    monkeypatch.setenv("LEDGER_SYSTEM_INTERVAL", "soon")
    assert interval_from(30.0) == 30.0


def test_other_nodes_files_are_merged(tmp_path: Path) -> None:
    (tmp_path / "system.tsv").write_text("step\tmetric\tvalue\ttime\n0\tsystem/cpu_percent\t10.0\t1.0\n")
    (tmp_path / "system-rank4.tsv").write_text("0\tsystem/rank4/cpu_percent\t30.0\t1.1\n1\tsystem/rank4/cpu")
    merge_rank_files(tmp_path)
    assert not (tmp_path / "system-rank4.tsv").exists()
    assert summarise(tmp_path / "system.tsv") == {
        "system/cpu_percent": {"mean": 10.0, "max": 10.0, "last": 10.0},
        "system/rank4/cpu_percent": {"mean": 30.0, "max": 30.0, "last": 30.0},  # the torn last line is left out
    }


BUSY = "import time\nt = time.time()\nwhile time.time() - t < 1.2:\n    pass\n"


def test_ledger_run_samples_its_command_and_plots_it(repo: Path, tmp_path: Path) -> None:
    (repo / "busy.py").write_text(BUSY)
    git(repo, "add", "busy.py")
    git(repo, "commit", "-qm", "busy")
    result = ledger_cli(repo, "run", "--", sys.executable, "busy.py", env={"LEDGER_SYSTEM_INTERVAL": "0.25"})
    assert result.returncode == 0, result.stderr
    rec = yamlio.load_file(records(repo)[0])
    system = rec["system"]
    assert system["source"] == "psutil" and system["gpus"] == 0 and system["samples"] >= 3
    assert system["path"].endswith("/system.tsv")
    # The busy child (not ledger's own process) is what the process columns measure.
    assert system["metrics"]["system/process_cpu_percent"]["max"] > 10  # ledger itself only waits
    assert system["metrics"]["system/process_rss_bytes"]["max"] > 5_000_000
    assert not any(name.startswith("system/gpu") for name in system["metrics"])
    assert "system/cpu_percent" not in rec["metrics"]  # samples never pose as the run's metrics
    committed = git(repo, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert system["path"] in committed and git(repo, "status", "--porcelain") == ""
    out = tmp_path / "system.png"
    plotted = ledger_cli(repo, "plot", "curves", rec["id"], "-m", "system/process_cpu_percent", "-o", str(out))
    assert plotted.returncode == 0, plotted.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_psutil_the_run_falls_back_to_proc(repo: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "no_psutil"
    blocker.mkdir()
    (blocker / "psutil.py").write_text("raise ImportError('psutil is not installed')\n")
    (repo / "busy.py").write_text(BUSY)
    pythonpath = f"{blocker}:{':'.join(p for p in sys.path if p)}"
    result = ledger_cli(repo, "run", "--", sys.executable, "busy.py",
                        env={"LEDGER_SYSTEM_INTERVAL": "0.3", "PYTHONPATH": pythonpath})  # fmt: skip
    assert result.returncode == 0, result.stderr
    rec = yamlio.load_file(records(repo)[0])
    assert rec["system"]["source"] == "proc"
    assert "system/cpu_percent" in rec["system"]["metrics"]
    assert "system/process_cpu_percent" not in rec["system"]["metrics"]


def test_sampling_off_and_short_runs_add_nothing(repo: Path) -> None:
    (repo / "ledger.yaml").write_text("experiment: tests\nsystem_interval: 0\n")
    git(repo, "commit", "-qam", "off")
    assert ledger_cli(repo, "run", "--", "sleep", "0.5", env={"LEDGER_SYSTEM_INTERVAL": ""}).returncode == 0
    (repo / "ledger.yaml").write_text("experiment: tests\n")
    git(repo, "commit", "-qam", "default")
    assert ledger_cli(repo, "run", "--", "true").returncode == 0  # the default 10 s: too short to sample
    assert len(records(repo)) == 2
    for path in records(repo):
        rec = yamlio.load_file(path)
        assert "system" not in rec
        assert not (path.with_suffix("") / "system.tsv").exists()
