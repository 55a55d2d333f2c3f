"""For the upgrade tests: the database at an earlier migration state, and back at the latest
afterwards, whatever the test did."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(targets):
    """Migrate (forwards or backwards) to `targets`; the historical apps there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@contextmanager
def state_at(targets) -> Iterator:
    """The historical apps at `targets`; every app's latest migration again on leaving."""
    try:
        yield migrate_to(targets)
    finally:
        migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes())
