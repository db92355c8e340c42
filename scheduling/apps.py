from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Students, teachers and lessons"

    def ready(self):
        # Registered on import, so the worker that sends emails asks each reminder's consent check.
        from scheduling import reminders  # noqa: F401
