import pytest


@pytest.fixture(autouse=True)
def stripe_server(local_stripe):
    """Every billing test talks to the local Stripe server, reset to empty (never to a host nobody serves)."""
    return local_stripe
