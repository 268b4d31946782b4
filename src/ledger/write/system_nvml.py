"""GPU samples through NVML (`nvidia-ml-py`, imported as `pynvml`): the one module that
imports it, and only when a run samples its system.

No library, no driver, no GPU: `open_gpus` returns None and the run simply has no GPU
columns; NVML failing later drops the GPU columns of that sample. Never an error.

The seam for tests and for other GPU libraries: `open_gpus(library)` takes any object with
pynvml's functions (`nvmlInit`, `nvmlDeviceGetCount`, `nvmlDeviceGetHandleByIndex`,
`nvmlDeviceGetUtilizationRates`, `nvmlDeviceGetMemoryInfo`, `nvmlDeviceGetPowerUsage`,
`nvmlDeviceGetTemperature`, `NVML_TEMPERATURE_GPU`, `nvmlShutdown`), so a fake library
exercises every line here without a GPU.
"""

from __future__ import annotations

from typing import Any


class Gpus:
    """The machine's GPUs, open in NVML until `close`."""

    def __init__(self, library: Any, handles: list[Any]):
        self.library = library
        self.handles = handles

    def sample(self) -> dict[str, float]:
        """`system/gpu<i>/...`: utilisation %, memory used (bytes), power (W), temperature (°C)."""
        nv = self.library
        values: dict[str, float] = {}
        for index, handle in enumerate(self.handles):
            prefix = f"system/gpu{index}/"
            readers = (
                ("utilization_percent", lambda h: nv.nvmlDeviceGetUtilizationRates(h).gpu),
                ("memory_used_bytes", lambda h: nv.nvmlDeviceGetMemoryInfo(h).used),
                ("power_watts", lambda h: nv.nvmlDeviceGetPowerUsage(h) / 1000.0),  # milliwatts
                ("temperature_c", lambda h: nv.nvmlDeviceGetTemperature(h, nv.NVML_TEMPERATURE_GPU)),
            )
            for name, read in readers:
                try:
                    values[prefix + name] = float(read(handle))
                except Exception:  # noqa: BLE001 - one unsupported query (e.g. power) drops one column
                    continue
        return values

    def close(self) -> None:
        try:
            self.library.nvmlShutdown()
        except Exception:  # noqa: BLE001 - nothing to do about a failing shutdown
            pass


def _import_pynvml() -> Any:
    import pynvml  # nvidia-ml-py

    return pynvml


def open_gpus(library: Any = None) -> Gpus | None:
    """The GPUs NVML sees, or None (no library, no driver, no GPU)."""
    try:
        nv = library if library is not None else _import_pynvml()
        nv.nvmlInit()
    except Exception:  # noqa: BLE001 - ImportError, NVMLError_LibraryNotFound, driver errors
        return None
    try:
        handles = [nv.nvmlDeviceGetHandleByIndex(i) for i in range(int(nv.nvmlDeviceGetCount()))]
    except Exception:  # noqa: BLE001
        handles = []
    gpus = Gpus(nv, handles)
    if not handles:
        gpus.close()
        return None
    return gpus
