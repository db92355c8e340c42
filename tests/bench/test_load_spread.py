"""`make bench`'s pass 2 spreads its clients over two app servers (issue 19): client i sends to server i mod 2.

Two real HTTP servers on loopback count the requests they answer. Made to fail first by sending every client to
the first port: the second server then counted none.
"""

import importlib.util
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.stripe_server import ROOT


def bench_run():
    spec = importlib.util.spec_from_file_location("bench_run", Path(ROOT) / "bench" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Counting(BaseHTTPRequestHandler):
    def do_GET(self):
        with self.server.lock:
            self.server.answered += 1
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def two_servers():
    servers = []
    for _ in range(2):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
        server.answered, server.lock = 0, threading.Lock()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    try:
        yield servers
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def test_the_clients_are_spread_over_every_server(two_servers):
    ports = [server.server_address[1] for server in two_servers]
    latencies, errors = bench_run().drive(ports, {"name": "floor", "path": "/bench/floor"}, 4, 0.3)

    assert errors == 0
    assert all(server.answered > 0 for server in two_servers)
    assert len(latencies) == sum(server.answered for server in two_servers)
