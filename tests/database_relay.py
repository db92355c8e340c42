"""A TCP relay in front of PostgreSQL that a test takes down and brings back: a database outage on demand.

`down()` cuts every open connection (the client reads "server closed the connection unexpectedly", as when
PostgreSQL restarts) and refuses new ones (as while it is starting up); `up()` listens again on the same port.
"""

import socket
import threading
from contextlib import suppress

import pytest
from django.db import connection

from tests.stripe_server import free_port


class DatabaseRelay:
    def __init__(self, *, host: str, port: int):
        self.target = (host, port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def up(self) -> None:
        if self._listener is None:
            self._listener = socket.create_server(("127.0.0.1", self.port))
            self._listener.settimeout(0.05)  # the accept loop notices `down()` within this
            threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def down(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            cut, self._open = self._open, set()
        for end in cut:
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed by `down()`
            client.settimeout(None)
            server = socket.create_connection(self.target)
            with self._lock:
                if self._listener is not listener:  # taken down meanwhile
                    client.close()
                    server.close()
                    return
                self._open |= {client, server}
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        with self._lock:
            self._open -= {source, sink}
        for end in (source, sink):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()


@pytest.fixture
def database_relay():
    """Django's connection goes through a relay in front of PostgreSQL, which the test takes down and back up."""
    settings_dict = connection.settings_dict
    original = {"HOST": settings_dict["HOST"], "PORT": settings_dict["PORT"]}
    relay = DatabaseRelay(host=original["HOST"] or "127.0.0.1", port=int(original["PORT"] or 5432))
    relay.up()
    connection.close()
    settings_dict.update(HOST="127.0.0.1", PORT=relay.port)
    yield relay
    relay.up()
    connection.close()
    settings_dict.update(original)
    relay.down()
