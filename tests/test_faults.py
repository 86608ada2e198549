"""Faults end to end, over real local HTTP: signed Slack requests → the bot → a sandbox store that
misbehaves on purpose, and a fake Slack that refuses calls on purpose.

For each user action — a lookup, a move, a toggle, a delete, and approvals (the Approve button,
Approve all, the ``approve`` command) — and each store fault (500s, 429 + Retry-After, a hang past
the timeout, connection refused, 401, a 400 carrying the store's words, a bulk PUT failing for
some records), every case checks the same things:

* it ends within ``BOUND`` seconds, in the right result or a clear message;
* reads are retried; a write is retried only when the store refused it with 429 (it did nothing
  with it): exactly as many PUT/DELETE requests are *accepted* by the store as the action needs
  (one, or none when it never got that far) — never two;
* ``/healthz`` still answers 200;
* no secret (signing secret, bot token, the store's SecureURL / PrivateKey / Token) appears in
  any log line (captured at DEBUG, every logger, every thread) or anything Slack received.

The store here is not the bot's embedded sandbox: the bot is pointed at a ``SandboxStore`` with
recognisable secret credentials through the ``THREEDCART_*`` settings, as in production.

The Slack side: a Web API call that fails (``invalid_blocks``, ``ratelimited`` past the client's
retries, ``message_not_found`` for a message that is gone) is logged with Slack's error code and
the user still gets the answer through the next path (response_url, then ``chat.postEphemeral``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.sandbox.threedcart import CONTROL_PATH, SandboxRequest, SandboxStore

try:
    from fake_slack import FakeSlack
    from slack_helpers import (
        ADMIN, AGENT, VIEWER, BotServer, Slack, all_text, assert_valid_message, check_everything_sent,
        find_element, slash_command,
    )
except ImportError:  # pragma: no cover - run as a package
    from tests.fake_slack import FakeSlack
    from tests.slack_helpers import (
        ADMIN, AGENT, VIEWER, BotServer, Slack, all_text, assert_valid_message, check_everything_sent,
        find_element, slash_command,
    )

pytestmark = pytest.mark.timeout(30)

BOUND = 15.0
"""Seconds within which every case must end (its answer delivered), whatever the store does."""

JANE, CAROL, DAVE, GRACE = 1, 3, 4, 7
WHOLESALE = 2

# Recognisable secrets: any of these (or their distinctive cores) anywhere in a log line or in
# what Slack received is a leak.
STORE_SECURE_URL = "https://secret-su-5b2e9d41.3dcartstores.com"
STORE_PRIVATE_KEY = "SECRET-PK-1f3a9c0e7d"
STORE_TOKEN = "SECRET-TK-84b2d61a0f"
SIGNING_SECRET = "SECRET-SS-0d9e8f7a6b5c"
BOT_TOKEN = "xoxb-SECRET-BT-3e4f5a6b7c"
SECRETS = (STORE_SECURE_URL, STORE_PRIVATE_KEY, STORE_TOKEN, SIGNING_SECRET, BOT_TOKEN,
           "secret-su-5b2e9d41", "1f3a9c0e7d", "84b2d61a0f", "0d9e8f7a6b5c", "3e4f5a6b7c")

STORE_WORDS = "CustomerGroupID is invalid"
STORE_400 = json.dumps([{"Message": STORE_WORDS}])
CREDENTIAL_SETTINGS = ("THREEDCART_SECURE_URL", "THREEDCART_PRIVATE_KEY", "THREEDCART_TOKEN")
UNCERTAIN = ("can't tell whether the change was saved", "may not have been saved")
"""How the bot says a write may or may not have happened (either wording)."""
NOTHING_CHANGED = "Nothing was changed"
WRITES = ("PUT", "POST", "DELETE")


# ------------------------------------------------------------------------------ the environment


class Store(SandboxStore):
    """The sandbox with secret-looking credentials, plus one knob: aim a fault at the next write.

    ``at_next_write(arm)`` runs ``arm(store)`` right before the next PUT/POST/DELETE is served, so
    a fault it queues (``fail_next``, ``hang_next``, …) hits that write and not the reads the bot
    makes first. Requests in these tests are sequential, so nothing else can take the fault.
    """

    def __init__(self) -> None:
        super().__init__(port=0, secure_url=STORE_SECURE_URL, private_key=STORE_PRIVATE_KEY, token=STORE_TOKEN)
        self._aimed: deque[Callable[[SandboxStore], None]] = deque()
        self._aim_lock = threading.Lock()
        self.refused_writes = 0
        """Writes answered 429: refused before the store did anything (the client may retry those)."""

    def at_next_write(self, arm: Callable[[SandboxStore], None]) -> None:
        with self._aim_lock:
            self._aimed.append(arm)

    def handle(self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes) -> Any:
        if method in WRITES and path.rstrip("/").lower() != CONTROL_PATH:
            with self._aim_lock:
                arm = self._aimed.popleft() if self._aimed else None
            if arm is not None:
                arm(self)
        reply = super().handle(method, path, query, headers, body)
        if method in WRITES and reply.status == 429:
            with self._aim_lock:
                self.refused_writes += 1
        return reply

    def reset_counts(self) -> None:
        super().reset_counts()
        with self._aim_lock:
            self.refused_writes = 0

    def writes(self) -> list[SandboxRequest]:
        """Write requests that reached the store since ``reset_counts`` (429-refused ones included)."""
        return [r for r in self.requests if r.method in WRITES]

    def accepted_writes(self) -> int:
        """Write requests the store did not refuse with 429: each one may have changed something."""
        return len(self.writes()) - self.refused_writes


class Player(Slack):
    """``Slack`` for a bot on an external store (``BotServer.sandbox`` is the embedded one)."""

    def __init__(self, bot: BotServer, fake: FakeSlack, store: Store) -> None:
        super().__init__(bot, fake)
        self._store = store

    @property
    def store(self) -> Store:
        return self._store


@dataclass
class Env:
    slack: Player
    store: Store
    bot: BotServer
    fake: FakeSlack


def leaks(caplog: pytest.LogCaptureFixture, fake: FakeSlack) -> list[str]:
    """Secrets found in any captured log record (every phase, tracebacks included) or in
    anything the fake Slack received (Web API parameters and response URL posts)."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    records = [*caplog.get_records("setup"), *caplog.get_records("call"), *caplog.records]
    logged = "\n".join(formatter.format(r) for r in records)
    received = json.dumps([c.params for c in fake.calls()] + [r.payload for r in fake.responses()], default=str)
    return [f"{s!r} in {where}" for s in SECRETS for where, text in (("logs", logged), ("Slack", received)) if s in text]


@pytest.fixture
def make_env(tmp_path: Any, caplog: pytest.LogCaptureFixture) -> Iterator[Callable[..., Env]]:
    """Build the bot on a secret-credential ``Store`` (keywords: settings overrides); afterwards
    no secret may be in any log line or anything Slack received, and every message was valid."""
    caplog.set_level(logging.DEBUG)
    made: list[Env] = []
    with FakeSlack(token=BOT_TOKEN) as fake:

        def build(**settings: Any) -> Env:
            assert not made, "one bot per test"
            store = Store().start()
            options = {
                "threedcart_api_url": store.url, "threedcart_secure_url": STORE_SECURE_URL,
                "threedcart_private_key": STORE_PRIVATE_KEY, "threedcart_token": STORE_TOKEN,
                "slack_bot_token": BOT_TOKEN, "store_timeout_seconds": 2.0,
                # no client-side pacing: the faults under test are the store's, not the limiter's
                "store_requests_per_second": 1000.0, "store_burst": 1000, **settings,
            }
            try:
                bot = BotServer(fake, tmp_path, admins=ADMIN, agents=AGENT, signing_secret=SIGNING_SECRET,
                                **options).__enter__()
            except BaseException:
                store.stop()
                raise
            env = Env(Player(bot, fake, store), store, bot, fake)
            made.append(env)
            return env

        try:
            yield build
        finally:
            for env in made:
                env.bot.__exit__(None, None, None)
                env.store.stop()
        check_everything_sent(fake)
        found = leaks(caplog, fake)
        assert not found, "secrets leaked: " + "; ".join(found)


def test_the_environment_really_uses_the_secret_store(make_env: Callable[..., Env]) -> None:
    env = make_env()
    assert env.bot.runtime.store.sandbox is None  # not the embedded store
    assert env.bot.get("/healthz").json() == {"ok": True, "store": "3dcart", "backend": "threedcart"}
    assert "Jane Doe" in all_text(env.slack.command("jane@example.com", VIEWER))
    assert env.store.request_count() > 0


# ------------------------------------------------------------------------------ the actions


@dataclass(frozen=True)
class Op:
    """One user action: ``prepare`` (unfaulted: warms up, returns what ``act`` needs), ``act``
    (the faulted step, returns the bot's answer), ``done`` (its effect is in the store)."""

    name: str
    write: str | None
    prepare: Callable[[Player], Any]
    act: Callable[[Player, Any], dict]
    done: Callable[[Store], bool]
    success: str


def _pending(slack: Player) -> dict:
    pending = slack.command("pending", ADMIN)
    assert find_element(pending, label="Approve")["value"] == f"appr:{CAROL}"  # Carol's card comes first
    return pending


def _enabled(store: Store, *ids: int) -> bool:
    return all(store.customer(i)["Enabled"] is True for i in ids)


OPS = [
    Op("lookup", None, lambda s: None,
       lambda s, _: s.command("lookup jane@example.com", VIEWER),
       lambda store: True, "Jane Doe (jane@example.com)"),
    Op("move", "PUT", lambda s: None,
       lambda s, _: s.command("move jane@example.com to Wholesale", AGENT),
       lambda store: store.customer(JANE)["CustomerGroupID"] == WHOLESALE, "Moved Jane Doe from VIP to Wholesale"),
    Op("toggle", "PUT", lambda s: s.command("jane@example.com", AGENT),
       lambda s, card: s.click(card, AGENT, label="Disable"),
       lambda store: store.customer(JANE)["Enabled"] is False, "Jane Doe is now disabled"),
    Op("delete", "DELETE", lambda s: s.command("delete dave@example.com", ADMIN),
       lambda s, confirm: s.click(confirm, ADMIN, label="Yes, delete"),
       lambda store: store.customer(DAVE) is None, "Deleted Dave Kim"),
    Op("approve-button", "PUT", _pending,
       lambda s, pending: s.click(pending, ADMIN, label="Approve"),
       lambda store: _enabled(store, CAROL), "Approved by @uadmin: Carol Reyes"),
    Op("approve-all", "PUT", _pending,
       lambda s, pending: s.click(pending, ADMIN, label="Approve all"),
       lambda store: _enabled(store, CAROL, GRACE), "Approved 2 applicants"),
    Op("approve-command", "PUT", lambda s: None,
       lambda s, _: s.command("approve carol@example.com", ADMIN),
       lambda store: _enabled(store, CAROL), "Approved by @uadmin: Carol Reyes"),
]
WRITE_OPS = [op for op in OPS if op.write]


# ------------------------------------------------------------------------------ the faults


@dataclass(frozen=True)
class Fault:
    """A store fault. ``arm`` runs after ``prepare`` and before ``act``. ``ok``: the action still
    succeeds; otherwise ``expect(op, text)`` checks the answer. ``writes(op)``: write requests the
    store accepts (not 429-refused); ``refused``: write requests it refuses with 429."""

    name: str
    arm: Callable[[Store], None]
    ok: bool
    expect: Callable[[Op, str], None] = lambda op, text: None
    writes: Callable[[Op], int] = lambda op: 1 if op.write else 0
    refused: int = 0
    timeout: float = 2.0
    min_seconds: float = 0.0


def _rotate_token(store: SandboxStore) -> None:
    store.token = "rotated-in-the-store-admin"  # the store no longer accepts the bot's token


def says(*words: str) -> Callable[[Op, str], None]:
    def check(op: Op, text: str) -> None:
        for word in words:
            assert word in text, f"{word!r} not in {text!r}"
    return check


def says_uncertain(op: Op, text: str) -> None:
    """The write reached the store and failed oddly: the bot must not claim either outcome."""
    assert any(u in text for u in UNCERTAIN), text
    assert NOTHING_CHANGED not in text, text


def says_no_answer(op: Op, text: str) -> None:
    if op.write is None:
        assert "store is not answering" in text, text
    else:  # exact wording: test_a_write_that_never_reached_the_store_says_nothing_was_changed
        assert "store" in text and "answer" in text, text


CREDENTIALS = says("An admin should check", *CREDENTIAL_SETTINGS)
STORE_REFUSED = says(f"The store refused that: {STORE_WORDS}", NOTHING_CHANGED)

READ_FAULTS = [  # hit the first requests of the action (reads): every action starts with one
    Fault("500x2", lambda s: s.fail_next(2, 500), ok=True),
    Fault("429-retry-after", lambda s: s.rate_limit_next(1, retry_after=1), ok=True, min_seconds=0.9),
    Fault("hang", lambda s: s.hang_next(50, seconds=5), ok=False, expect=says_no_answer,
          writes=lambda op: 0, timeout=0.5),
    Fault("refused", lambda s: s.stop(), ok=False, expect=says_no_answer, writes=lambda op: 0, timeout=0.5),
    Fault("401", _rotate_token, ok=False, expect=CREDENTIALS, writes=lambda op: 0),
    Fault("400", lambda s: s.fail_next(1, 400, body=STORE_400), ok=False, expect=STORE_REFUSED, writes=lambda op: 0),
]

WRITE_FAULTS = [  # hit the write itself, after the fresh re-read succeeded
    Fault("500-on-write", lambda s: s.at_next_write(lambda t: t.fail_next(1, 500)), ok=False, expect=says_uncertain),
    # A 429 means the store did nothing: the write is sent again once Retry-After has passed.
    Fault("429-on-write", lambda s: s.at_next_write(lambda t: t.rate_limit_next(1, retry_after=1)), ok=True,
          refused=1, min_seconds=0.9),
    Fault("429-beyond-budget-on-write", lambda s: s.at_next_write(lambda t: t.rate_limit_next(1, retry_after=30)),
          ok=False, expect=says("rate limited", NOTHING_CHANGED), writes=lambda op: 0, refused=1),
    Fault("hang-on-write", lambda s: s.at_next_write(lambda t: t.hang_next(1, seconds=5)), ok=False,
          expect=says_uncertain, timeout=0.5),
    Fault("401-on-write", lambda s: s.at_next_write(_rotate_token), ok=False, expect=CREDENTIALS),
    Fault("400-on-write", lambda s: s.at_next_write(lambda t: t.fail_next(1, 400, body=STORE_400)), ok=False,
          expect=STORE_REFUSED),
]

CASES = [pytest.param(op, f, id=f"{op.name}-{f.name}") for f in READ_FAULTS for op in OPS]
CASES += [pytest.param(op, f, id=f"{op.name}-{f.name}") for f in WRITE_FAULTS for op in WRITE_OPS]


def run(env: Env, op: Op, arm: Callable[[Store], None]) -> tuple[dict, float, list[SandboxRequest]]:
    """Prepare, arm the fault, act: (the answer, seconds it took, write requests during ``act``)."""
    prepared = op.prepare(env.slack)
    env.store.reset_counts()
    arm(env.store)
    started = time.monotonic()
    answer = op.act(env.slack, prepared)
    elapsed = time.monotonic() - started
    return answer, elapsed, env.store.writes()


@pytest.mark.parametrize("op, fault", CASES)
def test_store_fault(make_env: Callable[..., Env], op: Op, fault: Fault) -> None:
    env = make_env(store_timeout_seconds=fault.timeout)
    answer, elapsed, writes = run(env, op, fault.arm)
    text = all_text(answer)

    assert fault.min_seconds <= elapsed < BOUND, f"took {elapsed:.2f}s"
    assert "Traceback" not in text and "Something went wrong" not in text
    described = [f"{w.method} {w.path}" for w in writes]
    assert env.store.accepted_writes() == fault.writes(op), described
    assert env.store.refused_writes == (fault.refused if op.write else 0), described
    if op.write:
        assert len({(w.method, w.path) for w in writes}) <= 1, described  # one write, maybe resent after a 429
        assert all(w.method == op.write for w in writes)
    if fault.ok:
        assert op.success in text
        assert op.done(env.store)
    else:
        fault.expect(op, text)
        assert op.success not in text
        if fault.name != "hang-on-write":  # a hung write is applied by the store later: unknown
            assert not op.done(env.store) or op.write is None
    assert env.bot.get("/healthz").status_code == 200


def test_reads_are_retried_and_the_retries_reach_the_store(make_env: Callable[..., Env]) -> None:
    env = make_env()
    env.store.fail_next(2, 500)
    env.store.reset_counts()
    assert "Jane Doe" in all_text(env.slack.command("lookup jane@example.com", VIEWER))
    first = [r for r in env.store.requests if r.method == "GET"][:3]
    assert len(first) == 3 and len({(r.path, tuple(sorted(r.query.items()))) for r in first}) == 1  # one read, 3 tries


def test_a_persistent_500_ends_in_time_with_nothing_written(make_env: Callable[..., Env]) -> None:
    env = make_env()
    card = env.slack.command("jane@example.com", AGENT)
    env.store.fail_next(50, 500)
    env.store.reset_counts()
    started = time.monotonic()
    answer = env.slack.click(card, AGENT, label="Disable")
    assert time.monotonic() - started < BOUND
    assert "store" in all_text(answer) and env.store.writes() == []
    assert env.store.customer(JANE)["Enabled"] is True


@pytest.mark.parametrize("status", [400, 500])
def test_approve_all_names_who_failed(make_env: Callable[..., Env], status: int) -> None:
    env = make_env()
    pending = _pending(env.slack)
    env.store.fail_ids([CAROL], status)
    env.store.reset_counts()
    answer = env.slack.click(pending, ADMIN, label="Approve all")
    text = all_text(answer)
    assert "Approved 1 applicant" in text and "1 applicant could not be approved" in text
    assert "✓ Grace Lin (grace@example.com)" in text
    assert "✗ Carol Reyes (carol@example.com): Simulated failure" in text
    assert [(w.method, w.path.rsplit("/", 1)[-1]) for w in env.store.writes()] == [("PUT", "Customers")]  # one bulk PUT
    assert env.store.customer(GRACE)["Enabled"] is True and env.store.customer(CAROL)["Enabled"] is False
    assert env.bot.get("/healthz").status_code == 200


def test_a_single_record_failure_shows_the_store_words(make_env: Callable[..., Env]) -> None:
    env = make_env()
    env.store.fail_ids([CAROL], 400)
    env.store.reset_counts()
    text = all_text(env.slack.command("approve carol@example.com", ADMIN))
    assert "The store refused that: Simulated failure (sandbox fail_ids)" in text and NOTHING_CHANGED in text
    assert len(env.store.writes()) == 1 and env.store.customer(CAROL)["Enabled"] is False


# ------------------------------------------------------------------------------ bugs, pinned


NEVER_SENT = [
    pytest.param(op, f, id=f"{op.name}-{f.name}")
    for f in [*READ_FAULTS, Fault("500-persistent", lambda s: s.fail_next(50, 500), ok=False)]
    if f.name in ("refused", "hang", "500-persistent")
    for op in WRITE_OPS if f.name == "refused" or op.name == "toggle"
]


@pytest.mark.parametrize("op, fault", NEVER_SENT)
def test_a_write_that_never_reached_the_store_says_nothing_was_changed(
        make_env: Callable[..., Env], op: Op, fault: Fault) -> None:
    env = make_env(store_timeout_seconds=fault.timeout)
    answer, _, writes = run(env, op, fault.arm)
    assert writes == []  # nothing was sent: the bot knows nothing was changed
    text = all_text(answer)
    assert not any(u in text for u in UNCERTAIN)
    assert "store is not answering" in text and NOTHING_CHANGED in text


def test_the_store_words_are_not_followed_by_a_double_period(make_env: Callable[..., Env]) -> None:
    env = make_env()
    env.store.fail_ids([CAROL], 400)
    text = all_text(env.slack.command("approve carol@example.com", ADMIN))
    assert "Simulated failure (sandbox fail_ids)" in text
    assert ".." not in text


# ------------------------------------------------------------------------------ the Slack side


def warnings_with(caplog: pytest.LogCaptureFixture, *words: str) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.WARNING and all(w in r.getMessage() for w in words)]


@pytest.mark.parametrize("error, times", [("invalid_blocks", 1), ("message_not_found", 1), ("ratelimited", 3)])
def test_a_failed_chat_update_is_logged_with_its_code_and_answered_through_response_url(
        make_env: Callable[..., Env], caplog: pytest.LogCaptureFixture, error: str, times: int) -> None:
    """``ratelimited`` 3 times: the client's two 429 retries are used up before it gives up."""
    env = make_env()
    # a decision on a channel message is what updates it in place (anything else answers privately)
    pending = env.slack.command("pending", ADMIN)
    ts = env.fake.add_message("C0TEST", pending)
    env.fake.fail_next("chat.update", error, times=times, retry_after=1)
    url, body = env.slack.click_body(pending, ADMIN, label="Approve", ephemeral=False, message_ts=ts)
    started = time.monotonic()
    assert env.bot.post(body).status_code == 200
    post = env.fake.wait_response(url, timeout=BOUND)
    assert time.monotonic() - started < BOUND
    assert post.ok and post.payload["replace_original"] is True
    assert "Approved by" in all_text(post.payload)
    assert [c.error for c in env.fake.calls("chat.update")] == [error] * times
    env.fake.wait_for(lambda: warnings_with(caplog, "chat.update failed", f"({error})"))
    assert len(env.store.writes()) == 1  # the answer failing is no reason to write again


def test_an_expired_response_url_falls_back_to_an_ephemeral_message(
        make_env: Callable[..., Env], caplog: pytest.LogCaptureFixture) -> None:
    env = make_env()
    gone = env.fake.base_url + "/response/RGONE"  # the fake answers 404, like an expired response_url
    assert env.bot.post(slash_command("jane@example.com", user_id=AGENT, response_url=gone)).status_code == 200
    call = env.fake.wait_for(lambda: env.fake.calls("chat.postEphemeral"))[0]
    assert call.ok and call.params["user"] == AGENT and call.params["channel"] == "C0TEST"
    assert_valid_message(call.params)
    assert "Jane Doe" in all_text(call.params)
    assert warnings_with(caplog, "response_url answered 404")


def test_when_every_path_fails_the_failure_is_logged_and_the_bot_keeps_serving(
        make_env: Callable[..., Env], caplog: pytest.LogCaptureFixture) -> None:
    env = make_env()
    env.fake.fail_next("chat.postEphemeral", "ratelimited", times=3, retry_after=1)
    gone = env.fake.base_url + "/response/RGONE"
    assert env.bot.post(slash_command("jane@example.com", user_id=AGENT, response_url=gone)).status_code == 200
    env.fake.wait_for(lambda: warnings_with(caplog, "fallback post failed", "ratelimited"), timeout=BOUND)
    assert [c.error for c in env.fake.calls("chat.postEphemeral")] == ["ratelimited"] * 3
    assert env.bot.get("/healthz").status_code == 200
    assert "Jane Doe" in all_text(env.slack.command("jane@example.com", AGENT))  # still serving


def test_a_rate_limited_audit_post_is_logged_and_the_user_still_gets_the_answer(
        make_env: Callable[..., Env], caplog: pytest.LogCaptureFixture) -> None:
    env = make_env(audit_channel="CAUDIT")
    env.fake.fail_next("chat.postMessage", "ratelimited", times=3, retry_after=1)
    assert "Jane Doe is now disabled" in all_text(env.slack.command("disable jane@example.com", AGENT))
    env.fake.wait_for(lambda: warnings_with(caplog, "chat.postMessage to CAUDIT failed: ratelimited"), timeout=BOUND)
    assert len(env.store.writes()) == 1


def test_a_decision_on_an_applicant_whose_channel_message_is_gone(
        make_env: Callable[..., Env], caplog: pytest.LogCaptureFixture) -> None:
    """The approvals-channel message was deleted (or is otherwise gone): the update fails with
    ``message_not_found``, which is logged; the approver still gets the answer."""
    from bot.slack.approvals_channel import approvals_poller

    env = make_env(approvals_channel="CAPPROVALS")
    poller = approvals_poller(env.bot.runtime, env.bot.wsgi.app.client)
    assert poller is not None
    poller.poll_once()
    posted = {ts for (channel, ts) in env.fake.messages if channel == "CAPPROVALS"}
    carol_ts = next(ts for ts in posted if "carol@example.com" in all_text(env.fake.messages[("CAPPROVALS", ts)]))
    del env.fake.messages[("CAPPROVALS", carol_ts)]

    answer = env.slack.command("approve carol@example.com", ADMIN)
    assert "Approved by @uadmin: Carol Reyes" in all_text(answer)
    assert env.store.customer(CAROL)["Enabled"] is True
    env.fake.wait_for(lambda: warnings_with(caplog, f"chat.update of CAPPROVALS/{carol_ts} failed: message_not_found"))
