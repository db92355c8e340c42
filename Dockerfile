# Cedar Heights' image: gunicorn (gunicorn.conf.py) by default; compose.yaml runs the django-q2 worker and the
# release step (migrate, billing_sync_catalog) from the same image. README, "Deploy".

# Debian bookworm: its postgresql-client is 15, the major version of compose.yaml's PostgreSQL.
FROM python:3.11-slim-bookworm AS build
# The runtime requirements (exact pins) in a venv that the runtime stage copies; pip and its cache stay here.
RUN python -m venv /venv
COPY requirements.txt /tmp/requirements.txt
RUN /venv/bin/pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements.txt


FROM python:3.11-slim-bookworm
# postgresql-client: pg_dump and pg_restore for the backup and restore commands. Debian's security updates
# come with the image's rebuilds, so the package is not pinned to a version.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-log-init --home-dir /app app
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=cedarheights.settings.production
WORKDIR /app
COPY --from=build /venv /venv
COPY . .
# Static files are collected into the image (WhiteNoise serves them). Production settings refuse to load without
# the server's secrets, which a build must never hold; collectstatic reads only what base settings already
# define for every environment (STATIC_ROOT, STORAGES), so it runs on them: no secret, no database, same files.
RUN DJANGO_SETTINGS_MODULE=cedarheights.settings.base python manage.py collectstatic --no-input
# The one directory the app writes to: `manage.py backup`'s dumps (compose mounts a volume there).
RUN mkdir -p /app/backups && chown 10001:10001 /app/backups
# Everything above belongs to root and is only read from here on. By number, so Kubernetes' runAsNonRoot can tell.
USER 10001:10001
EXPOSE 8000
# /health/live asked as Caddy would ask it (scripts/healthcheck.py): the process answers, whatever the database.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["python", "scripts/healthcheck.py"]
CMD ["gunicorn", "cedarheights.wsgi", "--config", "gunicorn.conf.py"]
