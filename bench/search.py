"""Figure 8 — a search (``/customer Jane Doe``, a phone number, a company) on a store of 5 000.

How: a sandbox store with 5 000 generated customers (``SandboxStore.add_people``: varied names,
accents, companies, phone numbers in six spellings) served over local HTTP; the bot's own
``CustomerService`` + ``ThreeDCartClient`` and ``Desk``, as ``build_runtime`` wires them, in this
process, with the client-side limiter opened up (1 000/s, as in the other benchmarks) so the
figure is the bot's and the store's time, not the budget's: with the default 2 requests/s and a
burst of 40, a search's 3 requests come out of the burst (about 13 searches in a row), then
pace at 1.5 s per search. For a sample of
customers it runs ``desk.handle(parse(text))`` for their full name, the name in the other order,
their phone number as stored and one word of their company, each on a cold search cache (the
group list stays cached, as in a running bot), and counts the store requests in the sandbox's
log. Then the same searches again within the cache TTL (warm). Times are the desk call: parse
excluded, store round trips, ranking and the reply included.

Run twice: store latency 0 (the bot's own cost) and 0.1 s per request (a nearby real store; the
three requests of a search go out together, so a cold search costs about one round trip).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .harness import Options, Result

CUSTOMERS = 5_000
SAMPLE = 20
QUICK_SAMPLE = 5
LATENCIES = (0.0, 0.1)


def _texts(store, sample: int) -> list[str]:
    texts = []
    step = CUSTOMERS // sample
    for customer_id in range(step, CUSTOMERS + 1, step):
        record = store.customer(customer_id)
        first, last = record["BillingFirstName"], record["BillingLastName"]
        texts += [f"{first} {last}", f"{last} {first}"]
        if record["BillingPhoneNumber"]:
            texts.append(record["BillingPhoneNumber"])
        if record["BillingCompany"]:
            texts.append(record["BillingCompany"].split(" ")[0])
    return texts


def run(opts: "Options") -> "Result":
    from bot import intents
    from bot.audit import AuditLog
    from bot.db import Database
    from bot.desk import Desk
    from bot.guard import Actor, Guard
    from bot.sandbox.threedcart import SandboxStore
    from bot.store.service import CustomerService
    from bot.store.threedcart import ThreeDCartClient

    from .harness import Result, Row, ms, percentile

    result = Result("search")
    store = SandboxStore(port=0, seed_demo=False).start()
    try:
        store.add_people(CUSTOMERS)
        store.add_group("Wholesale", AutoApprove=False)
        texts = _texts(store, QUICK_SAMPLE if opts.quick else SAMPLE)
        client = ThreeDCartClient(store.url, store.secure_url, store.private_key, store.token,
                                  requests_per_second=1000, burst=1000)
        service = CustomerService(client)
        desk = Desk(service, Guard(set(), set()), AuditLog(Database(Path(tempfile.mkdtemp(prefix="bench-search-")))))
        viewer = Actor("UBENCH", "bench")
        service.groups()  # the group list is cached in a running bot
        for latency in LATENCIES:
            store.latency = latency
            cold, warm, counts, kinds = [], [], [], {"card": 0, "list": 0, "none": 0}
            for text in texts:
                intent = intents.parse(text)
                service.clear()
                service.groups()
                store.reset_counts()
                t0 = time.perf_counter()
                reply = desk.handle(intent, viewer)
                cold.append(time.perf_counter() - t0)
                counts.append(sum(1 for r in store.requests if "customergroups" not in r.path.lower()))
                kinds["none" if not reply.cards else "list" if reply.cards[0].rows else "card"] += 1
                t0 = time.perf_counter()
                desk.handle(intent, viewer)
                warm.append(time.perf_counter() - t0)
            label = f"store {latency * 1000:.0f} ms/request"
            result.rows.append(Row(f"store requests per search, {CUSTOMERS} customers ({len(texts)} searches, {label})",
                                   "≤ 3", f"max {max(counts)}, mean {sum(counts) / len(counts):.2f}", max(counts) <= 3))
            result.rows.append(Row(f"search time cold / warm, p50 (p90), {CUSTOMERS} customers, {label}", "printed",
                                   f"{ms(percentile(cold, 50))} ({ms(percentile(cold, 90))}) / "
                                   f"{ms(percentile(warm, 50))} ({ms(percentile(warm, 90))})", None))
            result.notes.append(f"search/{label}: answers {kinds['card']} cards, {kinds['list']} lists, "
                                f"{kinds['none']} none; texts: names both orders, phones as stored, a company word")
        client.close()
    finally:
        store.stop()
    return result


if __name__ == "__main__":  # pragma: no cover
    from .harness import Options

    outcome = run(Options())
    for row in outcome.rows:
        print(f"{row.figure}: {row.measured} (target {row.target})")
    for note in outcome.notes:
        print(note)
