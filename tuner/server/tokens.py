"""Bearer tokens of `tuner server`: who may do what in which namespaces.

A token is a random string handed to its user once (`tuner server token create`); the server keeps only its
SHA-256 hex digest, so a leaked token file gives away no token. The file (`--auth-file`) or the variable
TUNER_SERVER_TOKENS holds a YAML (or JSON) document:

```yaml
tokens:
  - name: alice               # shown in the server's log and in error messages, never the token
    sha256: 9f86d08...        # `tuner server hash-token` prints it
    namespaces: [team-a]      # or "*" for every namespace; `namespace: team-a` for one
    role: editor              # viewer (read), editor (read and write), admin (everything)
```

Lookups compare digests with `hmac.compare_digest` against every entry (no early exit), so the time an answer
takes says nothing about how close a guess was.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tuner.errors import ConfigError

TOKENS_ENV = "TUNER_SERVER_TOKENS"
ALL_NAMESPACES = "*"
TOKEN_PREFIX = "tuner_"
_HEX = frozenset("0123456789abcdef")
NAMESPACE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")

logger = logging.getLogger(__name__)


class Role(enum.IntEnum):
    """What a token may do in its namespaces; each role includes the ones below it."""

    viewer = 1  # read
    editor = 2  # read and write
    admin = 3  # everything, and (with namespace "*") the routes that belong to no namespace

    @classmethod
    def parse(cls, value: object, where: str) -> Role:
        try:
            return cls[str(value)]
        except KeyError:
            raise ConfigError(
                f"{where}.role: {value!r} is not a role; use one of {', '.join(r.name for r in cls)}"
            ) from None


@dataclass(frozen=True)
class Principal:
    """Who a request comes from: a token's name and its role per namespace ("*" for all)."""

    name: str
    grants: Mapping[str, Role] = field(default_factory=dict)

    def role_in(self, namespace: str) -> Role | None:
        """The strongest role this principal has in `namespace` (a "*" grant counts everywhere)."""
        roles = [r for ns, r in self.grants.items() if ns in (namespace, ALL_NAMESPACES)]
        return max(roles) if roles else None

    def may(self, role: Role, namespace: str) -> bool:
        held = self.role_in(namespace)
        return held is not None and held >= role

    @property
    def cluster_admin(self) -> bool:
        """Admin in every namespace: the only principal the non-namespaced admin routes accept."""
        return self.grants.get(ALL_NAMESPACES) == Role.admin

    def readable(self) -> frozenset[str] | None:
        """The namespaces this principal may read, or None for every namespace."""
        if ALL_NAMESPACES in self.grants:
            return None
        return frozenset(self.grants)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest the token file stores for `token`."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random token (256 bits); the prefix makes it easy to spot in a secret scanner."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class TokenEntry:
    digest: str
    principal: Principal


class TokenTable:
    """The configured tokens; `lookup` answers the principal of a presented token or None."""

    def __init__(self, entries: Sequence[TokenEntry], source: str) -> None:
        self.entries = tuple(entries)
        self.source = source

    def lookup(self, token: str) -> TokenEntry | None:
        """The entry of a presented token, or None."""
        return self.by_digest(hash_token(token))

    def by_digest(self, digest: str) -> TokenEntry | None:
        """The entry whose stored digest is `digest`; every entry is compared (no timing hint)."""
        wanted = digest.encode()
        found: TokenEntry | None = None
        for entry in self.entries:
            if hmac.compare_digest(wanted, entry.digest.encode()) and found is None:
                found = entry
        return found


def load_tokens(auth_file: Path | None, environ: Mapping[str, str]) -> TokenTable | None:
    """The tokens of `--auth-file` or TUNER_SERVER_TOKENS (not both), or None when neither is given.

    Raises:
        ConfigError: naming the source, the entry and the field, with the fix.
    """
    raw_env = environ.get(TOKENS_ENV)
    if auth_file is not None and raw_env is not None:
        raise ConfigError(f"both --auth-file and {TOKENS_ENV} are set; keep one of them")
    if auth_file is not None:
        try:
            text = auth_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--auth-file {auth_file}: cannot read: {exc.strerror or exc}") from exc
        return parse_tokens(text, str(auth_file))
    if raw_env is not None:
        if not raw_env.strip():
            raise ConfigError(f"{TOKENS_ENV} is set but empty; unset it or give the tokens document")
        return parse_tokens(raw_env, TOKENS_ENV)
    return None


def parse_tokens(text: str, source: str) -> TokenTable:
    """Parse a tokens document (see the module docstring); `source` names it in errors."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    items = document.get("tokens") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise ConfigError(
            f"{source}: expected `tokens:` with a list of entries (sha256, namespaces, role); "
            "create one with `tuner server token create --namespace NS --role editor`"
        )
    if not items:  # the deploy/ placeholder: the server starts, answers its probes and lets nobody in
        logger.warning(
            "%s lists no token: every API request will be refused; add one with "
            "`tuner server token create --namespace NS --role editor`",
            source,
        )
    entries = [_entry(item, f"{source}: tokens[{i}]") for i, item in enumerate(items)]
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.digest in seen:
            raise ConfigError(
                f"{source}: tokens {seen[entry.digest]!r} and {entry.principal.name!r} have the same sha256; "
                "give each user a token of their own"
            )
        seen[entry.digest] = entry.principal.name
    return TokenTable(entries, source)


def _entry(item: Any, where: str) -> TokenEntry:
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: expected a mapping with sha256, namespaces and role, got {item!r}")
    if "token" in item:
        raise ConfigError(
            f"{where}.token: tokens are not stored in clear; replace it with `sha256: <digest>` "
            "(`tuner server hash-token` prints the digest)"
        )
    unknown = sorted(set(item) - {"name", "sha256", "namespace", "namespaces", "role"})
    if unknown:
        raise ConfigError(
            f"{where}: unknown field {unknown[0]!r}; the fields are name, sha256, namespaces (or namespace), role"
        )
    digest = str(item.get("sha256") or "").strip().lower()
    if len(digest) != 64 or not set(digest) <= _HEX:
        raise ConfigError(
            f"{where}.sha256: {item.get('sha256')!r} is not a SHA-256 hex digest (64 hex digits); "
            "print one with `tuner server hash-token`"
        )
    role = Role.parse(item.get("role"), where)
    namespaces = _namespaces(item, where)
    name = str(item.get("name") or f"token-{digest[:8]}")
    return TokenEntry(digest, Principal(name, {ns: role for ns in namespaces}))


def _namespaces(item: dict[str, Any], where: str) -> list[str]:
    if "namespace" in item and "namespaces" in item:
        raise ConfigError(f"{where}: give namespaces or namespace, not both")
    raw = item.get("namespaces", item.get("namespace"))
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise ConfigError(
            f"{where}.namespaces: {raw!r} is not a list of namespaces; "
            'give e.g. `namespaces: [team-a]`, or "*" for every namespace'
        )
    for value in values:
        if value != ALL_NAMESPACES and not (NAMESPACE_NAME.fullmatch(value) and len(value) <= 63):
            raise ConfigError(
                f"{where}.namespaces: {value!r} is not a namespace (lower-case letters, digits and '-', at "
                'most 63); or "*" for every namespace'
            )
    return list(values)


def token_line(digest: str, namespaces: Sequence[str], role: Role, name: str) -> str:
    """The entry to paste under `tokens:` in the auth file (a YAML flow mapping, one line)."""
    spaces = ", ".join(f'"{ns}"' if ns == ALL_NAMESPACES else ns for ns in namespaces)
    return f"  - {{name: {name}, sha256: {digest}, namespaces: [{spaces}], role: {role.name}}}"
