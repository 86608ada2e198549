"""The ``find`` use case: a search text → the customer's card, a list to pick from, or a
sentence that says what was searched and what else to try.

The desk dispatches ``Find`` here (and the message shortcut its phone numbers). Matching and
ranking are :mod:`bot.finder`'s; the store requests go through
``CustomerService.search_customers`` (cached, single-flight, at most three requests). One rule
above all: a card is shown only when exactly one customer matches — a text that matches
several gets the list, never one of them picked for the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import finder
from .. import intents as i
from ..guard import Actor
from ..reply import Button, Card, Notice, Reply, Row
from ..store.models import Customer
from ..store.service import SearchAnswer
from .cards import customer_card
from .wording import clip, display_name

if TYPE_CHECKING:  # the desk imports this module
    from .core import Desk

PAGE = 10
"""Results per page of the list (each is one Block Kit section)."""


@dataclass(frozen=True)
class Outcome:
    query: finder.Query
    plan: finder.Plan
    answer: SearchAnswer
    matches: list[finder.Match]

    scanned: int = 0
    """Records asked for on the unfiltered page (0: none was read)."""

    @property
    def customers(self) -> list[Customer]:
        return [m.customer for m in self.matches]


def run(desk: "Desk", text: str) -> Outcome:
    """Ask the store what the plan for ``text`` says, and rank what it answered."""
    service = desk.service
    query = finder.read_query(text)
    plan = finder.plan(query, service.search_filters)
    scanned = service.scan_limit(finder.SCAN_RECORDS) if plan.scan else 0
    answer = service.search_customers(plan.queries, scan=scanned)
    return Outcome(query, plan, answer, finder.rank(query, answer.customers), scanned)


def find_reply(desk: "Desk", intent: i.Find, actor: Actor) -> Reply:
    """The answer to ``find <text>`` (page ``intent.page`` of the list when several match)."""
    outcome = run(desk, intent.text)
    customers = outcome.customers
    if not customers:
        return nothing_found(outcome)
    if _one(outcome):
        customer = customers[0]
        return Reply(text=f"{display_name(customer)} ({customer.email})", cards=(customer_card(desk, customer, actor),))
    return Reply(text=f"{len(customers)} {'customers match' if len(customers) != 1 else 'customer matches'} “{intent.text}”",
                 cards=(result_list(desk, outcome, intent.page),))


def result_list(desk: "Desk", outcome: Outcome, page: int) -> Card:
    """One page of matches: name, email, group and status per row, each with its Open button."""
    customers = outcome.customers
    pages = max(1, -(-len(customers) // PAGE))
    page = min(max(1, page), pages)
    shown = customers[(page - 1) * PAGE: page * PAGE]
    rows = tuple(Row(row_text(desk, c), Button("Open", i.Lookup(c.id))) for c in shown)
    actions: list[Button] = []
    if page > 1:
        actions.append(Button("◀ Previous", i.Find(outcome.query.text, page - 1)))
    if page < pages:
        actions.append(Button("More", i.Find(outcome.query.text, page + 1)))
    footer = [f"Page {page} of {pages}"] if pages > 1 else []
    if _maybe_more(outcome):
        footer.append("the store may hold more matches than it sent or I could read: add to the search to narrow it")
    count = f"{len(customers)} customers match" if len(customers) != 1 else "1 customer matches"
    return Card(
        title=f"{count} “{clip(outcome.query.text, 60)}”",
        rows=rows, actions=tuple(actions), footer=" · ".join(footer), key=f"find{page}",
    )


def _one(outcome: Outcome) -> bool:
    """Whether the answer is one customer's card: exactly one match, a strong one, and no sign
    that the store holds others the bot did not see."""
    matches = outcome.matches
    return len(matches) == 1 and matches[0].score >= finder.CARD_SCORE and not _maybe_more(outcome)


def _maybe_more(outcome: Outcome) -> bool:
    """Whether the store may hold other matches the bot did not see: a filtered page came back
    full, or a match was seen only on the unfiltered page of a store larger than that page.
    Then even a single match is shown as a list of one, never as "the" customer's card."""
    answer = outcome.answer
    if answer.full:
        return True
    return answer.scan_full and any(c.id in answer.scan_only for c in outcome.customers)


def row_text(desk: "Desk", customer: Customer) -> str:
    status = "Enabled" if customer.enabled else "Disabled"
    return f"{display_name(customer)} · {customer.email} · {desk.service.group_name(customer.group_id)} · {status}"


def nothing_found(outcome: Outcome) -> Reply:
    """What was searched, and what else to try."""
    query, plan = outcome.query, outcome.plan
    shown = clip(query.text, 80)
    page = f"among the first {scanned} customers" if (scanned := outcome.scanned) else ""
    if query.kind == "email":
        text = (f"No customer with the address {query.value}. Check the spelling, or search by name or "
                "phone number.")
    elif query.kind == "email_part":
        text = (f"No customer's address contains “{shown}”. A store that matches only whole addresses finds "
                "nothing by a part: try the full address, a name or a phone number.")
    elif query.kind == "phone":
        forms = " and ".join(q.phone or "" for q in plan.queries)
        compared = f", and compared the digits of every number {page}" if page else ""
        text = (f"No customer has the phone number {shown} (asked the store for {forms}{compared}; numbers "
                "compare by their digits). Try the name or the address on the account — stores hold numbers "
                "as the customer typed them.")
    else:
        where = "first and last names (in either order)"
        if page:
            where += f", and parts of names and companies {page}"
        elif any(q.company for q in plan.queries):
            where += " and company names"
        text = f"No customer matches “{shown}”: I searched {where}. Try the email address, a phone number or `#id`."
        typo = i.suggest_command(query.text.split(" ")[0])
        if typo is not None:
            text += f" If you meant a command: did you mean `{typo}`?"
    return Reply(text=text, notices=(Notice("info", text),), replace=False)


def shortcut_result(desk: "Desk", text: str, actor: Actor) -> tuple[list[Card], list[Notice]]:
    """Cards and notices for one phone number found in a message (the message shortcut)."""
    outcome = run(desk, text)
    customers = outcome.customers
    if _one(outcome):
        return [customer_card(desk, customers[0], actor)], []
    if not customers:
        return [], [Notice("warn", f"No customer with the phone number {text}.")]
    return [result_list(desk, outcome, 1)], []
