"""API tokens move from DRF's authtoken (keys stored in clear) to django-rest-knox (SHA-512 digests).

Each existing key is hashed the way knox hashes the keys it makes, so a client's old token keeps working until
it expires (API_TOKEN_TTL_HOURS from the upgrade, extended by use); then the clear-text table is dropped.
"""

from django.db import migrations
from django.utils import timezone
from knox.crypto import hash_token
from knox.settings import CONSTANTS, knox_settings

PLAIN_TABLE = "authtoken_token"


def hash_plain_tokens_into_knox(apps, schema_editor):
    connection = schema_editor.connection
    if PLAIN_TABLE not in connection.introspection.table_names():
        return  # a new installation: DRF's token app was never migrated
    AuthToken = apps.get_model("knox", "AuthToken")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id FROM {PLAIN_TABLE}")
        plain = cursor.fetchall()
    expiry = timezone.now() + knox_settings.TOKEN_TTL
    AuthToken.objects.bulk_create(
        AuthToken(digest=hash_token(key), token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH], user_id=user_id, expiry=expiry)
        for key, user_id in plain
    )
    schema_editor.execute(f"DROP TABLE {PLAIN_TABLE}")
    # The app is gone from INSTALLED_APPS: forget its migrations, or adding it back would skip creating its table.
    schema_editor.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_email_unique_index_serves_iexact"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    # Not reversible into clear text: only the digests are kept.
    operations = [migrations.RunPython(hash_plain_tokens_into_knox, migrations.RunPython.noop)]
