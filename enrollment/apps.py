from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = "Students and enrollments"

    def ready(self):
        # Its steps' titles (@step) are registered on import: every process, not only the web server, names them.
        from enrollment import pipelines  # noqa: F401
