"""Telling a dead process from a live one, with real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from ledger.core import processes


def test_a_zombie_is_gone_and_a_live_process_is_not() -> None:
    """A process that ended but was not reaped (its parent never waited: a killed
    sweep's or ledger's orphan, where the init process does not reap) runs nothing."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        owner = processes.owner(child.pid)
        assert not processes.owner_gone(owner) and not processes.zombie(child.pid)
        child.kill()
        give_up = time.monotonic() + 30
        while not processes.zombie(child.pid):  # not reaped: this process never waits for it
            assert time.monotonic() < give_up
            time.sleep(0.02)
        os.kill(child.pid, 0)  # the kernel still has it
        assert processes.gone(child.pid, None) and processes.owner_gone(owner)
    finally:
        child.kill()
        child.wait()
    assert processes.gone(child.pid, None)
    assert not processes.owner_gone(processes.owner())
