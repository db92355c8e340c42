from django.db import migrations

# A family's name is its calendar's name (scheduling.calendar_feeds.feed_name): renaming the family restamps the
# family's calendar stamp (migration 0014), so the validators of its feeds change with the name they print.
TRIGGER = """
CREATE FUNCTION scheduling_calendar_family_renamed_restamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM scheduling_calendar_restamp('family', ARRAY[NEW.id]);
    RETURN NULL;
END
$$;

CREATE TRIGGER family_renamed_calendar_restamp AFTER UPDATE OF name ON accounts_family
FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION scheduling_calendar_family_renamed_restamp();
"""

DROP_TRIGGER = """
DROP TRIGGER family_renamed_calendar_restamp ON accounts_family;
DROP FUNCTION scheduling_calendar_family_renamed_restamp();
"""


def _on_postgresql(sql):
    """SQLite has no triggers, as in migration 0014: there a feed's validator is its text's hash."""

    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0014_calendar_stamps")]

    operations = [migrations.RunPython(_on_postgresql(TRIGGER), _on_postgresql(DROP_TRIGGER))]
