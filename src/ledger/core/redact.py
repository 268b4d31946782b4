"""Keep secrets and local layout out of records.

Secrets are found two ways, and replaced by `<redacted>` before anything is written:

- by shape: credentials whose form gives them away (AWS `AKIA`/`ASIA` ids, GitHub, GitLab,
  OpenAI, Anthropic, Hugging Face, Stripe, SendGrid, npm, PyPI, Slack tokens and webhooks,
  Google OAuth and API keys, JWTs, PEM private keys, `Basic`/`Bearer` credentials, Azure
  SAS signatures, `user:password@` in URLs, ...; see `_SHAPES`), plus the project's own
  `secrets:` patterns from ledger.yaml;
- by name: a value under a key such as `password`, `api_key`, `dsn`, `passphrase`,
  `connection_string` or `secretAccessKey`, whether the key is a mapping key (params,
  tags, environment variables) or written in text (`--api-key X`, `TOKEN=x`, `"pw": "x"`,
  a URL's `?sig=`). Keys are matched word by word (`snake_case`, `kebab-case`, `dotted`,
  `camelCase`), so `max_tokens`, `token_count`, `pad_token`, `keyframe` and `sort_key`
  stay parameters.

Paths: the repository root becomes relative, the home directory `<home>`, installed
packages `<site-packages>`, the interpreter's prefix `<python>` and temp dirs `<tmp>`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import re
import site
import sys
import sysconfig
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

REDACTED = "<redacted>"

# ---------------------------------------------------------------------------- key names

# A key holding one of these words anywhere is secret (unless it only describes one:
# `password_min_length`, `secret_name`).
_STRONG_WORDS = frozenset(
    "password passwd passphrase secret secrets credential credentials creds apikey cookie "
    "cookies dsn authorization bearer privatekey secretkey accesskey sas".split()
)
# These words make a key secret when they end it (`api_token`, `smtp_pass`), except after
# words that make them ordinary parameters (`pad_token`, `sort_key`, `forward_pass`).
_LAST_WORDS = frozenset("token key pass pw pwd auth pat jwt".split())
_ORDINARY_BEFORE = {
    "token": frozenset(
        "pad eos bos unk cls sep mask start end special stop begin image img vision audio "
        "video boi eoi eot sos blank sentinel placeholder default new max min num n total "
        "extra additional decoder encoder bot eom think".split()
    ),
    "key": frozenset(
        "sort primary foreign partition cache group dict join lookup metric target label "
        "index map row column col feature input output random rng prng shard seed hash "
        "value query monitor dataset data image text split id name model layer state "
        "config batch sample result score hot attention attn kv".split()
    ),
    "pass": frozenset("forward backward first second third n num multi single max min one two".split()),
}
# Keys that only describe a secret: what its value says is not the secret itself.
_DESCRIPTIVE_LAST = frozenset(
    "count length len size num min max enabled required type file path dir name names".split()
)
# Word sequences that end a secret key although no single word says so.
_SECRET_SUFFIXES = frozenset(
    tuple(s.split())
    for s in (
        "database url", "database uri", "db url", "db uri", "connection string",
        "connection str", "conn str", "conn string", "webhook", "webhook url", "access key id",
        "private key id", "client secret", "broker url", "redis url", "mongo uri",
        "mongodb uri", "amqp url", "signing key", "hook url", "session id",
    )
)  # fmt: skip
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def key_words(key: str) -> list[str]:
    """The words of a key, lower-cased: `secretAccessKey` -> secret, access, key."""
    return [w.lower() for w in _WORD.findall(key)]


def secret_key_kind(key: str) -> str | None:
    """'strong' (any value is secret), 'weak' (text values are secret, numbers are not:
    `key: 3`) or None (an ordinary key)."""
    words = [w for w in key_words(key) if not w.isdigit()]
    if not words:
        return None
    last = words[-1]
    for size in (1, 2, 3):
        if len(words) >= size and tuple(words[-size:]) in _SECRET_SUFFIXES:
            return "strong"
    if last not in _DESCRIPTIVE_LAST and any(w in _STRONG_WORDS for w in words):
        return "strong"
    if last in _LAST_WORDS:
        before = words[-2] if len(words) > 1 else None
        if before is None or before not in _ORDINARY_BEFORE.get(last, frozenset()):
            return "weak"
    return None


def is_secret_key(key: str) -> bool:
    return secret_key_kind(key) is not None


# ---------------------------------------------------------------------------- shapes

_SHAPES = (
    # PEM private keys (RSA, EC, OpenSSH, PGP, ...), the whole block; an unterminated one
    # to the end of the text.
    r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
    r"(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|\Z)",
    r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # JWT / JWS
    r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[0-9A-Z]{16}\b",
    r"\bgh[pousr]_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{30,}",
    r"\bgl(?:pat|dt|rt|ptt|cbt|imt|oas|ft|soat|ffct)-[A-Za-z0-9_-]{16,}",
    r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}",
    r"\bsk-ant-[a-z]{2,8}\d\d-[A-Za-z0-9_-]{20,}",
    r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}|\bwhsec_[A-Za-z0-9+/=]{20,}",
    r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}",
    r"\bnpm_[A-Za-z0-9]{30,}|\bpypi-[A-Za-z0-9_-]{40,}",
    r"\bxox[abposre]-[A-Za-z0-9-]{10,}|\bxapp-\d-[A-Za-z0-9-]{10,}",
    r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]+",
    r"discord(?:app)?\.com/api/webhooks/[0-9]+/[A-Za-z0-9_-]+",
    r"\.webhook\.office\.com/[A-Za-z0-9/@_-]{20,}",
    r"\bAIza[0-9A-Za-z_-]{30,}|\bGOCSPX-[A-Za-z0-9_-]{20,}|\bya29\.[A-Za-z0-9_-]{20,}",
    r"(?<![A-Za-z0-9/])1//0[A-Za-z0-9_-]{30,}",  # Google OAuth refresh token
    r"\bhf_[A-Za-z0-9]{30,}|\bapi_org_[A-Za-z0-9]{30,}",
    r"\bdo[por]_v1_[a-f0-9]{64}",
    r"\bSK[0-9a-f]{32}\b|\bkey-[0-9a-zA-Z]{32}\b|\b[0-9a-f]{32}-us[0-9]{1,2}\b",
    r"\bdapi[0-9a-f]{32}|\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",
    r"\bhvs\.[A-Za-z0-9_-]{24,}|\b[a-z0-9]{14}\.atlasv1\.[A-Za-z0-9_-]{60,}",
    r"\br8_[A-Za-z0-9]{30,}|\bgsk_[A-Za-z0-9]{40,}|\blin_api_[A-Za-z0-9]{30,}",
    r"\bntn_[A-Za-z0-9]{40,}|\bsecret_[A-Za-z0-9]{43}\b",
    r"\b[0-9]{8,10}:AA[A-Za-z0-9_-]{30,}",  # Telegram bot token
    r"\bAGE-SECRET-KEY-1[0-9A-Z]{50,}|\bATATT3[A-Za-z0-9_=-]{50,}",
    r"\bsq0(?:atp|csp)-[A-Za-z0-9_-]{20,}|\bdp\.(?:pt|st|sa|ct)\.[A-Za-z0-9]{40,}",
    r"\bpscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.-]{30,}|\bglsa_[A-Za-z0-9_]{32,}",
    r"\bsntry[su]_[A-Za-z0-9+/=_-]{40,}",
    # Signed URLs: Azure SAS, S3 and GCS presigned.
    r"(?<=[?&;])(?i:sig|signature|x-amz-signature|x-amz-security-token|x-amz-credential|"
    r"x-goog-signature|x-goog-credential)=[^&\s#\"'<>]+",
)
_SHAPE = re.compile("|".join(f"(?:{p})" for p in _SHAPES))

# Shapes that need a second look, each with its check.
# One unbroken run of 20+ characters: not `sk-resnet50-imagenet` (a model name).
_OPENAI_LEGACY = re.compile(r"\bsk-[A-Za-z0-9]{20,}\b")
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_BASIC = re.compile(r"\b([Bb]asic)([ \t]+)([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])")
_BEARER = re.compile(r"\b([Bb]earer|[Tt]oken)([ \t]+)([A-Za-z0-9._~+/-]{12,}=*)")
_AUTH_HEADER = re.compile(
    r"(?i)\b((?:proxy-)?authorization[\"']?[ \t]*[:=][ \t]*[\"']?)"
    r"((?:bearer|basic|token|digest|negotiate|apikey|sso-key)[ \t]+)?[^\s\"',;]+"
)
# `user:password@` and long token-as-user parts of URLs (not `ssh://git@`).
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<info>[^/\s@]+)@")
# `key = value`, `key: value`, `"key": "value"`, `--key=value`, `?key=value` in text.
# The value is looked at, not consumed, so a named secret inside another value
# (`"conn": "...;SharedAccessKey=x"`) is found too.
_ASSIGN = re.compile(
    r"(?P<key>[A-Za-z_][A-Za-z0-9_.\-]{0,79})(?P<mid>[\"']?[ \t]*[:=][ \t]*)"
    r"(?=(?P<val>\"[^\"\n]*\"|'[^'\n]*'|[^\s\"',;&)\]}>]+))"
)
_PLACEHOLDER_VALUES = frozenset("none null nil true false yes no undefined *** bearer basic token digest".split())


def _mixed(text: str) -> bool:
    return any(c.isupper() for c in text) and any(c.islower() for c in text) and any(c.isdigit() for c in text)


def _aws_secret(m: re.Match[str]) -> str:
    text = m.group(0)
    digits = sum(c.isdigit() for c in text)
    return REDACTED if _mixed(text) and digits >= 2 and text.count("/") <= 3 else text


def _basic(m: re.Match[str]) -> str:
    try:
        decoded = base64.b64decode(m.group(3) + "=" * (-len(m.group(3)) % 4), validate=True)
    except (binascii.Error, ValueError):
        return m.group(0)
    if b":" in decoded and decoded.isascii():
        return m.group(1) + m.group(2) + REDACTED
    return m.group(0)


def _bearer(m: re.Match[str]) -> str:
    token = m.group(3)
    if any(c.isdigit() for c in token) and token != REDACTED:
        return m.group(1) + m.group(2) + REDACTED
    return m.group(0)


def _userinfo(m: re.Match[str]) -> str:
    info = m.group("info")
    if ":" in info or len(info) >= 16:
        return m.group("scheme") + REDACTED + "@"
    return m.group(0)


def _secret_value(value: str, kind: str) -> bool:
    bare = value.strip("\"'")
    if not bare or bare.lower() in _PLACEHOLDER_VALUES or bare.startswith(("<redacted", "$", "{", "%(")):
        return False
    if kind == "weak":
        try:
            float(bare)
        except ValueError:
            return True
        return False
    return True


class Redactor:
    """Redaction with the built-in shapes plus a project's own `secrets:` patterns."""

    def __init__(self, extra_patterns: Sequence[str] = ()) -> None:
        self._extra = re.compile("|".join(f"(?:{p})" for p in extra_patterns)) if extra_patterns else None

    # -- text

    def text(self, text: str, *, quoted_only: bool = False) -> str:
        """Replace every credential-looking part of one string. `quoted_only` redacts a
        named value only when it is a string literal (for source code, where
        `token = tokenizer(x)` is code, not a secret)."""
        if not text:
            return text
        if self._extra is not None:
            text = self._extra.sub(REDACTED, text)
        text = _URL_USERINFO.sub(_userinfo, text)
        text = _SHAPE.sub(REDACTED, text)
        text = _OPENAI_LEGACY.sub(REDACTED, text)
        text = _AUTH_HEADER.sub(lambda m: m.group(1) + (m.group(2) or "") + REDACTED, text)
        text = _BASIC.sub(_basic, text)
        text = _BEARER.sub(_bearer, text)
        text = _AWS_SECRET.sub(_aws_secret, text)
        return _named_values(text, quoted_only)

    def argv(self, argv: Iterable[str]) -> list[str]:
        """A command line with secrets redacted, including `--password VALUE` pairs."""
        out: list[str] = []
        hide_next = False
        for arg in argv:
            if hide_next and not arg.startswith("-"):
                out.append(REDACTED)
                hide_next = False
                continue
            hide_next = False
            out.append(self.text(arg))
            flag = arg.lstrip("-")
            if arg.startswith("-") and "=" not in arg and flag and is_secret_key(flag):
                hide_next = True
        return out

    # -- values

    def key(self, key: str) -> str:
        return self.text(key)

    def value(self, value: Any, key: str | None = None, *, under_secret: str | None = None) -> Any:
        """A copy of `value` with secrets redacted, recursively."""
        kind = under_secret or (secret_key_kind(key) if key is not None else None)
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            for k, v in value.items():
                new_key = self.key(k) if isinstance(k, str) else k
                while new_key in out:  # two keys redacted to the same text
                    new_key = f"{new_key}_"
                out[new_key] = self.value(v, str(k), under_secret=kind)
            return out
        if isinstance(value, list):
            return [self.value(v, under_secret=kind) for v in value]
        if kind is not None and value not in (None, "", True, False) and not isinstance(value, bool):
            if isinstance(value, str):
                if _secret_value(value, kind):
                    return REDACTED
            elif kind == "strong" and isinstance(value, (int, float)):
                return REDACTED
        if isinstance(value, str):
            return self.text(value)
        return value


def _literal_like(value: str) -> bool:
    """In source code, an unquoted value that reads as data, not as an expression:
    `SharedAccessKey=x7Yq...` inside a string, not `token=tokenizer(x)`."""
    return len(value) >= 8 and any(c.isdigit() for c in value) and not any(c in value for c in "([")


def _named_values(text: str, quoted_only: bool) -> str:
    """`text` with the value of every `secret_name = value` replaced."""
    pieces: list[str] = []
    done = 0
    for m in _ASSIGN.finditer(text):
        start, val = m.end(), m.group("val")
        if start < done:
            continue  # inside a value already redacted
        kind = secret_key_kind(m.group("key"))
        if kind is None or not _secret_value(val, kind):
            continue
        if quoted_only and val[:1] not in "\"'" and not _literal_like(val):
            continue
        quote = val[0] if val[:1] in "\"'" and len(val) > 1 and val[-1] == val[0] else ""
        pieces += [text[done:start], f"{quote}{REDACTED}{quote}"]
        done = start + len(val)
    return "".join(pieces) + text[done:] if pieces else text


@functools.lru_cache(maxsize=16)
def redactor(extra_patterns: tuple[str, ...] = ()) -> Redactor:
    """The redactor for a project's `secrets:` patterns (compiled once)."""
    return Redactor(extra_patterns)


def redact_text(text: str) -> str:
    """Replace every credential-looking part of one string (built-in shapes only)."""
    return redactor().text(text)


def redact(value: Any, key: str | None = None) -> Any:
    """A copy of `value` with secrets redacted, recursively (built-in shapes only)."""
    return redactor().value(value, key)


def strip_url_credentials(url: str, extra_patterns: Sequence[str] = ()) -> str:
    """A remote URL with any `user:password@` removed entirely (not even a placeholder),
    and any other credential in it redacted."""
    url = re.sub(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)[^/\s@]+@", r"\g<scheme>", url)
    return redactor(tuple(extra_patterns)).text(url)


# ---------------------------------------------------------------------------- paths


def portable_remote(url: str, root: Path | None) -> str:
    """A git remote as a record keeps it: a local path (absolute, or a `file://` URL) loses
    its machine's layout (`<home>/git/project.git`, `<tmp>/...`, else `<local>/NAME`);
    network URLs, scp-like `host:path` and relative paths stay as they are."""
    path = url[len("file://") :] if url.startswith("file://") else url
    if not os.path.isabs(path):
        return url
    scrubbed = scrub_paths(os.path.normpath(path), root)
    if os.path.isabs(scrubbed):
        scrubbed = f"<local>/{os.path.basename(os.path.normpath(path))}"
    return scrubbed or "."


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
        # Only a whole path: `/root/x` is a path, while `mysql://root:pw@` and `/rooted` are not.
        whole = _PATH_START + re.escape(prefix) + _PATH_END
        if label == ".":
            text = re.sub(whole + r"/?", "", text)
        else:
            text = re.sub(whole, label.replace("\\", "\\\\"), text)
    return text


_PATH_START = r"(?<![\w./-])"
_PATH_END = r"(?![\w.-])"


def scrub_all(items: Iterable[str], root: Path | None, extra_patterns: Sequence[str] = ()) -> list[str]:
    """A command line (or overrides) with secrets redacted and paths scrubbed."""
    return [scrub_paths(item, root) for item in redactor(tuple(extra_patterns)).argv(items)]


# ---------------------------------------------------------------------------- files

# Source code: a named secret counts only as a string literal (`token = tokenizer(x)` is
# code). Everything else (YAML, JSON, TOML, INI, .env, ...) is configuration.
_CODE_SUFFIXES = frozenset(
    ".py .pyx .pxd .pyi .ipynb .r .jl .sh .bash .zsh .sql .scala .java .kt .c .cc .cpp .h "
    ".hpp .cu .rs .go .js .ts .jsx .tsx .rb .php .swift .m .lua .pl .proto .jsonnet".split()
)
MAX_SCANNED_BYTES = 8 * 1024 * 1024


def redact_file(path: str, data: bytes, extra_patterns: Sequence[str] = ()) -> bytes:
    """A file's content with its secrets redacted (the same bytes when it has none, is
    binary, or is too large to scan)."""
    if len(data) > MAX_SCANNED_BYTES or b"\0" in data[:8192]:
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    quoted_only = os.path.splitext(path)[1].lower() in _CODE_SUFFIXES
    redacted = redactor(tuple(extra_patterns)).text(text, quoted_only=quoted_only)
    return data if redacted == text else redacted.encode("utf-8")
