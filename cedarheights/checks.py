"""System checks of our own (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from cedarheights.stripe_secrets import stripe_secret_problems


@register(Tags.security, deploy=True)
def stripe_secrets_check(app_configs, **kwargs) -> list[Error]:
    return [
        Error(problem, hint="Production settings refuse to start with it.", id="cedarheights.E001")
        for problem in stripe_secret_problems(lambda name: getattr(settings, name, None))
    ]
