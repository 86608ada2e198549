"""Figure 7 — `pending` and Approve all against the size of the Wholesale group (issue 10).

For Wholesale (group 2, needs approval) sizes of 100, 1 000 and 10 000 members, with 3 and with
100 of them waiting applicants (disabled, registered just now); the other members are enabled
and last changed 30 days ago (a big, quiet group). The demo's Carol and Grace are enabled first,
so the applicants are exactly the seeded ones. In process: the desk over the real 3dcart client
and a ``SandboxStore`` over local HTTP, state in a temporary SQLite file.

Per row: the first start (the ledger's one-time read of the groups that need approval), then
``pending`` twice: with the ledger refreshed less than the cache TTL ago (as it is while the
poller runs), then with a refresh due (the clock moved past the TTL: a quick refresh, one page
of the customers changed in the last day, the cursor left alone); then the "Approve all N"
button of that reply (a full read of what changed since the cursor, then one bulk PUT). The group list is cached throughout. For comparison, the old way — reading every
member of every such group (``CustomerService.pending_applicants(fresh=True)``) — is counted too.
"At 2 req/s" is what the store's rate limit alone makes of those requests on 3dcart.
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from bot import intents as i
from bot.audit import AuditLog
from bot.desk import Desk
from bot.guard import Actor, Guard
from bot.reply import Button
from bot.state.engine import Database
from bot.sandbox.threedcart import SandboxStore
from bot.store.service import CustomerService
from bot.store.threedcart import ThreeDCartClient

from .harness import Options, Result, Row, ms

WHOLESALE = 2
CAROL, GRACE = 3, 7
PENDING_TARGET = 1
APPROVE_TARGET = 3
ADMIN = Actor("UADMIN", "bench")


def _store(members: int, applicants: int) -> SandboxStore:
    sandbox = SandboxStore(port=0).start()
    for cid in (CAROL, GRACE):  # set the demo applicants aside: the seeded ones are all there is
        sandbox._customers[cid]["Enabled"] = True  # noqa: SLF001 — setup, before the bot starts
    quiet = sandbox.add_customers(members - applicants - 1, group_id=WHOLESALE, enabled=True)  # + Bob = members
    old = datetime.now() - timedelta(days=30)
    for cid in quiet + [2, CAROL, GRACE]:
        sandbox.touch(cid, old)
    sandbox.add_customers(applicants, group_id=WHOLESALE, enabled=False)
    return sandbox


def _measure(members: int, applicants: int) -> dict[str, float]:
    sandbox = _store(members, applicants)
    client = ThreeDCartClient(api_url=sandbox.url, secure_url=sandbox.secure_url, private_key=sandbox.private_key,
                              token=sandbox.token, requests_per_second=None, timeout=30.0, total_budget=120.0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(Path(tmp))
            service = CustomerService(client)
            now = [datetime.now().astimezone()]
            desk = Desk(service, Guard({ADMIN.user_id}, set()), AuditLog(db), clock=lambda: now[0])
            figures: dict[str, float] = {}

            sandbox.reset_counts()
            service.pending_applicants(fresh=True)  # the old way, for comparison
            figures["old_requests"] = sandbox.request_count()

            sandbox.reset_counts()
            started = time.perf_counter()
            desk.handle(i.Pending(), ADMIN)  # the first start: the one-time read of the groups
            figures["first_seconds"] = time.perf_counter() - started
            figures["first_requests"] = sandbox.request_count()

            sandbox.reset_counts()
            started = time.perf_counter()
            desk.handle(i.Pending(), ADMIN)  # the ledger was refreshed within the cache TTL (as by the poller)
            figures["cached_seconds"] = time.perf_counter() - started
            figures["cached_requests"] = sandbox.request_count()

            now[0] += timedelta(seconds=service.ttl + 1)  # a refresh is due
            sandbox.reset_counts()
            started = time.perf_counter()
            reply = desk.handle(i.Pending(), ADMIN)
            figures["pending_seconds"] = time.perf_counter() - started
            figures["pending_requests"] = sandbox.request_count()
            button = next(a for c in reply.cards for a in c.actions
                          if isinstance(a, Button) and a.label.startswith(("Approve all", "Approve these")))

            sandbox.reset_counts()
            started = time.perf_counter()
            approved = desk.handle(button.intent, ADMIN)
            figures["approve_seconds"] = time.perf_counter() - started
            figures["approve_requests"] = sandbox.request_count()
            figures["approved"] = float(approved.text.startswith(f"Approved {applicants} applicant"))
            db.close()
            return figures
    finally:
        client.close()
        sandbox.stop()


def run(opts: Options) -> Result:
    result = Result("ledger")
    sizes = (100, 1_000) if opts.quick else (100, 1_000, 10_000)
    for members in sizes:
        for applicants in (3, 100):
            opts.log(f"Wholesale of {members} members, {applicants} applicants")
            f = _measure(members, applicants)
            label = f"Wholesale {members:>6,} members, {applicants:>3} applicants"
            result.rows.append(Row(
                f"{label}: pending, ledger fresh (poller) — store requests (time)",
                f"≤ {PENDING_TARGET}", f"{int(f['cached_requests'])} ({ms(f['cached_seconds'])})",
                f["cached_requests"] <= PENDING_TARGET,
            ))
            result.rows.append(Row(
                f"{label}: pending, refresh due — store requests (time; at 2 req/s)",
                f"≤ {PENDING_TARGET}",
                f"{int(f['pending_requests'])} ({ms(f['pending_seconds'])}; {f['pending_requests'] / 2:.1f} s)",
                f["pending_requests"] <= PENDING_TARGET,
            ))
            result.rows.append(Row(
                f"{label}: Approve all {applicants} — store requests (time; at 2 req/s)",
                f"≤ {APPROVE_TARGET}",
                f"{int(f['approve_requests'])} ({ms(f['approve_seconds'])}; {f['approve_requests'] / 2:.1f} s)",
                f["approve_requests"] <= APPROVE_TARGET and f["approved"] == 1.0,
            ))
            result.notes.append(
                f"ledger {members} / {applicants}: first start {int(f['first_requests'])} requests "
                f"({ms(f['first_seconds'])}, once per database); the old group scan "
                f"{int(f['old_requests'])} requests per pending ({f['old_requests'] / 2:.1f} s at 2 req/s)"
            )
    return result
