"""ledger ui"""

from __future__ import annotations

import argparse
import sys

from ledger.cli import output
from ledger.errors import UsageError

HELP = "a local, read-only web app over the runs (needs `pip install 'ledger-ml[ui]'`)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765; 0: any free one)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1, this machine only)")  # fmt: skip
    parser.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                        help="another Host name the app answers to (e.g. behind a tunnel)")  # fmt: skip
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--all", dest="all_branches", action="store_true",
                       help="every local and remote-tracking branch, plus the working tree")  # fmt: skip
    which.add_argument("--rev", metavar="REV", help="one revision (branch, tag, commit) or A..B")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")


def run(args: argparse.Namespace) -> int:
    from ledger.ui import server

    if not 0 <= args.port <= 65535:
        raise UsageError("--port must be between 0 and 65535")
    if args.rev is not None and (not args.rev.strip() or args.rev.startswith("-")):
        raise UsageError(f"bad --rev {args.rev!r}: give a branch, tag, commit or A..B")
    warning = server.exposure_warning(args.host)

    def ready(url: str) -> None:
        output.out(url)
        if warning:
            output.err(f"ledger: warning: {warning}")
        output.err("ledger: serving read-only; Ctrl-C stops")
        sys.stdout.flush()
        if not args.no_browser:
            import webbrowser

            webbrowser.open(url)

    server.serve(host=args.host, port=args.port, rev=args.rev, all_branches=args.all_branches,
                 allow_hosts=tuple(args.allow_host), on_ready=ready)  # fmt: skip
    return 0
