"""`ledger ci github`: the GitHub Actions workflow that reviews experiments in pull requests.

What it does on each push to a pull request: `ledger check --rev` on the records the branch
adds, then `ledger diff` as markdown, posted as ONE comment that is found again by a hidden
marker and updated in place, through GitHub's own API (actions/github-script and the job's
token): nothing is uploaded anywhere else.

Why it is shaped like this: it triggers on `pull_request` (never `pull_request_target`,
which would run with write access on a fork's code), asks only for the permissions it uses,
does not keep the token in the checkout, passes refs through the environment rather than
into the script text, and installs ledger from the package index, never from the branch.
A fork's pull request gets a read-only token, so the comment step may not post there: the
review always goes to the job summary too.
"""

from __future__ import annotations

from pathlib import Path

from ledger import __version__
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError
from ledger.views.review.markdown import MARKER

WORKFLOW_PATH = ".github/workflows/ledger.yml"

_COMMENT_SCRIPT = """\
const fs = require('fs');
const marker = '{marker}';
let body = fs.readFileSync('ledger-diff.md', 'utf8');
if (!body.startsWith(marker)) body = marker + '\\n' + body;
if (body.length > 60000) body = body.slice(0, 60000) + '\\n\\n(truncated: see the job summary)';
const {{owner, repo}} = context.repo;
const issue_number = context.issue.number;
const comments = await github.paginate(github.rest.issues.listComments,
  {{owner, repo, issue_number, per_page: 100}});
const mine = comments.find(c => c.user && c.user.type === 'Bot' && c.body && c.body.startsWith(marker));
if (mine) {{
  await github.rest.issues.updateComment({{owner, repo, comment_id: mine.id, body}});
}} else {{
  await github.rest.issues.createComment({{owner, repo, issue_number, body}});
}}
"""


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


def render(*, fail_on_regression: bool = False, python: str = "3.11", package: str | None = None) -> str:
    """The workflow file's text."""
    package = package or f"ledger-ml=={__version__}"
    gate = ""
    if fail_on_regression:
        gate = """
      - name: Fail on a regression of the primary metric
        run: ledger diff "origin/$BASE_REF" --fail-on-regression --format json > /dev/null
"""
    return f"""\
# Written by `ledger ci github`. Reviews the experiments of each pull request:
# validates the records it adds and posts `ledger diff` as one comment, updated in place.
name: ledger

on:
  pull_request:

permissions:
  contents: read
  pull-requests: write

concurrency:
  group: ledger-${{{{ github.event.pull_request.number }}}}
  cancel-in-progress: true

jobs:
  review:
    runs-on: ubuntu-latest
    timeout-minutes: 15
    env:
      BASE_REF: ${{{{ github.base_ref }}}}
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
          persist-credentials: false
      - uses: actions/setup-python@v5
        with:
          python-version: "{python}"
      - name: Install ledger
        run: python -m pip install "{package}"
      - name: Check the records this pull request adds
        id: check
        continue-on-error: true
        run: ledger check --rev "origin/$BASE_REF..HEAD"
      - name: Review the experiments
        run: |
          ledger diff "origin/$BASE_REF" --format markdown > ledger-diff.md
          cat ledger-diff.md >> "$GITHUB_STEP_SUMMARY"
      - name: Post the review as one pull-request comment
        uses: actions/github-script@v7
        continue-on-error: true
        with:
          script: |
{_indent(_COMMENT_SCRIPT.format(marker=MARKER), 12).rstrip()}
      - name: Fail when a record is invalid or unsafe
        if: steps.check.outcome == 'failure'
        run: ledger check --rev "origin/$BASE_REF..HEAD"
{gate}"""


def write(ws: Workspace, *, force: bool = False, fail_on_regression: bool = False, python: str = "3.11") -> Path:
    """Write the workflow into the repository; never overwrite one without `force`."""
    path = ws.path(WORKFLOW_PATH)
    if path.exists() and not force:
        raise LedgerError(f"{WORKFLOW_PATH} exists: rerun with --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(fail_on_regression=fail_on_regression, python=python), encoding="utf-8")
    return path
