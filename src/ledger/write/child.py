"""The child process of `ledger run`: its own process group, its output seen live and kept.

- The child starts a session of its own, so a signal ledger forwards reaches its whole
  process group (`dvc repro` *and* the stage it is running), and a terminal's Ctrl-C, which
  reaches ledger only, is forwarded the same way.
- A ledger killed without a word (SIGKILL, out of memory) cannot forward anything, and a
  group of its own outlives it. So a watchdog (a tiny `/bin/sh`, in a session of its own,
  on any POSIX system) holds the read end of a pipe only ledger writes to: when ledger
  dies the pipe ends, and the watchdog sends SIGTERM to the child's whole group, then
  SIGKILL to what is left after WATCHDOG_GRACE_S. When the child ends normally, ledger
  tells the watchdog so and it exits. (Linux's PR_SET_PDEATHSIG would reach the child
  only, not its group, and needs code between fork and exec, which is unsafe in a process
  with threads.) The run itself is recorded `crashed` by the next write command.
- stdout and stderr pass through ledger to where ledger's own go, as they come. When one of
  them is a terminal, the child writes to a pseudo-terminal sized like it, so programs that
  colour their output on a terminal still do; otherwise it writes to a plain pipe.
- What passes is kept for the run's sidecar log (`output.log`): the first and the last part
  when it is long, with colour codes and progress-bar redraws removed. Redacting it is the
  caller's job. The last lines of stderr are kept apart: a failed command's error.

Relaying the child's bytes is the one place the library writes to ledger's stdout/stderr:
they are the child's output, not ledger's.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import select
import subprocess
import sys
import termios
import threading
from collections import deque
from collections.abc import Mapping

LOG_FILE = "output.log"
LOG_HEAD_BYTES = 64 * 1024
LOG_TAIL_BYTES = 192 * 1024  # the end says most; redacting costs ~1 s per MiB
ERROR_LINES = 20
_STDERR_KEEP = 64 * 1024
_DRAIN_S = 2.0  # after the child ends, how long a grandchild may keep its output open
WATCHDOG_GRACE_S = 30  # after SIGTERM, how long the group of a dead ledger's child has before SIGKILL
# $1: the child's process group. A line "done" on stdin: the child ended, nothing to do;
# the end of stdin without it: ledger died.
_WATCHDOG = """
read -r said
[ "$said" = done ] && exit 0
kill -s TERM -- "-$1" 2>/dev/null || exit 0
waited=0
while [ "$waited" -lt "$2" ]; do
  sleep 1
  kill -s 0 -- "-$1" 2>/dev/null || exit 0
  waited=$((waited + 1))
done
kill -s KILL -- "-$1" 2>/dev/null
exit 0
"""

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")


class Log:
    """The bytes of both streams as they arrived: the head, and a bounded tail."""

    def __init__(self, head: int = LOG_HEAD_BYTES, tail: int = LOG_TAIL_BYTES,
                 watch: re.Pattern[str] | None = None):  # fmt: skip
        self._lock = threading.Lock()
        self._watch = watch
        self._partial: dict[int, bytes] = {}
        self.watched: list[str] = []  # lines matching `watch`, from the whole output
        self._head = bytearray()
        self._tail: deque[bytes] = deque()
        self._tail_size = 0
        self._head_max, self._tail_max = head, tail
        self.total = 0

    def add(self, chunk: bytes, stream: int = 1) -> None:
        with self._lock:
            if self._watch is not None:
                lines = (self._partial.pop(stream, b"") + chunk).split(b"\n")
                self._partial[stream] = lines.pop()[-4096:]
                for line in lines:
                    text = _clean(line).strip()
                    if self._watch.search(text):
                        self.watched.append(text)
            self.total += len(chunk)
            room = self._head_max - len(self._head)
            if room > 0:
                self._head += chunk[:room]
                chunk = chunk[room:]
            if not chunk:
                return
            self._tail.append(chunk)
            self._tail_size += len(chunk)
            while self._tail_size - len(self._tail[0]) >= self._tail_max:
                self._tail_size -= len(self._tail.popleft())

    def text(self) -> str:
        """The log as text: colour codes and overwritten progress lines removed, the middle
        of a long log replaced by a line saying how much was left out."""
        with self._lock:
            tail = b"".join(self._tail)
            if len(tail) > self._tail_max:
                tail = tail[-self._tail_max :]
            omitted = self.total - len(self._head) - len(tail)
            head = bytes(self._head)
        parts = [_clean(head)]
        if omitted > 0:
            parts.append(f"\n[ledger: {omitted} bytes of output left out here]\n")
        if tail:
            parts.append(_clean(tail))
        return "".join(parts)


def _clean(data: bytes) -> str:
    text = _ANSI.sub("", data.decode("utf-8", "replace")).replace("\r\n", "\n")
    # A progress bar redraws its line with \r: keep what the line finally showed.
    return "\n".join(line.rsplit("\r", 1)[-1] if "\r" in line else line for line in text.split("\n"))


class _Relay(threading.Thread):
    """Copies one stream of the child to ledger's own and into the log."""

    def __init__(self, source: int, sink: int, log: Log, keep: deque[bytes] | None):
        super().__init__(name=f"ledger-relay-{sink}", daemon=True)
        self.source, self.sink, self.log, self.keep = source, sink, log, keep
        self.stop = threading.Event()
        self._sink_ok = True

    def run(self) -> None:
        poller = select.poll()  # not select(): any descriptor number works
        poller.register(self.source, select.POLLIN | select.POLLHUP | select.POLLERR)
        try:
            while True:
                if not poller.poll(0 if self.stop.is_set() else 200):
                    if self.stop.is_set():
                        return
                    continue
                try:
                    chunk = os.read(self.source, 1 << 20)
                except OSError:  # a pseudo-terminal reports its end as EIO
                    return
                if not chunk:
                    return
                self._write(chunk)
                self._keep(chunk)
        finally:
            with contextlib.suppress(OSError):
                os.close(self.source)

    def _keep(self, chunk: bytes) -> None:
        try:
            self.log.add(chunk, self.source)
            if self.keep is not None:
                self.keep.append(chunk)
                while len(self.keep) > 1 and sum(map(len, self.keep)) > _STDERR_KEEP:
                    self.keep.popleft()
        except Exception:  # noqa: BLE001 - keeping the log must never stall the child's output
            pass

    def _write(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        while self._sink_ok and view:
            try:
                view = view[os.write(self.sink, view) :]
            except BlockingIOError:
                poller = select.poll()
                poller.register(self.sink, select.POLLOUT)
                poller.poll(1000)
            except OSError:  # nobody reads ledger's output any more: still keep the log
                self._sink_ok = False


def _pty_for(fd: int) -> tuple[int, int]:
    """A pseudo-terminal (master, slave) that passes bytes unchanged, sized like `fd`."""
    master, slave = os.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.OPOST  # no \n -> \r\n: ledger's own terminal does that
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    with contextlib.suppress(OSError):
        size = fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(slave, termios.TIOCSWINSZ, size)
    return master, slave


class _Watchdog:
    """Stops the child's process group if ledger dies first (see the module's docstring)."""

    def __init__(self, process: subprocess.Popen[bytes], lifeline: int):
        self.process = process
        self.lifeline = lifeline  # the write end: only this process holds it

    @classmethod
    def start(cls, pgid: int) -> _Watchdog | None:
        """None when no watchdog can run here (no /bin/sh): the child is not watched."""
        read_end, write_end = os.pipe()  # neither end is inherited by anything else ledger starts
        try:
            process = subprocess.Popen(
                ["/bin/sh", "-c", _WATCHDOG, "ledger-watchdog", str(pgid), str(WATCHDOG_GRACE_S)],
                stdin=read_end, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        except OSError:
            os.close(write_end)
            return None
        finally:
            os.close(read_end)
        return cls(process, write_end)

    def stand_down(self) -> None:
        """The child ended: the watchdog exits without a signal (reaped by `reap`)."""
        if self.lifeline < 0:
            return
        with contextlib.suppress(OSError):
            os.write(self.lifeline, b"done\n")
        with contextlib.suppress(OSError):
            os.close(self.lifeline)
        self.lifeline = -1

    def reap(self) -> None:
        self.stand_down()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Child:
    """A started child; `wait()` for it, `signal()` its group, `finish()` for its output."""

    def __init__(self, argv: list[str], env: Mapping[str, str], cwd: str | None,
                 watch: re.Pattern[str] | None = None, stdout_to: int = 1):  # fmt: skip
        self.log = Log(watch=watch)
        for stream in (sys.stdout, sys.stderr):  # what ledger wrote so far comes first
            with contextlib.suppress(Exception):
                stream.flush()
        self._stderr: deque[bytes] = deque()
        ends: list[tuple[int, int]] = []  # (read end for ledger, write end for the child)
        sinks = (stdout_to, 2)  # stdout_to=2: ledger's own stdout is taken (a JSON result)
        for fd in sinks:
            try:
                ends.append(_pty_for(fd) if os.isatty(fd) else os.pipe())
            except OSError:
                ends.append(os.pipe())
        try:
            self.process = subprocess.Popen(
                argv, env=dict(env), cwd=cwd, stdout=ends[0][1], stderr=ends[1][1], start_new_session=True
            )
        except BaseException:
            for pair in ends:
                for fd in pair:
                    os.close(fd)
            raise
        for _, write_end in ends:
            os.close(write_end)
        self._watchdog = _Watchdog.start(self.process.pid)
        self._relays = [
            _Relay(ends[0][0], sinks[0], self.log, None),
            _Relay(ends[1][0], 2, self.log, self._stderr),
        ]
        for relay in self._relays:
            relay.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> int | None:
        return self.process.poll()

    def wait(self) -> int:
        returncode = self.process.wait()
        self.release()
        return returncode

    def release(self) -> None:
        """The child has ended: its watchdog can go."""
        if self._watchdog is not None:
            self._watchdog.stand_down()

    def signal(self, signum: int) -> None:
        """Send `signum` to the child's whole process group."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def finish(self) -> None:
        """Wait for the output to end (a grandchild that keeps it open gets `_DRAIN_S`)."""
        self.release()
        for relay in self._relays:
            relay.join(_DRAIN_S)
        for relay in self._relays:
            relay.stop.set()
        for relay in self._relays:
            relay.join()
        if self._watchdog is not None:
            self._watchdog.reap()  # it exited while the output drained
            self._watchdog = None

    def stderr_tail(self, lines: int = ERROR_LINES) -> str:
        """The last non-empty lines the child wrote to stderr, as text."""
        text = _clean(b"".join(self._stderr)) if self._stderr else ""
        kept = [line.rstrip() for line in text.splitlines() if line.strip()]
        return "\n".join(kept[-lines:])
