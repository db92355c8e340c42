"""Children that run and stop together, for `make run` (scripts/run.py) and `make prod-local` (scripts/prod_local.py).

Each child runs in its own process group, so the terminal's Ctrl-C reaches the supervisor only. It passes one
signal to each child's main process (django-q2's cluster and gunicorn's arbiter stop their own workers; a second
signal to django-q2's workers is what made its handler fail), waits for them, and reports which child, if any,
stopped by itself.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STOP_WAIT_SECONDS = 30  # longer than a task's `timeout` would be unkind to Ctrl-C; long enough to finish an email


class Supervisor:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.children: dict[str, subprocess.Popen] = {}
        self.stop_signals: dict[str, int] = {}
        self.stop_requested = False
        signal.signal(signal.SIGINT, self._request_stop)
        signal.signal(signal.SIGTERM, self._request_stop)

    def _request_stop(self, signum, frame) -> None:
        self.stop_requested = True

    def start(self, name: str, *args: str, stop_signal: int) -> None:
        """`python args…` as the child `name`, asked to stop with `stop_signal`."""
        self.children[name] = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=self.env, start_new_session=True)
        self.stop_signals[name] = stop_signal

    def running(self) -> bool:
        """Every child runs and no stop was asked for."""
        return not (self.stop_requested or self.exited())

    def exited(self) -> str | None:
        """The name of a child that has stopped by itself, if any."""
        return next((name for name, child in self.children.items() if child.poll() is not None), None)

    def wait_until(self, answers, every: float = 0.2) -> bool:
        """Poll `answers()` until it is true; False if a stop was asked for or a child stopped first."""
        while self.running():
            if answers():
                return True
            time.sleep(every)
        return False

    def supervise(self, start: Callable[[], None]) -> int:
        """Run `start` (it starts the children and says where they answer), then wait for Ctrl-C or SIGTERM (exit
        status 0) or for a child that stops by itself (1). Either way every child is stopped first."""
        stopped_by_itself = None
        try:
            start()
            self.wait_until(lambda: False, every=0.5)
            stopped_by_itself = self.exited()
        finally:
            if self.stop_requested:
                print("\n  Stopping…", flush=True)
            self.stop()
        if stopped_by_itself and not self.stop_requested:
            print(f"  The {stopped_by_itself} stopped by itself; everything else was stopped.", flush=True)
            return 1
        print("  Stopped.", flush=True)
        return 0

    def stop(self) -> None:
        running = {name: child for name, child in self.children.items() if child.poll() is None}
        for name, child in running.items():
            os.kill(child.pid, self.stop_signals[name])
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        for name, child in running.items():
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                print(f"  The {name} did not stop within {STOP_WAIT_SECONDS} s: killed.", flush=True)
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


def status_of(url: str, headers: dict[str, str] | None = None) -> int | None:
    """The HTTP status `url` answers with, or None when nothing answers yet."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None
