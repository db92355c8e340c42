"""The local Stripe server for tests: started once per session on a free loopback port, stopped by PID."""

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY = "sk_test_cedarheightslocalstripe000000"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalStripe:
    """The local Stripe server over HTTP: what a browser's Stripe.js and Stripe's dashboard would do."""

    def __init__(self, url: str):
        self.url = url

    def request(self, method: str, path: str, data: dict | None = None) -> dict:
        body = urllib.parse.urlencode(data or {}, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(self.url + path, data=body, method=method)
        request.add_header("Authorization", "Basic " + base64.b64encode(f"{SECRET_KEY}:".encode()).decode())
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
        return json.loads(text) if text else {}

    def card(self, number: str) -> str:
        """A card payment method, as Stripe.js makes it in the browser."""
        return self.request(
            "POST",
            "/v1/payment_methods",
            {
                "type": "card",
                "card[number]": number,
                "card[exp_month]": "12",
                "card[exp_year]": "2031",
                "card[cvc]": "123",
            },
        )["id"]

    def list(self, resource: str, **query) -> list[dict]:
        return self.request("GET", f"/v1/{resource}?" + urllib.parse.urlencode({"limit": 100, **query}))["data"]


@pytest.fixture(scope="session")
def local_stripe_server():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "local_stripe.py"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = LocalStripe(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while True:
        try:
            server.request("GET", "/v1/account")
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("the local Stripe server did not start") from None
            time.sleep(0.1)
    yield server
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=10)


@pytest.fixture
def local_stripe(local_stripe_server, settings):
    """The local Stripe server, emptied, with Stripe calls pointed at it."""
    settings.STRIPE_API_HOST = local_stripe_server.url
    local_stripe_server.request("DELETE", "/_config/data")
    return local_stripe_server
