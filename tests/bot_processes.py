"""The bot as separate OS processes (``python -m bot serve | poll``, gunicorn), for tests of
several processes: each configured only by environment variables, logs in a file.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**settings: Any) -> dict[str, str]:
    """Only what is given (plus PATH and friends): nothing from the developer's environment."""
    env = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
    env.update({k: str(v) for k, v in settings.items() if v is not None})
    return env


class BotProcess:
    """One process of the bot. ``log`` is its stderr + stdout so far."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path, *, port: int | None = None) -> None:
        self.args = args
        self.env = env
        self.port = port
        self.log_path = log_path
        self._log_file = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=self._log_file, stderr=subprocess.STDOUT)

    @classmethod
    def serve(cls, env: dict[str, str], log_path: Path) -> BotProcess:
        port = free_port()
        return cls([sys.executable, "-m", "bot", "serve"], {**env, "PORT": str(port)}, log_path, port=port)

    @classmethod
    def gunicorn(cls, env: dict[str, str], log_path: Path, *extra: str, config: bool = True) -> BotProcess:
        port = free_port()
        args = [sys.executable, "-m", "gunicorn"]
        if config:
            args += ["--config", "python:bot.slack.gunicorn_conf"]
        args += ["--worker-class", "gthread", "--threads", "8", "--bind", f"127.0.0.1:{port}", *extra,
                 "bot.slack.web:create_wsgi_app()"]
        return cls(args, env, log_path, port=port)

    @classmethod
    def poll(cls, env: dict[str, str], log_path: Path, *extra: str) -> BotProcess:
        return cls([sys.executable, "-m", "bot", "poll", *extra], env, log_path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        self._log_file.flush()
        return self.log_path.read_text(errors="replace")

    def wait_healthy(self, timeout: float = 30) -> BotProcess:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.args[2:4]} exited with {self.process.returncode}:\n{self.log[-3000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"not healthy after {timeout}s:\n{self.log[-3000:]}")
            time.sleep(0.1)

    def wait_exit(self, timeout: float = 30) -> int:
        return self.process.wait(timeout=timeout)

    def wait_log(self, text: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not logged within {timeout}s:\n{self.log[-3000:]}")
            time.sleep(0.05)

    def post(self, body: bytes, headers: dict[str, str]) -> requests.Response:
        return requests.post(self.url + "/slack/events", data=body, headers=headers, timeout=10)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log_file.close()
