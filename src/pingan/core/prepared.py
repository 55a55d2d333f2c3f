"""Statements the busiest write runs on every call, planned once per database connection.

PostgreSQL plans a statement each time it arrives as text. For a dose's fact sheet (one
statement of eleven subqueries and joins) the planning cost the server about 0.9 ms of CPU
against 0.15 ms for running it, and a dose runs five such statements: the planning was a
fifth of the CPU a dose costs the two cores (docs/performance.md, "Planned once per
connection"). `execute` sends such a statement once per connection as a named `PREPARE`
and then only `EXECUTE name (values)`, which PostgreSQL runs with the plan it kept.

The values still travel as literals quoted by the driver (the connection's client-side
binding is unchanged), and PostgreSQL infers each parameter's type from where it is used,
so the callers' SQL stays the SQL they would run directly. A prepared statement belongs to
the server connection: it survives the transaction that made it (a rollback included) and
goes with the connection, so the names made are kept per driver connection and a new
connection prepares again. A connection pooler that shares server connections between
clients per transaction (PgBouncer's transaction mode) would need its prepared-statement
support turned on (docs/deployment.md).

On any other database `execute` runs the statement as it is: SQLite's driver already keeps
its compiled statements.
"""

from __future__ import annotations

import hashlib
import re

from django.db import DEFAULT_DB_ALIAS, connections

_PLACEHOLDER = re.compile(r"%%|%s")
# On the connection wrapper: (the driver connection the names were made on, the names).
_MADE = "_pingan_prepared"


def statement_name(label: str, sql: str) -> str:
    """A name that changes with the SQL, so a statement whose text differs (another chain's
    head, a new column after a migration in a running process) is never run by an old plan."""
    return f"pa_{label}_{hashlib.blake2s(sql.encode(), digest_size=6).hexdigest()}"


def numbered(sql: str) -> str:
    """The driver's `%s` placeholders as PostgreSQL's `$1`, `$2`… (and `%%` as `%`)."""
    count = 0

    def swap(match: re.Match) -> str:
        nonlocal count
        if match.group() == "%%":
            return "%"
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(swap, sql)


def _names_made(db) -> set[str]:
    raw = db.connection
    made = getattr(db, _MADE, None)
    if made is None or made[0] is not raw:
        made = (raw, set())
        setattr(db, _MADE, made)
    return made[1]


def execute(cursor, label: str, sql: str, params, using: str = DEFAULT_DB_ALIAS) -> None:
    """Run `sql` with `params` on `cursor`; on PostgreSQL as a statement prepared once per
    connection under a name made from `label` and the SQL."""
    db = connections[using]
    if db.vendor != "postgresql":
        cursor.execute(sql, params)
        return
    name = statement_name(label, sql)
    made = _names_made(db)
    if name not in made:
        cursor.execute(f"PREPARE {name} AS {numbered(sql)}")
        made.add(name)
    if params:
        cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", list(params))
    else:
        cursor.execute(f"EXECUTE {name}")
