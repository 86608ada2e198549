"""The Reply and Card builders of the desk: a customer's card (with the buttons the actor's role
allows and the store supports), an applicant's card, the delete confirmation, help, pagers.

Plain data only (``bot/reply.py``): ``bot/slack/blocks.py`` and the console render these. The
builders that need the store's group names or capabilities take the ``Desk`` first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .. import intents as i
from ..guard import Actor, Role
from ..reply import MENU_LIMIT, Button, Card, Choice, Confirm, Field, Menu, Notice, Reply
from ..state.applications import DECIDED, Application
from ..store.backend import Capabilities
from ..store.errors import StoreError
from ..store.models import RETAIL, Customer, Flag
from . import wording
from .wording import FLAG_FIELD_LABELS, FLAG_VERBS, FLAG_WORDS, clip, display_name, group_label, when

if TYPE_CHECKING:  # the desk builds its cards with these functions
    from .core import Desk

NOTES_MAX = 300
"""Store notes (3dcart ``Comments``) on a card are clipped to this many characters."""
APPROVE_ALL_MAX = 200
BUTTON_VALUE_MAX = 1900
"""Slack allows 2000 characters in a button value; keep a margin."""


def help_reply(role: Role = Role.ADMIN, capabilities: Capabilities | None = None, *, approvals: bool = True) -> Reply:
    """Usage for what ``role`` may do on this store (``capabilities``, ``approvals`` on or off),
    and one line on what others can."""
    lines = wording.help_lines(role, capabilities, approvals=approvals)
    card = Card(title="/customer — look up and fix customer accounts", lines=lines, key="help", markup=True)
    return Reply(text="How to use /customer", cards=(card,))


def customer_card(desk: Desk, customer: Customer, actor: Actor) -> Card:
    fields = [
        Field("Email", customer.email),
        Field("Company", customer.company or "—"),
        Field("Group", desk.service.group_name(customer.group_id)),
        *flag_fields(desk, customer, ("enabled", "mail_list")),
        Field("Store credit", f"{customer.store_credit:,.2f}"),
    ]
    if customer.phone:
        fields.append(Field("Phone", customer.phone))
    fields.append(Field("Customer ID", str(customer.id)))
    if customer.comments.strip():
        fields.append(Field("Notes", clip(customer.comments.strip(), NOTES_MAX)))
    role = desk.guard.role(actor)
    actions: list[Any] = []
    if role >= Role.AGENT:
        actions.append(group_menu(desk, customer))
        for flag in (f for f in ("enabled", "mail_list") if desk.capabilities.has_flag(f)):
            value = not customer.flag(flag)  # type: ignore[arg-type]
            actions.append(flag_button(customer, flag, value))  # type: ignore[arg-type]
        actions.append(Button("History", i.History(customer.id)))
    if role >= Role.ADMIN:
        actions.append(Button("Delete…", i.Delete(customer.id), style="danger"))
    footer = "" if role >= Role.AGENT else "You can look customers up; changes are for support agents (BOT_AGENTS)."
    alert = "" if customer.enabled else "Account disabled: this customer cannot sign in or place orders."
    return Card(title=display_name(customer), fields=tuple(fields), actions=tuple(actions), footer=footer,
                key=f"c{customer.id}", alert=alert)


def flag_button(customer: Customer, flag: Flag, value: bool) -> Button:
    """Enable / Disable / Subscribe / Unsubscribe; Disable asks first and looks dangerous."""
    label = FLAG_VERBS[flag][0 if value else 1]
    if flag == "enabled" and not value:
        return Button(label, i.SetFlag(customer.id, flag, value), style="danger", confirm=Confirm(
            "Disable this account?",
            f"{display_name(customer)} will no longer be able to sign in or place orders until someone enables the account again.",
            "Disable", "Cancel",
        ))
    return Button(label, i.SetFlag(customer.id, flag, value))


def group_menu(desk: Desk, customer: Customer) -> Menu:
    try:
        groups = [RETAIL, *desk.service.groups()]
    except StoreError:  # the card still shows; the menu searches when the store is back
        return Menu("Move to group…", search_for=i.Move(customer.id, ""))
    current = next((g for g in groups if g.id == customer.group_id), None)
    selected = Choice(group_label(current), i.Move(customer.id, str(current.id))) if current else None
    if len(groups) > MENU_LIMIT:
        return Menu("Move to group…", selected=selected, search_for=i.Move(customer.id, ""))
    choices = tuple(Choice(group_label(g), i.Move(customer.id, str(g.id))) for g in groups)
    return Menu("Move to group…", choices=choices, selected=selected)


def delete_confirmation_card(customer: Customer) -> Card:
    lines = [f"This deletes the store account of {customer.email} for good. It cannot be undone."]
    if customer.store_credit:
        lines.append(f"Their store credit of {customer.store_credit:,.2f} goes with it.")
    if customer.comments.strip():
        lines.append(f"Store notes: {clip(customer.comments.strip(), NOTES_MAX)}")
    return Card(
        title=f"Delete {display_name(customer)}?",
        lines=tuple(lines),
        actions=(
            Button("Yes, delete", i.Delete(customer.id, confirmed=True), style="danger"),
            Button("Cancel", i.Lookup(customer.id)),
        ),
        key=f"d{customer.id}",
    )


def applicant_card(desk: Desk, customer: Customer, *, decided: bool = False,
                   application: Application | None = None) -> Card:
    fields = [
        Field("Email", customer.email),
        Field("Company", customer.company or "—"),
        Field("Group", desk.service.group_name(customer.group_id)),
        *flag_fields(desk, customer, ("enabled",)),
    ]
    if application is not None:
        mark = " · found at first start" if application.origin == "first start" else ""
        fields.append(Field("Applied", f"{when(application.first_seen)} (first seen by the bot){mark}"))
    if customer.comments.strip():
        fields.append(Field("Store notes", clip(customer.comments.strip(), NOTES_MAX)))
    if application is not None and application.state in DECIDED and application.decided_at is not None:
        fields.append(Field("Decision", f"{application.state} by {application.decided_by_name or 'someone'} "
                                        f"at {when(application.decided_at)}"))
    actions: tuple[Button, ...] = ()
    if not decided:
        actions = (
            Button("Approve", i.Approve(customer.id), style="primary"),
            Button("Deny", i.Deny(customer.id), style="danger", confirm=Confirm(
                "Deny this applicant?",
                f"{display_name(customer)} will be moved to {desk.service.group_name(desk.deny_group_id)} "
                "and can still shop at retail prices.",
                "Deny", "Cancel",
            )),
            Button("Dismiss", i.Dismiss(customer.id), confirm=Confirm(
                "Dismiss this application?",
                f"{display_name(customer)} leaves the queue; their store account is not changed.",
                "Dismiss", "Cancel",
            )),
        )
    return Card(title=display_name(customer), fields=tuple(fields), actions=actions, key=f"a{customer.id}")


def applicant_reply(desk: Desk, application: Application) -> Reply:
    """The approvals-channel message for a new application."""
    customer = application.customer
    group = desk.service.group_name(customer.group_id)
    found = " (found waiting when the bot first looked)" if application.origin == "first start" else ""
    text = f"New wholesale applicant: {display_name(customer)} ({customer.email}) is waiting to join {group}{found}."
    card = applicant_card(desk, customer, application=application)
    return desk.with_banner(Reply(text=text, cards=(card,), notices=(Notice("info", text),), public=True))


def flag_fields(desk: Desk, customer: Customer, flags: tuple[Flag, ...]) -> list[Field]:
    """The card fields of the flags this store has (none on a store without them)."""
    return [Field(FLAG_FIELD_LABELS[f], FLAG_WORDS[f][0 if customer.flag(f) else 1])
            for f in flags if desk.capabilities.has_flag(f)]


def card_reply(desk: Desk, customer: Customer, actor: Actor, level: str, text: str, *, undo: int | None = None) -> Reply:
    card = customer_card(desk, customer, actor)
    if undo is not None and desk.undo_window.total_seconds() > 0:
        card = replace(card, actions=card.actions + (Button("Undo", i.Undo(undo)),))
    return Reply(text=text, cards=(card,), notices=(Notice(level, text),), replace=True)  # type: ignore[arg-type]


def decided_reply(desk: Desk, customer: Customer, text: str, *, level: str = "info",
                  application: Application | None = None) -> Reply:
    card = applicant_card(desk, customer, decided=True, application=application)
    # Not public: typed as a command, the card would show personal data to the channel. A
    # click in the approvals channel still updates that message in place (chat.update) — with
    # the desk's banner, as every message a demo desk sends (also when no ``handle`` wraps it).
    return desk.with_banner(Reply(text=text, cards=(card,), notices=(Notice(level, text),),  # type: ignore[arg-type]
                                  replace=True))


def pager(page: int, pages: int, make: Callable[[int], i.Intent]) -> tuple[Button, ...]:
    """◀ Previous / Next ▶ buttons for a paged list."""
    buttons = []
    if page > 1:
        buttons.append(Button("◀ Previous", make(page - 1)))
    if page < pages:
        buttons.append(Button("Next ▶", make(page + 1)))
    return tuple(buttons)


def clamp_page(page: int, total: int, size: int) -> tuple[int, int]:
    """``page`` kept within the pages of ``total`` items, and how many pages there are."""
    pages = max(1, -(-total // size))
    return min(max(1, page), pages), pages


def approve_all_button(applicants: list[Customer], shown: list[Customer]) -> Button:
    """"Approve all N" — or, when every id would not fit in a button value, "Approve these N"."""
    batch, label = applicants, f"Approve all {len(applicants)}"
    intent = i.ApproveAll(tuple(c.id for c in batch))
    if len(batch) > APPROVE_ALL_MAX or len(i.encode(intent)) > BUTTON_VALUE_MAX:
        batch, label = shown, f"Approve these {len(shown)}"
        intent = i.ApproveAll(tuple(c.id for c in batch))
    return Button(label, intent, style="primary", confirm=Confirm(
        f"{label}?", f"{label} pending applicant{'' if len(batch) == 1 else 's'}?", "Approve", "Cancel",
    ))
