"""Figure 5 — store requests for "Approve all" on 100 pending wholesale applicants.

Setup: 100 disabled customers seeded into Wholesale (group 2, which does not auto-approve). The
demo data's Carol (also a pending Wholesale applicant) is counted, so N = 101; Grace (pending in
Distributors, group 4) is set aside — enabled through the store API before the bot starts. The
target is ≤ 3: a fresh read of the customers changed since the last look (the 101 applicants
registered today: one page, plus one request that confirms its end, since a store may cap a
page below the 300 asked) + one bulk PUT, whatever the size of the group.

As a user would: ``/customer pending`` once (this warms the group list and the pending list),
then the sandbox counters are reset and the "Approve all N" button of that reply is clicked via
a signed ``block_actions`` payload built from the reply's blocks. Store requests are counted
when the reply arrives on the response URL (and again 0.5 s later, to catch stragglers).
"""

from __future__ import annotations

import time

import requests

from bot.sandbox.threedcart import SandboxStore

from .harness import (
    ADMIN, Options, Result, Row, action_for, bench_env, block_actions, describe_requests, find_element, ms,
    post_signed, store_requests,
)

APPLICANTS = 100
WHOLESALE = 2
GRACE = 7
TARGET = 3


def _seed(sandbox: SandboxStore, ids: list[int]) -> None:
    ids.extend(sandbox.add_customers(APPLICANTS, group_id=WHOLESALE, enabled=False))
    # Set Grace (pending in Distributors) aside, through the store's own API.
    resp = requests.put(f"{sandbox.url}Customers/{GRACE}", json={"Enabled": True}, timeout=10, headers={
        "SecureURL": sandbox.secure_url, "PrivateKey": sandbox.private_key, "Token": sandbox.token,
    })
    resp.raise_for_status()


def run(opts: Options) -> Result:
    result = Result("approve")
    ids: list[int] = []
    with bench_env(opts, seed=lambda s: _seed(s, ids)) as env:
        sent, _, pending = env.command_and_card("pending", timeout=60)
        button = find_element(pending.payload, label="Approve all")
        label = button["text"]["text"]
        url = env.slack.response_url(user=ADMIN)
        body = block_actions(action_for(button), user_id=ADMIN, response_url=url, message=pending.payload,
                             ephemeral=True)
        env.sandbox.reset_counts()
        clicked = post_signed(env.bot.events_url, body, timeout=30)
        if clicked.status != 200:
            raise RuntimeError(f"the click answered HTTP {clicked.status}: {clicked.body[:200]!r}")
        arrived, reply = env.slack.wait_card(url, timeout=60)
        at_reply = store_requests(env.sandbox)
        time.sleep(0.5)
        after = store_requests(env.sandbox)
        approved = [i for i in ids + [3] if (env.sandbox.customer(i) or {}).get("Enabled")]
        n = len(ids) + 1
    count = len(at_reply)
    result.rows.append(Row(
        f"store requests: \"{label}\" (N={n}: {APPLICANTS} seeded + Carol, all in Wholesale)",
        f"≤ {TARGET}", str(count), count <= TARGET,
    ))
    result.notes.append(
        f"approve: requests until the reply: {describe_requests(at_reply)}"
        + (f"; {len(after) - count} more within 0.5 s" if len(after) != count else "")
        + f"; click→reply {ms(arrived - clicked.sent_at)}; approved in the store {len(approved)}/{n}; "
        f"reply: {reply.payload.get('text', '')[:80]!r}"
    )
    return result
