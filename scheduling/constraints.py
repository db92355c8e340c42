from collections.abc import Sequence

from django.contrib.postgres.constraints import ExclusionConstraint
from django.db import connections, models


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
        # Django skips the check when a field of the expressions is excluded (a form error on it), but not one of
        # the condition: its `status` then cannot be resolved, a 500 instead of the form's error.
        if self.condition is not None and set(exclude or ()) & self.condition.referenced_base_fields:
            return
        if self._applies(using):
            super().validate(model, instance, exclude=exclude, using=using)


class CoveringIndex(models.Index):
    """An index whose `covering` columns ride in it as non-key columns (INCLUDE) where the backend has them.

    SQLite (the embedded default) has no non-key columns: there it is the plain index on `fields`, declared
    as such, so Django has nothing to warn about (models.W040).
    """

    def __init__(self, *, covering: Sequence[str], **kwargs):
        super().__init__(**kwargs)
        self.covering = tuple(covering)

    def deconstruct(self):
        path, expressions, kwargs = super().deconstruct()
        return path, expressions, {**kwargs, "covering": self.covering}

    def create_sql(self, model, schema_editor, using="", **kwargs):
        index = self.clone()
        if schema_editor.connection.features.supports_covering_indexes:
            index.include = index.covering
        return super(CoveringIndex, index).create_sql(model, schema_editor, using=using, **kwargs)
