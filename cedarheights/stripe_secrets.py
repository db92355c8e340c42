"""The Stripe values the repository ships for the local Stripe server, and what production requires instead.

They are public (base.py, .env.example, scripts/local_stripe.py): a webhook secret anyone can read lets anyone
sign a "payment succeeded". Production refuses to start with them (production.py) and `check --deploy` names them
(cedarheights/checks.py); both ask this module.
"""

from collections.abc import Callable

LOCAL_TEST_SECRET_KEY = "sk_test_cedarheightslocalstripe000000"
LOCAL_TEST_PUBLIC_KEY = "pk_test_cedarheightslocalstripe000000"
LOCAL_WEBHOOK_SECRET = "whsec_cedarheightslocal"
PUBLIC_DEFAULTS = frozenset({LOCAL_TEST_SECRET_KEY, LOCAL_TEST_PUBLIC_KEY, LOCAL_WEBHOOK_SECRET})


def stripe_secret_problems(setting: Callable[[str], object]) -> list[str]:
    """One sentence per Stripe setting in use that is missing or public; `setting(name)` reads a setting."""
    mode = "LIVE" if setting("STRIPE_LIVE_MODE") else "TEST"
    problems = []
    for name in ("STRIPE_WEBHOOK_SECRET", f"STRIPE_{mode}_SECRET_KEY", f"STRIPE_{mode}_PUBLIC_KEY"):
        value = setting(name)
        if not value:
            problems.append(f"{name} is not set: copy it from the Stripe dashboard.")
        elif value in PUBLIC_DEFAULTS:
            problems.append(f"{name} is the repository's public default: set your own from the Stripe dashboard.")
    return problems
