"""Migration tests' one helper: migrate some apps back (or forward) and read the models as the database now has them."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader


def migrate_to(targets):
    """Migrates to the targets and gives the models as the database has them then: the other apps stay at their
    newest, except a migration that needed one rolled back (accounts' consent change follows enrollment's)."""
    MigrationExecutor(connection).migrate(targets)
    loader = MigrationLoader(connection)
    applied = set(loader.applied_migrations)
    newest = [
        node for node in applied if not any(child.key in applied for child in loader.graph.node_map[node].children)
    ]
    return loader.project_state(newest).apps
