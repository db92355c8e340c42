"""A real SMTP server on a loopback port that keeps every message it is given, for tests across processes.

Django's SMTP backend (in gunicorn and the worker) talks to it as to any mail server; the test reads what was
delivered. Only what a client needs to hand over mail is spoken: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
"""

import socketserver
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from tests.stripe_server import free_port


@dataclass(frozen=True)
class Delivered:
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")


class _Session(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 sink ESMTP")
        recipients: list[str] = []
        for raw in self.rfile:
            command = raw.decode(errors="replace").strip()
            verb = command[:4].upper()
            if verb == "EHLO":
                self.reply("250-sink")
                self.reply("250 8BITMIME")
            elif verb in {"HELO", "NOOP"}:
                self.reply("250 OK")
            elif verb == "MAIL":
                recipients = []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.partition(":")[2].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                self.server.sink.deliver(tuple(recipients), self._data())
                self.reply("250 OK: queued")
            elif verb == "RSET":
                recipients = []
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")

    def _data(self) -> bytes:
        lines = []
        for raw in self.rfile:
            if raw in (b".\r\n", b".\n"):
                break
            lines.append(raw[1:] if raw.startswith(b"..") else raw)  # RFC 5321 dot-stuffing
        return b"".join(lines)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SmtpSink:
    """Start it, point EMAIL_HOST/EMAIL_PORT at `port`, read `delivered`, stop it."""

    def __init__(self):
        self.port = free_port()
        self._lock = threading.Lock()
        self._delivered: list[Delivered] = []
        self._server = _Server(("127.0.0.1", self.port), _Session)
        self._server.sink = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="smtp-sink", daemon=True)

    def start(self) -> "SmtpSink":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def deliver(self, recipients: tuple[str, ...], data: bytes) -> None:
        with self._lock:
            self._delivered.append(Delivered(recipients, message_from_bytes(data, policy=policy.default)))

    @property
    def delivered(self) -> list[Delivered]:
        with self._lock:
            return list(self._delivered)
