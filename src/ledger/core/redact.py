"""Keep secrets and local layout out of records.

Secrets: values under keys whose name has a word such as `token`, `password` or `secret`
(word-wise, so `max_tokens` stays a parameter), and anything that looks like a known
credential (AWS, GitHub, OpenAI/Anthropic-style, Slack, GitLab, Google keys, `user:pass@`
in URLs), are replaced by `<redacted>` before a record is written.

Paths: the repository root becomes relative, the home directory `<home>`, installed
packages `<site-packages>`, the interpreter's prefix `<python>` and temp dirs `<tmp>`.
"""

from __future__ import annotations

import os
import re
import site
import sys
import sysconfig
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REDACTED = "<redacted>"

_SECRET_WORDS = (
    "token|password|passwd|pwd|secret|apikey|api_key|api-key|credential|credentials|"
    "private_key|private-key|access_key|access-key|auth"
)
_SECRET_KEY = re.compile(rf"(?:^|[_\-.]|(?<=[a-z])(?=[A-Z]))(?:{_SECRET_WORDS})(?:$|[_\-.])", re.I)
_SECRET_VALUE = re.compile(
    r"AKIA[0-9A-Z]{16}"
    r"|(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|sk-[A-Za-z0-9_\-]{16,}"
    r"|xox[abprs]-[A-Za-z0-9\-]{10,}"
    r"|glpat-[A-Za-z0-9_\-]{16,}"
    r"|AIza[0-9A-Za-z_\-]{30,}"
    r"|hf_[A-Za-z0-9]{30,}"
)
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)[^/\s@]+@")


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def redact_text(text: str) -> str:
    """Replace every credential-looking part of one string."""
    text = _URL_USERINFO.sub(lambda m: m.group("scheme") + REDACTED + "@", text)
    return _SECRET_VALUE.sub(REDACTED, text)


def redact(value: Any, key: str | None = None) -> Any:
    """A copy of `value` with secrets redacted, recursively; keys are kept."""
    if key is not None and is_secret_key(key) and value not in (None, "", True, False):
        if not isinstance(value, (dict, list)):
            return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def strip_url_credentials(url: str) -> str:
    """A remote URL with any `user:password@` removed entirely (not even a placeholder)."""
    return _URL_USERINFO.sub(lambda m: m.group("scheme"), url)


def _prefixes(root: Path | None) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if root is not None:
        pairs.append((str(root), "."))
    packages: set[str] = set()
    for getter in (site.getsitepackages,):
        try:
            packages.update(getter())
        except AttributeError:  # virtualenv's old site module
            pass
    for name in ("purelib", "platlib"):
        packages.add(sysconfig.get_paths()[name])
    packages.add(site.getusersitepackages())
    pairs += [(p, "<site-packages>") for p in packages if p]
    pairs += [(sysconfig.get_paths()["stdlib"], "<stdlib>")]
    pairs += [(sys.prefix, "<python>"), (sys.base_prefix, "<python>")]
    pairs += [(tempfile.gettempdir(), "<tmp>"), (os.path.expanduser("~"), "<home>")]
    # Longest first, so /home/u/project/.venv/lib/... is <site-packages>, not <home>/...
    seen: dict[str, str] = {}
    for prefix, label in pairs:
        if prefix and prefix not in ("/", ".") and prefix not in seen:
            seen[os.path.normpath(prefix)] = label
    return sorted(seen.items(), key=lambda kv: -len(kv[0]))


def scrub_paths(text: str, root: Path | None) -> str:
    """Reduce absolute paths in free text to repo-relative paths or placeholders."""
    for prefix, label in _prefixes(root):
        if label == ".":
            text = re.sub(re.escape(prefix) + r"/?", "", text)
        else:
            text = text.replace(prefix, label)
    return text


def scrub_all(items: Iterable[str], root: Path | None) -> list[str]:
    return [scrub_paths(redact_text(item), root) for item in items]
