from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Families and people"

    def ready(self):
        # Registered on import, so the worker that sends emails asks the news email's consent check.
        from accounts import news  # noqa: F401
