from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = "Enrollments and tuition plans"

    def ready(self):
        # Registered on import, so every process (web server, worker, shell) has them, not only the one that ran
        # a pipeline: the steps' titles (@step) the admin shows, and the welcome email's rebuilder (@email_rebuilder).
        from enrollment import emails, steps  # noqa: F401
        from enrollment.receivers import receivers_connect

        receivers_connect()
