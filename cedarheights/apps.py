from django.apps import AppConfig


class CedarHeightsConfig(AppConfig):
    default = True
    name = "cedarheights"
    verbose_name = "School"

    def ready(self):
        from django.core.signals import got_request_exception
        from django_q.signals import post_execute_in_worker, post_spawn

        from cedarheights import checks  # noqa: F401  (registers the deploy checks)
        from cedarheights.outage import request_failed
        from cedarheights.tasks import task_failure_log, worker_started

        post_spawn.connect(worker_started, dispatch_uid="cedarheights.worker_started")
        post_execute_in_worker.connect(task_failure_log, dispatch_uid="cedarheights.task_failure_log")
        got_request_exception.connect(request_failed, dispatch_uid="cedarheights.outage")
