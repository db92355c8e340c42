from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        # Their steps' titles (@step) are registered on import: every process, not only the worker, names them.
        from billing import handoffs, pipelines  # noqa: F401
        from billing.receivers import receivers_connect
        from billing.services import dunning  # noqa: F401

        receivers_connect()
        from billing import admin_payroll  # noqa: F401  (payroll's admin pages, issue 17)
