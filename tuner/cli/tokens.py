"""`tuner server hash-token` and `tuner server token create`: make the entries of the server's auth file.

The server stores SHA-256 digests only; a new token is printed once, here, and nowhere else. Tokens are read
from stdin, never from the command line (where `ps` and the shell history would keep them).
"""

from __future__ import annotations

import re
import sys

import typer

from tuner.cli._common import ExitCode, fail, new_typer, stderr_console


def register_token_commands(group: typer.Typer) -> None:
    group.command("hash-token")(hash_token)
    token = new_typer(help="Create tokens for the server's auth file.")
    token.command("create")(create)
    group.add_typer(token, name="token")


def hash_token() -> None:
    """Read a token on stdin (hidden prompt on a terminal) and print its SHA-256 digest for the auth file."""
    from tuner.server.tokens import hash_token as digest_of

    if sys.stdin.isatty():
        import getpass

        token = getpass.getpass("token: ")
    else:
        token = sys.stdin.readline()
    token = token.strip()
    if not token:
        fail('no token on stdin; e.g. `printf %s "$TOKEN" | tuner server hash-token`', ExitCode.INVALID)
    sys.stdout.write(digest_of(token) + "\n")


def create(
    namespace: list[str] = typer.Option(
        ...,
        "--namespace",
        "-n",
        help='Namespace the token may act in (repeatable); "*" for every namespace.',
        show_default=False,
    ),
    role: str = typer.Option("viewer", "--role", help="viewer (read), editor (read and write) or admin."),
    name: str | None = typer.Option(
        None, "--name", help="Who holds it, shown in the server's log (default: token-<digest prefix>)."
    ),
) -> None:
    """Print a new random token (once: give it to its user) and the line to add under `tokens:` in the
    server's auth file (which stores only the token's digest)."""
    from tuner.errors import ConfigError
    from tuner.server.tokens import ALL_NAMESPACES, NAMESPACE_NAME, Role, hash_token, new_token, token_line

    try:
        parsed = Role.parse(role, "--role")
    except ConfigError as exc:
        fail(str(exc).replace("--role.role", "--role"), ExitCode.INVALID)
    for ns in namespace:
        if ns != ALL_NAMESPACES and not (NAMESPACE_NAME.fullmatch(ns) and len(ns) <= 63):
            fail(
                f"--namespace {ns!r} is not a namespace: lower-case letters, digits and '-', at most 63; "
                'or "*" for every namespace',
                ExitCode.INVALID,
            )
    if name is not None and not re.fullmatch(r"[A-Za-z0-9_.@-]+", name):
        fail(f"--name {name!r}: use letters, digits and _ . @ - only", ExitCode.INVALID)
    token = new_token()
    digest = hash_token(token)
    label = name or f"token-{digest[:8]}"
    sys.stdout.write(f"{token}\n")
    sys.stdout.flush()
    console = stderr_console()
    console.print(
        f"The token is above (shown only now; give it to {label}). Add this line under `tokens:` in the "
        "auth file:",
        markup=False,
    )
    sys.stdout.write(token_line(digest, namespace, parsed, label) + "\n")
