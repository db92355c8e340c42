"""Production refuses a METRICS_TOKEN short enough to guess; any settings refuse an allowed address that is not one.

Made to fail first: before the check, a 5-character token started production."""

import pytest

from tests.cedarheights.test_settings import OWN_STRIPE, PRODUCTION, manage


@pytest.mark.parametrize(("token", "starts"), [("short", False), ("t" * 31, False), ("t" * 32, True), ("", True)])
def test_production_refuses_a_metrics_token_under_32_characters(token, starts):
    result = manage("check", **PRODUCTION, **OWN_STRIPE, METRICS_TOKEN=token)
    assert (result.returncode == 0) == starts, result.stderr
    if not starts:
        assert "METRICS_TOKEN must be at least 32 characters" in result.stderr


def test_an_allowed_address_that_is_not_an_address_refuses_to_start():
    result = manage("check", METRICS_ALLOWED_ADDRESSES="127.0.0.1/32,10.0.0.0/33")
    assert result.returncode != 0 and "10.0.0.0/33" in result.stderr
