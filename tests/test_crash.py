"""The web process SIGKILLed while its store write is in flight (issue 9 items 3 and 7).

``python -m bot serve`` runs as a real subprocess against an external sandbox store and the
fake Slack. The store holds the PUT until the test has killed the bot, then applies it — the
customer is changed and the bot never heard back. A new ``serve`` on the same state
(SQLite in DATA_DIR, or PostgreSQL through DATABASE_URL) settles the row it left "sending":
``history`` shows the change, and Undo works.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from bot.audit import AuditLog
from bot.state.engine import Database

try:
    from slack_helpers import AGENT, SIGNING_SECRET, BOT_TOKEN, Slack, action_for, block_actions, sign, slash_command
    from test_writeahead import JANE, HookedStore
except ImportError:  # pragma: no cover - imported as the tests package
    from tests.slack_helpers import AGENT, SIGNING_SECRET, BOT_TOKEN, Slack, action_for, block_actions, sign, slash_command
    from tests.test_writeahead import JANE, HookedStore

ROOT = Path(__file__).resolve().parents[1]
OURS = ("THREEDCART_", "SLACK_", "BOT_", "STORE_", "CACHE_", "DATA_DIR", "DATABASE_URL", "PORT", "APPROVALS_",
        "AUDIT_", "DENY_", "POLL_", "RUN_POLLER", "UNDO_", "LISTENER_", "LOG_LEVEL", "SETTLE_", "REDIS_URL")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServedProcess:
    """``python -m bot serve`` in a subprocess; quacks like ``BotServer`` for ``Slack``."""

    def __init__(self, env: dict[str, str], store: HookedStore, log: Path) -> None:
        self.port = free_port()
        self.secret = SIGNING_SECRET
        self.sandbox = store
        self._log = log.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=str(log.parent),  # no stray .env
                                     env={**env, "PORT": str(self.port)}, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            assert self.proc.poll() is None, f"serve exited: {log.read_text()[-2000:]}"
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post(self, body: bytes, *, timeout: float = 10) -> requests.Response:
        return requests.post(self.url + "/slack/events", data=body, headers=sign(body, self.secret), timeout=timeout)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


@contextmanager
def serving(env: dict[str, str], store: HookedStore, log: Path) -> Iterator[ServedProcess]:
    bot = ServedProcess(env, store, log)
    try:
        yield bot
    finally:
        bot.stop()


def bot_env(store: HookedStore, fake: Any, data_dir: Path, state_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(OURS)}
    env.update({
        "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": fake.api_url,
        "THREEDCART_API_URL": store.url, "THREEDCART_SECURE_URL": store.secure_url,
        "THREEDCART_PRIVATE_KEY": store.private_key, "THREEDCART_TOKEN": store.token,
        "STORE_REQUESTS_PER_SECOND": "1000", "STORE_TIMEOUT_SECONDS": "1", "SETTLE_SECONDS": "0.5",
        "DATA_DIR": str(data_dir), "DATABASE_URL": state_url, "BOT_ADMINS": "UADMIN", "BOT_AGENTS": AGENT,
        "CACHE_TTL_SECONDS": "0", "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
    })
    return env


def test_sigkill_during_a_write_then_restart_history_shows_it_and_undo_works(fake, tmp_path, state_url):
    store = HookedStore().start()
    put_arrived, release = threading.Event(), threading.Event()

    def hold_the_put() -> None:
        put_arrived.set()
        release.wait(30)

    env = bot_env(store, fake, tmp_path / "data", state_url)
    try:
        with serving(env, store, tmp_path / "serve.log") as bot:
            store.on_write(hold_the_put)
            url = fake.response_url(user=AGENT)
            assert bot.post(slash_command("disable jane@example.com", user_id=AGENT, response_url=url)).status_code == 200
            assert put_arrived.wait(30), "the PUT never reached the store"
            bot.kill()  # SIGKILL while the store holds the PUT
        store.on_write(None)
        release.set()  # the store now applies the PUT nobody waits for
        deadline = time.monotonic() + 20
        while store.customer(JANE)["Enabled"] is not False:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert fake.responses(url) == []  # the killed process never answered

        with serving(env, store, tmp_path / "serve.log") as bot:  # restart on the same state
            slack = Slack(bot, fake)  # type: ignore[arg-type]
            deadline = time.monotonic() + 60
            while True:
                history = str(slack.command("history jane@example.com", AGENT))
                if "disable: enabled → disabled" in history:
                    break
                assert "disable (being checked)" in history  # recorded before it was sent
                assert time.monotonic() < deadline, history
                time.sleep(0.5)
            db = Database(url=state_url)
            [row] = AuditLog(db).history(customer_id=JANE)
            db.close()
            assert (row.action, row.outcome) == ("disable", "done")

            undo = {"type": "button", "action_id": "btn:0:0", "value": f"undo:{row.id}", "text": {"type": "plain_text", "text": "Undo"}}
            answer_url = fake.response_url(user=AGENT)
            body = block_actions(action_for(undo), user_id=AGENT, response_url=answer_url)
            assert bot.post(body).status_code == 200
            answer = fake.wait_response(answer_url, timeout=30).payload
            assert "Undone" in str(answer) and store.customer(JANE)["Enabled"] is True
    finally:
        release.set()
        store.stop()
