"""Settings shared by every environment; read from the environment through django-environ.

Every variable is listed in `.env.example`. With no `DATABASE_URL` the embedded default is SQLite.
"""

import ipaddress
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF

from cedarheights import error_reports, stripe_secrets
from cedarheights.caches import process_cache, shared_cache

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-insecure-key-change-me-0123456789abcdef")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

INSTALLED_APPS = [
    "cedarheights.admin_site.SchoolAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_q",
    "djstripe",
    "anymail",
    "csp",
    "import_export",
    "pgtrigger",
    "django_prometheus",
    "cedarheights",
    "accounts",
    "scheduling",
    "enrollment",
    "billing",
]

MIDDLEWARE = [
    # First and last: django-prometheus times each request between the two (README, "Monitoring").
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "cedarheights.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Above everything that reads the database: an outage anywhere below answers 503, not a 500 (see its module).
    "cedarheights.outage.OutageMiddleware",
    # Static files (the admin's, the Swagger UI's) served by the app itself: no CDN, no extra server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "cedarheights.middleware.SessionLifetimeMiddleware",
    # After the authentication middleware: static files (WhiteNoise, above) keep their caching.
    "cedarheights.middleware.NoStoreForCallersMiddleware",
    "cedarheights.middleware.ContentSecurityPolicyMiddleware",
    "cedarheights.middleware.LazyMessageMiddleware",
    "cedarheights.middleware.SchoolTimeZoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "cedarheights.middleware.RejectNulBytesMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into a clear answer.
    "axes.middleware.AxesMiddleware",
    "cedarheights.metrics.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "cedarheights.urls"
WSGI_APPLICATION = "cedarheights.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cedarheights.context_processors.privacy",
            ],
        },
    },
    # Plain text (emails' .txt bodies and subjects): no HTML escaping, or "O'Brien & Co" reads "O&#x27;Brien &amp; Co".
    {
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {"autoescape": False},
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database host that stopped answering fails a connect after this many seconds, not the system's minutes:
    # requests then answer 503 at once (cedarheights/outage.py) and /health/ready says so.
    DATABASES["default"]["OPTIONS"] = {
        "connect_timeout": env.int("DATABASE_CONNECT_TIMEOUT", default=5),
        **DATABASES["default"].get("OPTIONS", {}),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write at the same time. WAL lets readers go on beside the one writer;
    # IMMEDIATE takes the write lock when a transaction begins, so two transactions that read and then write
    # wait in turn instead of failing with "database is locked"; `timeout` is how long one waits (seconds).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        **DATABASES["default"].get("OPTIONS", {}),
    }
# django-prometheus's subclasses of Django's backends count connections, queries and their time for /metrics;
# `connection.vendor` stays "postgresql" / "sqlite". Swapped after the options above, which read the URL's ENGINE.
DATABASES["default"]["ENGINE"] = {
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
}.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])
# The school's settings, rate-limit counters, and teachers' free time (kept under a schedule stamp the database
# changes, so never stale). Without REDIS_URL, per process (room for a large school's teachers over several date
# ranges); with it, one cache on Redis for every web server and worker, so a rate limit holds across them all.
# Sessions stay in the database either way.
REDIS_URL = env("REDIS_URL", default="")
PROCESS_CACHE = process_cache(max_entries=env.int("CACHE_MAX_ENTRIES", default=20_000))
CACHES = {"default": shared_cache(REDIS_URL) if REDIS_URL else PROCESS_CACHE}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
CSRF_FAILURE_VIEW = "cedarheights.error_handlers.csrf_failure"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "landing"  # `/` sends each role on to its own first page (cedarheights.roles.home_url_name)
LOGOUT_REDIRECT_URL = "login"
# Sessions (OWASP ASVS 3.3.1, 3.3.2, level 2) end after this long without a request, or this long after sign-in,
# whatever the user (the owner's admin included): cedarheights.middleware.SessionLifetimeMiddleware decides. The
# last request is written down at most once a minute, so the cookie and the session's row outlive the idle limit
# by that minute and never end a session the middleware would keep.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_MAX_HOURS = env.int("SESSION_MAX_HOURS", default=12)
SESSION_ACTIVITY_RESOLUTION = 60  # seconds
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60 + SESSION_ACTIVITY_RESOLUTION
# A password-reset or set-password link works once, for this many seconds (three days).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 24 * 3)

# Failed logins (OWASP ASVS 2.2.1), never a permanent lock: after AXES_FAILURE_LIMIT failures in an hour the pair
# (account, address) cools off for an hour, so nobody elsewhere can lock a family out of their own account; and an
# address that fails AXES_ADDRESS_FAILURE_LIMIT times an hour, whatever accounts it tries (known or not), cools off
# too (accounts/lockout.py). A successful password reset or change lifts the account's locks.
AXES_HANDLER = "accounts.lockout.AccountAddressLockout"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=100)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=300)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A paused sign-in is refused before it is tried, and not counted: the pause ends an hour after the last counted
# failure (and the handler's own per-address check pauses an address the same way).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.lockout.account_named"
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
# The client's address, as the API's rate limits read it (see TRUSTED_PROXIES below).
AXES_CLIENT_IP_CALLABLE = "cedarheights.client_address.client_address"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-ca"
# The school's zone: Django shows times in it, and weekly lessons are wall-clock times in it.
TIME_ZONE = env("SCHOOL_TIME_ZONE", default="America/Toronto")
USE_I18N = True
USE_TZ = True
SCHOOL_CURRENCY = env("SCHOOL_CURRENCY", default="cad").lower()

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# Only for the SMTP backend (`django.core.mail.backends.smtp.EmailBackend`): the mail server it hands emails to.
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Cedar Heights Music Academy <office@cedarheights.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ANYMAIL = {
    "POSTMARK_SERVER_TOKEN": env("POSTMARK_SERVER_TOKEN", default=""),
}

# django-q2 on the ORM broker: no extra service to run; with REDIS_URL, on its Redis broker (tasks then leave a
# transaction through the outbox, cedarheights/outbox.py). `retry` exceeds `timeout`, so a task that is still
# running is never handed to a second worker.
Q_CLUSTER = {
    "name": "cedarheights",
    **({"redis": REDIS_URL} if REDIS_URL else {"orm": "default"}),
    "workers": env.int("Q_WORKERS", default=2),
    # A task running longer than `timeout` is stopped; a claimed task whose worker never acknowledged it is
    # handed out again after `retry`, which must exceed `timeout` or a slow task would run twice.
    "timeout": env.int("Q_TIMEOUT", default=60),
    "retry": env.int("Q_RETRY", default=120),
    "max_attempts": 3,
    "catch_up": False,
    "label": "Background tasks",
}

# dj-stripe. No machine here reaches Stripe: STRIPE_API_HOST points at the local Stripe server.
STRIPE_LIVE_MODE = env.bool("STRIPE_LIVE_MODE", default=False)
# The defaults are the local Stripe server's, public: production refuses them (cedarheights/stripe_secrets.py).
STRIPE_TEST_SECRET_KEY = env("STRIPE_TEST_SECRET_KEY", default=stripe_secrets.LOCAL_TEST_SECRET_KEY)
STRIPE_TEST_PUBLIC_KEY = env("STRIPE_TEST_PUBLIC_KEY", default=stripe_secrets.LOCAL_TEST_PUBLIC_KEY)
STRIPE_LIVE_SECRET_KEY = env("STRIPE_LIVE_SECRET_KEY", default="")
STRIPE_LIVE_PUBLIC_KEY = env("STRIPE_LIVE_PUBLIC_KEY", default="")
STRIPE_API_HOST = env("STRIPE_API_HOST", default="http://127.0.0.1:8420")
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
# Stripe.js for card fields: Stripe's own in production, the local server's stand-in elsewhere.
STRIPE_JS_URL = env("STRIPE_JS_URL", default=f"{STRIPE_API_HOST}/js.stripe.com/v3/")
STRIPE_PUBLIC_KEY = STRIPE_LIVE_PUBLIC_KEY if STRIPE_LIVE_MODE else STRIPE_TEST_PUBLIC_KEY
# Content-Security-Policy (django-csp) on every page: scripts and <style> blocks only from this site or inline with the
# page's nonce (`nonce="{{ request.csp_nonce }}"`), no inline style attributes, no plugins, no framing. Stripe.js
# loads from js.stripe.com, frames js.stripe.com and hooks.stripe.com and calls api.stripe.com (Stripe's CSP guide);
# cedarheights.middleware.ContentSecurityPolicyMiddleware adds STRIPE_JS_URL's origin (the local stand-in) to the three.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE, "https://js.stripe.com"],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF, "https://api.stripe.com"],
        "frame-src": ["https://js.stripe.com", "https://hooks.stripe.com"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Our own webhook endpoint (/billing/stripe/webhook/) verifies with this secret before anything else.
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default=stripe_secrets.LOCAL_WEBHOOK_SECRET)
# Days after a failed payment at which it is tried again; after the last, the enrollment is paused.
BILLING_RETRY_DAYS = env.list("BILLING_RETRY_DAYS", cast=int, default=[1, 3, 7])
# Billing still not started this long after its subscription was made (no run, no queued task, no Stripe id) had
# its hand-off lost, and the sweeper starts it. Well past a task's worst path (timeout, then retry, twice), so a
# task still on its way is never doubled.
BILLING_HANDOFF_GRACE_SECONDS = env.int(
    "BILLING_HANDOFF_GRACE_SECONDS", default=max(600, 2 * (Q_CLUSTER["retry"] + Q_CLUSTER["timeout"]))
)
# Where the failed-payment emails send parents to update their card.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
SILENCED_SYSTEM_CHECKS = ["djstripe.W002"] if not STRIPE_LIVE_MODE else []

# How many proxies of ours stand in front of the app (a load balancer, nginx): 0 reads the socket's address and
# ignores X-Forwarded-For, which any client can write; n reads the address the nth proxy from us saw. Rate limits,
# sign-in lockouts and the request log all read the client's address this way (cedarheights/client_address.py).
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)

REST_FRAMEWORK = {
    "NUM_PROXIES": TRUSTED_PROXIES,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # The token's scheme first: a refused or expired token is a 401 (`WWW-Authenticate: Token`), not a 403.
        "cedarheights.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "cedarheights.filters.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "cedarheights.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cedarheights.api_errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "public": env("PUBLIC_API_RATE", default="120/minute"),
        "auth": env("AUTH_API_RATE", default="30/minute"),
        "enroll": env("ENROLL_API_RATE", default="10/hour"),
        # Per calendar link: an app polling every 5 minutes on each of a few devices stays well inside it.
        "calendar_feed": env("CALENDAR_FEED_RATE", default="120/hour"),
    },
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["cedarheights.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# API tokens (django-rest-knox): stored as SHA-512 digests and shown once; a token expires API_TOKEN_TTL_HOURS after
# its last use and API_TOKEN_MAX_TTL_DAYS after it was made, whichever comes first. `Authorization: Token <key>`.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=24 * 30)),
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": timedelta(days=env.int("API_TOKEN_MAX_TTL_DAYS", default=90)),
    "AUTH_HEADER_PREFIX": "Token",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Cedar Heights API",
    "DESCRIPTION": (
        "The role-scoped API of Cedar Heights Music Academy. Every error has the body `Error`; "
        "creating POSTs accept an `Idempotency-Key` header and replay the first response for it."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",  # tags operations by resource (families, lessons, …) in Swagger UI
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cedarheights.api_schema.document_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "LessonStatusEnum": "scheduling.models.Lesson.Status",
        "LessonKindEnum": "scheduling.models.Lesson.Kind",
        "LessonOutcomeEnum": "scheduling.outcomes.Outcome",
        "CreditRuleEnum": "scheduling.outcomes.CreditRule",
        "PaymentStatusEnum": "scheduling.models.Lesson.PaymentStatus",
        "StudentStatusEnum": "scheduling.models.Student.Status",
        # Payroll: named so the schema shows one enum each, not a name made from the field.
        "PayRateKindEnum": "billing.payroll.models.PayRate.Kind",
        "PayPeriodStatusEnum": "billing.payroll.models.PayPeriod.Status",
        "PayLineKindEnum": "billing.payroll.models.PayLine.Kind",
        # Tuition and an enrollment's life: an enrollment's own choices under their own names.
        "FamilyDiscountKindEnum": "billing.models.FamilyDiscount.Kind",
        "EnrollmentStatusEnum": "enrollment.models.Enrollment.Status",
        "EnrollmentLessonMinutesEnum": "enrollment.models.Enrollment.LessonMinutes",
    },
}

# `make bench` turns this on to serve its floor view (bench/run.py).
BENCH_FLOOR = env.bool("BENCH_FLOOR", default=False)

# /metrics (cedarheights/metrics.py, README "Monitoring"): answered to these client addresses (CIDRs, read as
# TRUSTED_PROXIES says), or to `Authorization: Bearer <METRICS_TOKEN>`; anyone else gets a 404. An empty token
# opens nothing. With several gunicorn workers, PROMETHEUS_MULTIPROC_DIR (read by prometheus_client itself from
# the environment) is where each worker writes its figures, and /metrics adds them up.
METRICS_ALLOWED_ADDRESSES = env.list("METRICS_ALLOWED_ADDRESSES", default=["127.0.0.1/32", "::1/128"])
for cidr in METRICS_ALLOWED_ADDRESSES:  # a typo refuses to start rather than answering /metrics with a 500
    ipaddress.ip_network(cidr, strict=False)
METRICS_TOKEN = env("METRICS_TOKEN", default="")
PROMETHEUS_EXPORT_MIGRATIONS = False  # /health/ready says it; no queries while the app loads

# Error reports to Sentry, only when SENTRY_DSN is set; scrubbed of everyone's data before they leave
# (cedarheights/error_reports.py).
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    error_reports.sentry_init(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        release=env("SENTRY_RELEASE", default="") or None,
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"outage": {"()": "cedarheights.outage.OutageLogFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # One JSON line per request, and nothing else about it: it replaces runserver's own access line
        # and django.request's "Not Found: …" lines. Unhandled errors (5xx) still log with their traceback.
        "cedarheights.requests": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"level": "CRITICAL"},
        # A database outage is one warning line (cedarheights.outage), not a traceback per request.
        "django.request": {"level": "ERROR", "filters": ["outage"]},
        # Through the root handler only: Django's default console handler on "django" printed each line twice.
        "django": {"level": "INFO"},
        "axes": {"level": "WARNING"},
    },
}

# Admin exports open in a spreadsheet: a name a parent typed as “=HYPERLINK(…)” is exported as text, not a formula.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True

# `manage.py backup` writes its dumps and their manifests here; `manage.py restore_drill` takes the newest
# (README, "Backups"). Copy them off this machine.
BACKUP_DIR = Path(env("BACKUP_DIR", default=str(BASE_DIR / "backups")))
