"""Production: refuses to start without its secrets (Stripe's among them); passes `manage.py check --deploy`."""

from django.core.exceptions import ImproperlyConfigured

from cedarheights.stripe_secrets import stripe_secret_problems

from .base import *  # noqa: F403
from .base import METRICS_TOKEN, env

DEBUG = False
try:
    SECRET_KEY = env("DJANGO_SECRET_KEY")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
except ImproperlyConfigured as missing:
    raise ImproperlyConfigured(f"Production settings need it: {missing}") from missing
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Production settings need DJANGO_ALLOWED_HOSTS (comma-separated).")
if stripe_problems := stripe_secret_problems(globals().get):
    raise ImproperlyConfigured("Production settings need Stripe's own values. " + " ".join(stripe_problems))
# A short token can be guessed from outside; empty is fine (only the allowed addresses reach /metrics).
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 32 characters (or empty): `openssl rand -hex 32`.")

# Stripe's own hosts unless told otherwise: base.py's defaults are the local Stripe server's (development, tests).
STRIPE_API_HOST = env("STRIPE_API_HOST", default="https://api.stripe.com")
STRIPE_JS_URL = env("STRIPE_JS_URL", default="https://js.stripe.com/v3/")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Prometheus on the private network scrapes a web server's own port over plain HTTP, by address; a token is only
# ever sent through the HTTPS proxy (README, "Monitoring"). Health probes (Docker's, a load balancer's) ask there too.
SECURE_REDIRECT_EXEMPT = [r"^metrics$", r"^health/"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
