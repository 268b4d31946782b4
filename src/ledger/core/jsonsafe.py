"""Values made safe for JSON: the CLI's `--format json` and the UI's answers alike."""

from __future__ import annotations

import math
from typing import Any


def plain(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
