"""The read-only use cases of the desk: help, "didn't understand", a customer's card, the group
list, a group's members, a customer's history, the message shortcut and the group menu's
type-ahead.

None of these writes to the store; they may remember customers seen enabled (the ledger's
"never a new applicant" rule) and read the audit trail. Searches (``find``) are ``search.py``'s.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from .. import intents as i
from ..audit import CHANGES
from ..guard import Actor, Role
from ..reply import MENU_LIMIT, Card, Choice, Notice, Reply
from ..store.errors import NotFound, StoreError
from ..store.models import RETAIL
from . import search, wording
from .cards import clamp_page, customer_card, help_reply, pager
from .problems import store_problem
from .wording import clip, code, display_name, group_label, member_line, plural

if TYPE_CHECKING:  # the desk dispatches to the handlers here
    from .core import Desk

MEMBERS_PAGE = 20
HISTORY_PAGE = 15
SHORTCUT_MAX = 10


def show_help(desk: Desk, intent: i.Help, actor: Actor) -> Reply:
    return store_help(desk, actor)


def store_help(desk: Desk, actor: Actor) -> Reply:
    """Help for ``actor``'s role on this store: only the settings it has; approvals only when on
    (by group with ``APPLICANT_GROUP``, else by the Enabled setting — no store request)."""
    approvals = desk.rule.by_group or desk.capabilities.has_enabled
    return help_reply(desk.guard.role(actor), desk.capabilities, approvals=approvals)


def not_understood(desk: Desk, intent: i.NotUnderstood, actor: Actor) -> Reply:
    said = intent.text.strip()
    words = [f"I didn't understand {code(clip(said, 80))}." if said else "I didn't understand that."]
    if intent.reason:
        words.append(intent.reason)
    if intent.suggestion:
        words.append(f"Did you mean {code(intent.suggestion)}?")
    text = " ".join(words)
    return replace(store_help(desk, actor), text=text, notices=(Notice("warn", text, markup=True),), replace=False)


def lookup(desk: Desk, intent: i.Lookup, actor: Actor) -> Reply:
    customer = desk.find(intent.who)
    return Reply(text=f"{display_name(customer)} ({customer.email})", cards=(customer_card(desk, customer, actor),))


def list_groups(desk: Desk, intent: i.ListGroups, actor: Actor) -> Reply:
    groups = desk.service.groups()
    counts: dict[int, int] = {}
    if len(groups) <= 20:
        counts = {g.id: desk.service.count_members(g.id) for g in groups}
    lines = []
    for g in groups:
        parts = [f"{g.name} (#{g.id})"]
        if g.id in counts:
            parts.append(plural(counts[g.id], "member"))
        role = desk.approvals.group_role(g)
        if role:
            parts.append(role)
        lines.append(" · ".join(parts))
    if not lines:
        lines.append("The store has no customer groups yet.")
    card = Card(
        title=f"Customer groups ({len(groups)})",
        lines=tuple(lines),
        footer="Customers in no group (ID 0) buy at retail prices.",
        key="groups",
    )
    return Reply(text=f"{len(groups)} customer groups", cards=(card,))


def members(desk: Desk, intent: i.Members, actor: Actor) -> Reply:
    group = desk.service.resolve_group(intent.group)
    if group.id == RETAIL.id and not desk.capabilities.lists_customers_without_group:
        # the store lists customers by group only: "0 customers" would be a wrong zero
        store = desk.hints.label if desk.hints is not None else "The store"
        return Reply.notice("info", f"{store} can't list customers who are in no group (retail), so I can't "
                            "show or count them. Look one up by address instead, or try `/customer groups`.", markup=True)
    total = desk.service.count_members(group.id)
    page, pages = clamp_page(intent.page, total, MEMBERS_PAGE)
    found = desk.service.group_members(group.id, limit=MEMBERS_PAGE, page=page) if total else []
    desk.approvals.seen(found, "members")
    lines = [member_line(c) for c in found] or ["No customers in this group."]
    card = Card(
        title=f"{group.name}: {plural(total, 'customer')}",
        lines=tuple(lines),
        actions=pager(page, pages, lambda p: i.Members(str(group.id), p)),
        footer=f"Page {page} of {pages}" if pages > 1 else "",
        key=f"g{group.id}",
    )
    return Reply(text=f"{group.name}: {plural(total, 'customer')}", cards=(card,))


def history(desk: Desk, intent: i.History, actor: Actor) -> Reply:
    desk.require(actor, Role.AGENT, "see a customer's history", "history", intent.who)
    customer_id, email = identify_for_history(desk, intent.who)
    if not email and customer_id is not None:  # from the History button: name them by address
        try:
            email = desk.service.get(customer_id).email
        except StoreError:
            pass
    # Changes only (done, failed, in progress): refusals and no-ops would push them out of view.
    total = desk.audit.count(customer_id=customer_id, email=email, outcomes=CHANGES)
    page, pages = clamp_page(intent.page, total, HISTORY_PAGE)
    entries = desk.audit.history(customer_id=customer_id, email=email, limit=HISTORY_PAGE,
                                 offset=(page - 1) * HISTORY_PAGE, outcomes=CHANGES) if total else []
    lines = [wording.history_line(e, desk.service.group_name) for e in entries] or ["The bot has made no changes to this customer."]
    title = f"History of {email or f'customer #{customer_id}'}"
    footer = "Newest first · times in UTC" + (f" · page {page} of {pages}" if pages > 1 else "")
    card = Card(title=title, lines=tuple(lines), footer=footer, key="history",
                actions=pager(page, pages, lambda p: i.History(intent.who, p)))
    return Reply(text=title, cards=(card,))


def identify_for_history(desk: Desk, who: i.Who) -> tuple[int | None, str]:
    """History works for deleted customers too: fall back to what the audit trail knows."""
    if isinstance(who, int):
        return who, ""
    try:
        customer = desk.service.find_by_email(who)
    except StoreError:
        customer = None
    return (customer.id if customer else None), who


def lookup_many(desk: Desk, emails: list[str | i.Intent], actor: Actor) -> Reply:
    """One card per customer found in a message (the message shortcut): addresses (as
    text or ``Lookup``), ``#123`` ids (``Lookup``) and phone numbers (``Find``: one match
    is a card, several a list to pick from)."""
    if not emails:
        return Reply.notice("info", "I found no email address, phone number or customer id (#123) in that message.")
    cards: list[Card] = []
    notices: list[Notice] = []
    for item in emails[:SHORTCUT_MAX]:
        who = item.who if isinstance(item, i.Lookup) else item
        try:
            if isinstance(who, i.Find):
                found_cards, found_notices = search.shortcut_result(desk, who.text, actor)
                cards += found_cards
                notices += found_notices
                continue
            customer = desk.service.get(who) if isinstance(who, int) else desk.service.find_by_email(str(who))
        except NotFound:
            notices.append(Notice("warn", f"No customer has the id #{who}."))
            continue
        except StoreError as exc:
            notices.append(store_problem(exc, hints=desk.hints).notices[0])
            break
        if customer is None:
            notices.append(Notice("warn", f"No customer with the address {who}."))
        else:
            desk.approvals.seen([customer], "lookup")
            cards.append(customer_card(desk, customer, actor))
    if len(emails) > SHORTCUT_MAX:
        what = "addresses" if all(isinstance(e, str) for e in emails) else "customers named"
        notices.append(Notice("info", f"Showing the first {SHORTCUT_MAX} of {len(emails)} {what}."))
    found = ", ".join(c.title for c in cards) or "no customers"
    return desk.with_banner(Reply(text=f"Found {found}", cards=tuple(cards), notices=tuple(notices)))


def suggest(desk: Desk, template: i.Intent, typed: str) -> list[Choice]:
    """Choices for a searched menu (``Menu.search_for``); works from the cached group list."""
    if isinstance(template, i.Move):
        groups = desk.service.search_groups(typed.strip(), limit=MENU_LIMIT)
        return [Choice(group_label(g), i.Move(template.who, str(g.id))) for g in groups]
    return []
