"""Every process names billing's pipeline steps (BillingConfig.ready imports the modules that define them)."""

import os
import subprocess
import sys

from django.conf import settings

from billing.handoffs import reprocess_lost_event, restart_lost_billing
from billing.pipelines import STEPS
from billing.services.dunning import retry_payment


def test_every_billing_step_has_a_title_in_a_fresh_process():
    """In a fresh process, as the web server is. Failed before the fix for the sweeper's two steps: they were titled
    only where something happened to import billing.handoffs (the worker, the demo), so the admin's run pages
    showed their code names alone."""
    fresh = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from cedarheights.pipeline import STEP_TITLES; "
            "print(' '.join(STEP_TITLES))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "cedarheights.settings.test"},
    )
    titled = set(fresh.stdout.split())
    for function in (*STEPS, retry_payment, restart_lost_billing, reprocess_lost_event):
        assert function.__name__ in titled, f"{function.__name__} has no @step title in a fresh process"
