from django.db import migrations

DEFAULT_INSTRUMENTS = ("Piano", "Guitar", "Bass")


def create_default_instruments(apps, schema_editor):
    Instrument = apps.get_model("scheduling", "Instrument")
    for name in DEFAULT_INSTRUMENTS:
        if not Instrument.objects.filter(name__iexact=name).exists():
            Instrument.objects.create(name=name)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [migrations.RunPython(create_default_instruments, migrations.RunPython.noop)]
