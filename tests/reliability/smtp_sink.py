"""A real SMTP server (aiosmtpd) on a loopback port that keeps every message it is given, for tests across
processes: Django's SMTP backend in gunicorn and the worker talks to it as to any mail server."""

import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.stripe_server import free_port


@dataclass(frozen=True)
class Delivered:
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")


class SmtpSink:
    """Start it, point EMAIL_HOST/EMAIL_PORT at `port`, read `delivered`, stop it."""

    def __init__(self):
        self.port = free_port()
        self._lock = threading.Lock()
        self._delivered: list[Delivered] = []
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def start(self) -> "SmtpSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's handler hook
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self._lock:
            self._delivered.append(Delivered(tuple(envelope.rcpt_tos), message))
        return "250 OK: queued"

    @property
    def delivered(self) -> list[Delivered]:
        with self._lock:
            return list(self._delivered)
