"""`tuner db upgrade` and `tuner db current`: the store's schema, for operators.

Every other command migrates the store on first use, so these are for checking a database and for
upgrading a shared PostgreSQL store deliberately (e.g. before rolling out a new tuner). The work is done
by `tuner.store.migrate` (imported only when a `db` command runs, to keep `tuner --help` fast); this
module only parses flags and prints.
"""

from __future__ import annotations

import typer

from tuner.cli._common import new_typer, settings_from, stderr_console, stdout_console, store_option


def _describe(revision: str | None, head: str) -> str:
    if revision is None:
        return "none (the database is empty; `tuner db upgrade` or any command creates it)"
    return f"{revision} (head)" if revision == head else f"{revision} (head is {head})"


def register(app: typer.Typer) -> None:
    db = new_typer(name="db", help="Inspect and upgrade the metadata store's schema.")

    @db.command("current")
    def current(store: str | None = store_option()) -> None:
        """Print the store's schema revision (never creates or changes the database)."""
        from tuner.store.migrate import HEAD_REVISION, database_revision

        url = settings_from(store=store).store_url
        stdout_console().print(_describe(database_revision(url), HEAD_REVISION), markup=False)

    @db.command("upgrade")
    def upgrade(store: str | None = store_option()) -> None:
        """Create the store if needed and migrate it to the newest schema revision."""
        from tuner.store.migrate import HEAD_REVISION, display_url, upgrade_database

        url = settings_from(store=store).store_url
        before, after = upgrade_database(url)
        if before == after:
            message = f"{display_url(url)} is already at {after}"
        else:
            message = f"{display_url(url)}: upgraded from {before or 'empty'} to {after}"
        stderr_console().print(message, markup=False)
        stdout_console().print(_describe(after, HEAD_REVISION), markup=False)

    app.add_typer(db)
