from django.contrib.postgres.constraints import ExclusionConstraint
from django.db import connections


class PostgresExclusionConstraint(ExclusionConstraint):
    """An exclusion constraint that exists only on PostgreSQL.

    SQLite (the embedded default) has no exclusion constraints; there the scheduling services
    detect the same conflicts themselves.
    """

    @staticmethod
    def _applies(schema_editor_or_alias) -> bool:
        connection = getattr(schema_editor_or_alias, "connection", None) or connections[schema_editor_or_alias]
        return connection.vendor == "postgresql"

    def constraint_sql(self, model, schema_editor):
        return super().constraint_sql(model, schema_editor) if self._applies(schema_editor) else None

    def create_sql(self, model, schema_editor):
        return super().create_sql(model, schema_editor) if self._applies(schema_editor) else None

    def remove_sql(self, model, schema_editor):
        return super().remove_sql(model, schema_editor) if self._applies(schema_editor) else None

    def validate(self, model, instance, exclude=None, using="default"):
        if self._applies(using):
            super().validate(model, instance, exclude=exclude, using=using)
