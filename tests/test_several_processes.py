"""End to end: two web processes (``python -m bot serve``) on one DATA_DIR (or one DATABASE_URL) and one Redis, one
sandbox store started here (the THREEDCART_* settings point at it), the fake Slack; and three
pollers at once. Each test fails without the shared state it is about.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.audit import AuditLog
from bot.db import Database
from bot.state.shared import connect_redis
from bot.sandbox.threedcart import SandboxStore

try:
    from bot_processes import BotProcess, clean_env
    from redis_server import CuttableProxy
    from fake_slack import FakeSlack
    from slack_helpers import (BOT_TOKEN, SIGNING_SECRET, action_for, all_text, block_actions, find_element,
                               sign, slash_command)
except ImportError:  # pragma: no cover
    from tests.bot_processes import BotProcess, clean_env
    from tests.redis_server import CuttableProxy
    from tests.fake_slack import FakeSlack
    from tests.slack_helpers import (BOT_TOKEN, SIGNING_SECRET, action_for, all_text, block_actions,
                                     find_element, sign, slash_command)

ADMINS = [f"UADMIN{n}" for n in range(6)]
APPROVALS = "C0APPROVALS"


@dataclass
class World:
    store: SandboxStore
    fake: FakeSlack
    data_dir: Path
    env: dict[str, str]
    tmp: Path
    processes: list[BotProcess]

    def start(self, kind: str, *extra: str, host: str | None = None, **env: Any) -> BotProcess:
        """Start ``python -m bot <kind>``; ``host`` names a host with a DATA_DIR of its own."""
        log = self.tmp / f"{kind}-{len(self.processes)}.log"
        merged = {**self.env, **{k: str(v) for k, v in env.items()}}
        if host is not None:
            merged["DATA_DIR"] = str(self.tmp / host)
        process = BotProcess.serve(merged, log) if kind == "serve" else BotProcess.poll(merged, log, *extra)
        self.processes.append(process)
        return process

    def command(self, bot: BotProcess, text: str, user: str = ADMINS[0]) -> str:
        """Send ``/customer text`` to ``bot``; the response URL its answer will go to."""
        url = self.fake.response_url(user=user)
        body = slash_command(text, user_id=user, response_url=url)
        assert bot.post(body, sign(body, SIGNING_SECRET)).status_code == 200
        return url

    def answer(self, url: str, timeout: float = 15) -> dict:
        post = self.fake.wait_response(url, timeout=timeout)
        assert post.ok
        return post.payload

    def audit(self, host: str | None = None) -> AuditLog:
        """The audit trail the processes (of ``host``) write: the shared ``DATABASE_URL`` when
        set, else the SQLite file in that host's ``DATA_DIR``."""
        if "DATABASE_URL" in self.env:
            return AuditLog(Database(url=self.env["DATABASE_URL"]))
        return AuditLog(Database(self.tmp / host if host else self.data_dir))


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path, redis_url: str, redis_prefix: str) -> Iterator[World]:
    """Every test runs twice: state in SQLite under the shared ``DATA_DIR`` (each host its own
    file), then in one PostgreSQL database (``DATABASE_URL``) that every process and host shares."""
    state = {"DATABASE_URL": request.getfixturevalue("pg_url")} if request.param == "postgresql" else {}
    store = SandboxStore(port=0, latency=0.2).start()
    fake = FakeSlack().start()
    data_dir = tmp_path / "data"
    env = clean_env(
        **store.credentials(), SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.api_url, DATA_DIR=data_dir, BOT_ADMINS=",".join(ADMINS),
        REDIS_URL=redis_url, REDIS_KEY_PREFIX=redis_prefix, CACHE_TTL_SECONDS=60,
        STORE_REQUESTS_PER_SECOND=50, STORE_BURST=200, STORE_TIMEOUT_SECONDS=5, LOG_LEVEL="INFO",
        **state,
    )
    world = World(store, fake, data_dir, env, tmp_path, [])
    try:
        yield world
    finally:
        for process in world.processes:
            process.stop()
        fake.stop()
        store.stop()
        connect_redis(redis_url, prefix=redis_prefix).delete_prefixed()


def two_web_processes(world: World, hosts: tuple[str, str] | None = None) -> list[BotProcess]:
    bots = [world.start("serve", host=hosts[n] if hosts else None) for n in range(2)]
    for bot in bots:
        bot.wait_healthy()
    return bots


def pending_card(world: World, bot: BotProcess) -> dict:
    return world.answer(world.command(bot, "pending"))


def click(world: World, message: dict, user: str, label: str) -> tuple[str, bytes]:
    url = world.fake.response_url(user=user, source_ts="1700000000.000100")
    body = block_actions(action_for(find_element(message, label=label)), user_id=user, response_url=url,
                         message=message)
    return url, body


# ---------------------------------------------------------------------- clicks


@pytest.mark.parametrize("hosts", [None, ("host-a", "host-b")], ids=["one-data-dir", "two-hosts"])
def test_one_click_delivered_to_both_processes_writes_once(world: World, hosts: tuple[str, str] | None) -> None:
    """On one DATA_DIR, or on two hosts with their own disks: Redis remembers the click."""
    bots = two_web_processes(world, hosts)
    message = pending_card(world, bots[0])
    url, body = click(world, message, ADMINS[0], "Approve")  # Carol, the first applicant
    with ThreadPoolExecutor(2) as pool:
        acks = list(pool.map(lambda bot: bot.post(body, sign(body, SIGNING_SECRET)).status_code, bots))
    assert acks == [200, 200]
    answer = world.answer(url)
    assert "Approved by" in all_text(answer)
    # the positive control: the other process did receive the click, and dropped it as a duplicate
    deadline = time.monotonic() + 15
    while not any("duplicate delivery of a click dropped" in bot.log for bot in bots):
        assert time.monotonic() < deadline, "neither process reported the duplicate"
        time.sleep(0.05)
    assert len(world.fake.responses(url)) == 1
    assert world.store.request_count("PUT") == 1
    shared_trail = hosts is None or "DATABASE_URL" in world.env  # one trail, or one per host's disk
    trails = [world.audit()] if shared_trail else [world.audit(host) for host in hosts]
    done = [e for trail in trails for e in trail.history(customer_id=3) if e.outcome == "done"]
    assert [e.action for e in done] == ["approve"]


def test_six_admins_clicking_approve_at_once_on_two_processes_write_once(world: World) -> None:
    bots = two_web_processes(world)
    message = pending_card(world, bots[0])
    clicks = [click(world, message, admin, "Approve") for admin in ADMINS]  # six different clicks
    start = threading.Barrier(len(clicks))

    def deliver(n: int) -> int:
        start.wait()
        _, body = clicks[n]
        return bots[n % 2].post(body, sign(body, SIGNING_SECRET)).status_code

    with ThreadPoolExecutor(len(clicks)) as pool:
        assert list(pool.map(deliver, range(len(clicks)))) == [200] * len(clicks)
    answers = [all_text(world.answer(url)) for url, _ in clicks]
    assert sum("Approved by" in text for text in answers) == 1, answers
    assert sum("already approved" in text for text in answers) == len(clicks) - 1, answers
    assert world.store.request_count("PUT") == 1
    assert world.store.customer(3)["Enabled"] is True
    done = [e for e in world.audit().history(customer_id=3) if e.outcome == "done"]
    assert len(done) == 1


# ---------------------------------------------------------------------- lookups


def test_twenty_concurrent_lookups_over_both_processes_make_one_store_request(world: World) -> None:
    bots = two_web_processes(world)
    world.store.reset_counts()
    start = threading.Barrier(20)

    def look(n: int) -> str:
        start.wait()
        return world.command(bots[n % 2], "jane@example.com")

    with ThreadPoolExecutor(20) as pool:
        urls = list(pool.map(look, range(20)))
    for url in urls:
        assert "Jane Doe" in all_text(world.answer(url))
    assert world.store.request_count("GET", "/customers") == 1


def test_a_move_through_one_process_shows_in_a_lookup_through_the_other_at_once(world: World) -> None:
    one, two = two_web_processes(world)
    assert "VIP" in all_text(world.answer(world.command(two, "jane@example.com")))  # cached in Redis now
    moved = all_text(world.answer(world.command(one, "move jane@example.com to Wholesale")))
    assert "Wholesale" in moved
    card = world.answer(world.command(two, "jane@example.com"))
    group = next(f for f in _fields(card) if f.startswith("Group\n"))
    assert "Wholesale" in group, group


def _fields(payload: dict) -> list[str]:
    out = []
    for block in payload.get("blocks", []):
        for item in block.get("fields", []) or []:
            out.append(item.get("text", ""))
    return out


# ---------------------------------------------------------------------- pollers


def test_three_pollers_at_once_post_each_applicant_once_and_one_takes_over(world: World) -> None:
    pollers = [world.start("poll", APPROVALS_CHANNEL=APPROVALS, POLL_SECONDS=0.3) for _ in range(3)]
    posts = lambda: [c for c in world.fake.calls("chat.postMessage") if c.params.get("channel") == APPROVALS]  # noqa: E731
    world.fake.wait_for(lambda: len(posts()) >= 2, timeout=30)
    for poller in pollers:
        poller.wait_log("poller lease")
    holders = [p for p in pollers if "holding the poller lease" in p.log]
    assert len(holders) == 1, [p.log[-500:] for p in pollers]
    # the holder keeps polling (positive control) and nobody posts anyone again
    seen = world.store.request_count("GET")
    world.fake.wait_for(lambda: world.store.request_count("GET") >= seen + 3, timeout=20)
    texts = [all_text(c.params) for c in posts()]
    assert len(texts) == 2 and sum("carol@example.com" in t for t in texts) == 1
    assert sum("grace@example.com" in t for t in texts) == 1
    # the holder dies: another poller takes the lease over once it expires
    holders[0].kill()
    others = [p for p in pollers if p is not holders[0]]
    deadline = time.monotonic() + 20
    while not any("holding the poller lease" in p.log for p in others):
        assert time.monotonic() < deadline, "no poller took over"
        time.sleep(0.1)
    assert len(posts()) == 2


def test_run_poller_in_two_web_processes_one_polls_and_each_applicant_is_posted_once(world: World) -> None:
    bots = [world.start("serve", RUN_POLLER="true", APPROVALS_CHANNEL=APPROVALS, POLL_SECONDS=0.3) for _ in range(2)]
    for bot in bots:
        bot.wait_healthy()
        bot.wait_log("poller lease")
    posts = lambda: [c for c in world.fake.calls("chat.postMessage") if c.params.get("channel") == APPROVALS]  # noqa: E731
    world.fake.wait_for(lambda: len(posts()) >= 2, timeout=30)
    assert sum("holding the poller lease" in bot.log for bot in bots) == 1
    seen = world.store.request_count("GET")
    world.fake.wait_for(lambda: world.store.request_count("GET") >= seen + 3, timeout=20)  # still polling
    assert len(posts()) == 2
    once = world.start("poll", "--once", APPROVALS_CHANNEL=APPROVALS)
    assert once.wait_exit() == 0
    assert "another poller holds the poller lease" in once.log
    assert len(posts()) == 2


# ---------------------------------------------------------------------- Redis goes away


def test_redis_down_lookups_still_answer_and_writes_fail_closed(world: World, redis_url: str) -> None:
    proxy = CuttableProxy(redis_url).up()
    bot = world.start("serve", REDIS_URL=proxy.url)
    try:
        bot.wait_healthy()
        assert "VIP" in all_text(world.answer(world.command(bot, "jane@example.com")))
        proxy.down()
        world.store.reset_counts()
        refused = all_text(world.answer(world.command(bot, "move jane@example.com to Wholesale")))
        assert "can't take the write lock" in refused and "nothing was changed" in refused, refused
        assert world.store.request_count("PUT") == 0 and world.store.customer(1)["CustomerGroupID"] == 1
        for _ in range(3):  # lookups answer from the store, the outage is logged once
            assert "Jane Doe" in all_text(world.answer(world.command(bot, "jane@example.com")))
        assert world.store.request_count("GET", "/customers") >= 1
        assert bot.log.count("Redis unavailable") == 1
        assert "Traceback" not in bot.log
        proxy.up()  # Redis is back: writes work again once the bot looks again (positive control)
        deadline = time.monotonic() + 20
        while True:
            moved = all_text(world.answer(world.command(bot, "move jane@example.com to Wholesale")))
            if "write lock" not in moved:
                break
            assert time.monotonic() < deadline, moved
            time.sleep(0.5)
        assert world.store.customer(1)["CustomerGroupID"] == 2
    finally:
        proxy.down()
