"""Who ran it: git identity, OS user and host."""

from __future__ import annotations

import getpass
import socket
from pathlib import Path
from typing import Any

from ledger import gitstore


def capture_author(root: Path) -> dict[str, Any]:
    name, email = gitstore.user_identity(root)
    try:
        user: str | None = getpass.getuser()
    except (KeyError, OSError):
        user = None
    return {"name": name, "email": email, "user": user, "host": socket.gethostname()}
