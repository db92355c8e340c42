"""What a migration that moves a model from one app to another needs besides its table (used by migrations)."""

from django.db import migrations


def content_type_move(*, model: str, old_app: str, new_app: str) -> migrations.RunPython:
    """The moved model keeps its content type, and with it its permissions, admin history and audit rows."""

    def relabel(apps, schema_editor, source: str, target: str) -> None:
        content_types = apps.get_model("contenttypes", "ContentType").objects.using(schema_editor.connection.alias)
        if content_types.filter(app_label=source, model=model).exists():
            # A content type already made for the new label (by a migrate that ran the moved model's
            # post_migrate) holds only its own fresh permissions; the old one holds the history.
            content_types.filter(app_label=target, model=model).delete()
            content_types.filter(app_label=source, model=model).update(app_label=target)

    return migrations.RunPython(
        lambda apps, editor: relabel(apps, editor, old_app, new_app),
        lambda apps, editor: relabel(apps, editor, new_app, old_app),
    )
