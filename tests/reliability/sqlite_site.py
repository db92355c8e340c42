"""`make run`'s processes, started for real on free ports with their own temporary SQLite database."""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.stripe_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def processes_naming(text: str) -> list[int]:
    """Every running process whose environment holds `text` (a database's file or name: one run's processes)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and text.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue  # gone meanwhile, or not ours
    return found


class SqliteSite:
    """A temporary SQLite database and the environment every process of it runs with."""

    def __init__(self, directory: Path):
        self.path = directory / "db.sqlite3"
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "EMAIL_"))}
        self.env = {**inherited, "DATABASE_URL": f"sqlite:///{self.path}", "PYTHONUNBUFFERED": "1"}

    def manage(self, *args: str, **env: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def processes(self) -> list[int]:
        """Every running process that works on this database (its environment names the file)."""
        return processes_naming(str(self.path))


class Launcher:
    """`scripts/run.py` (what `make run` starts) in its own process group, its output in a file."""

    def __init__(self, site: SqliteSite, directory: Path):
        self.site = site
        self.port, self.stripe_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = directory / "run.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    *(
                        sys.executable,
                        "scripts/run.py",
                        "--port",
                        str(self.port),
                        "--stripe-port",
                        str(self.stripe_port),
                    ),
                    *("--state-dir", str(directory / "run")),  # never the developer's own run/
                ],
                cwd=ROOT,
                env=site.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def status_of(self, path: str) -> int | None:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return None

    def wait_for(self, path: str, status: int = 200, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while self.status_of(path) != status:
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, f"{path} never answered {status}:\n{self.output()}"
            time.sleep(0.2)

    def wait_for_output(self, text: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.output():
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, f"never said {text!r}:\n{self.output()}"
            time.sleep(0.2)

    def interrupt(self) -> int:
        """Ctrl-C: the terminal sends SIGINT to the foreground process group."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=60)
