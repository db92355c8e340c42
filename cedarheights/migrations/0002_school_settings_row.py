from django.db import migrations


def create_school_settings(apps, schema_editor):
    apps.get_model("cedarheights", "SchoolSettings").objects.get_or_create(id=1)


class Migration(migrations.Migration):
    dependencies = [("cedarheights", "0001_initial")]

    operations = [migrations.RunPython(create_school_settings, migrations.RunPython.noop)]
