import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """A consent names the privacy notice version and keeps the words shown (filled for the rows there are by
    enrollment's 0015, which also moves the children's consents to `ChildConsent`; accounts' 0009 then requires them)."""

    dependencies = [
        ("accounts", "0007_privacy"),
        ("cedarheights", "0018_privacy_notice_first_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="consentrecord",
            name="notice",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="cedarheights.privacynotice"
            ),
        ),
        migrations.AddField(
            model_name="consentrecord",
            name="text_shown",
            field=models.TextField(default="", help_text="The words the parent agreed to, as they were shown."),
            preserve_default=False,
        ),
    ]
