"""Writes on one customer — move, enable/disable, (un)subscribe, delete, Undo and typed ``undo`` —
and the write path every write of the desk takes (approvals too).

The path, by the rules of the house: hold the customer's lock and re-read them fresh from the
store (``fresh``); when the change is already true, record a no-op and say so; otherwise record
a ``sending`` row in the audit trail before the request and settle it after (``sending``, over
``bot/writeahead.py``), write only the changed fields (``write``), announce the change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .. import intents as i
from ..audit import Outcome
from ..guard import Actor, Role
from ..reply import Reply
from ..store.errors import NotFound, StoreError, WrongRecord
from ..store.models import RETAIL, Customer, CustomerChange
from ..writeahead import Gone
from . import wording
from .cards import card_reply, delete_confirmation_card
from .problems import in_doubt
from .wording import FLAG_VERBS, FLAG_WORDS, code, describe, display_name, group_label, no_such_setting

if TYPE_CHECKING:  # the desk dispatches to the handlers here
    from .core import Desk

log = logging.getLogger(__name__)

UNDOABLE = ("move", "enable", "disable", "subscribe", "unsubscribe")
WRONG_RECORD_ACTIONS: dict[type, str] = {
    i.Move: "move", i.SetFlag: "change", i.Delete: "delete", i.Undo: "undo", i.Approve: "approve",
    i.Deny: "deny", i.ApproveAll: "approve",
}
"""The audit action of a refusal after the store answered the wrong record (issue 14)."""


@dataclass(frozen=True)
class WriteOutcome:
    before: Customer
    after: Customer
    entry_id: int


# ---------------------------------------------------------------------- the handlers


def move(desk: Desk, intent: i.Move, actor: Actor) -> Reply:
    desk.require(actor, Role.AGENT, "move customers between groups", "move", intent.who)
    too_short = short_group_prefix(desk, intent.group)
    if too_short is not None:
        return too_short
    group = desk.service.resolve_group(intent.group)
    with fresh(desk, intent.who) as customer:
        if customer.group_id == group.id:
            record(desk, actor, "move", customer, "no-op", detail=f"already in {group.name}")
            return card_reply(desk, customer, actor, "info", f"{display_name(customer)} is already in {group.name}. Nothing changed.")
        old = desk.service.group_name(customer.group_id)
        application, approves = desk.approvals.moving(actor, customer, group)  # approvals by group
        if approves:
            done = write(desk, actor, "approve", customer, desk.rule.approve_change(customer))
        else:
            done = write(desk, actor, "move", customer, CustomerChange(customer.id, group_id=group.id))
    if application is not None and approves:
        text = desk.approvals.approved_by_write(application, actor, done.after, f"by moving them to {group.name}")
        return card_reply(desk, done.after, actor, "ok", text)
    note = desk.approvals.moved_out(actor, done.after) if application is not None else ""
    note += desk.approvals.move_note(group, done.after)
    return card_reply(
        desk, done.after, actor, "ok", f"Moved {display_name(customer)} from {old} to {group.name}.{note}",
        undo=done.entry_id,
    )


def set_flag(desk: Desk, intent: i.SetFlag, actor: Actor) -> Reply:
    if not desk.capabilities.has_flag(intent.flag):
        return Reply.notice("info", no_such_setting(intent.flag, desk.hints))
    verb = FLAG_VERBS[intent.flag][0 if intent.value else 1].lower()
    desk.require(actor, Role.AGENT, f"{verb} customers", verb, intent.who)
    state = FLAG_WORDS[intent.flag][0 if intent.value else 1].lower()
    with fresh(desk, intent.who) as customer:
        if customer.flag(intent.flag) == intent.value:
            record(desk, actor, verb, customer, "no-op", detail=f"already {state}")
            return card_reply(desk, customer, actor, "info", wording.flag_already(display_name(customer), intent.flag, intent.value))
        change = CustomerChange(customer.id, **{intent.flag: intent.value})
        application = desk.approvals.enabling(actor, customer, change)  # enabling an applicant approves
        done = write(desk, actor, "approve" if application else verb, customer, change)
    if application is not None:
        text = desk.approvals.approved_by_write(application, actor, done.after, "by enabling the account")
        return card_reply(desk, done.after, actor, "ok", text)
    return card_reply(desk, done.after, actor, "ok", wording.flag_now(display_name(customer), intent.flag, intent.value),
                      undo=done.entry_id)


def delete(desk: Desk, intent: i.Delete, actor: Actor) -> Reply:
    desk.require(actor, Role.ADMIN, "delete customers", "delete", intent.who)
    if not intent.confirmed:
        customer = desk.find(intent.who, fresh=True)
        return Reply(text=f"Delete {display_name(customer)}?", cards=(delete_confirmation_card(customer),))
    try:
        with fresh(desk, intent.who) as customer:
            # a 404 here means it is gone already: the goal, not a failure (audited as a no-op)
            with sending(desk, actor, "delete", [customer], before=[snapshot(customer)], gone=True):
                desk.service.delete(customer.id)
    except NotFound as exc:
        label = intent.who if isinstance(intent.who, str) else f"Customer #{intent.who}"
        if not isinstance(exc, Gone):
            record_missing(desk, actor, "delete", intent.who)
        return Reply.notice("info", f"{label} is already deleted — it no longer exists in the store.", replace=True)
    desk.announce(f"{actor.label} deleted {customer.email} ({display_name(customer)})")
    return Reply.notice("ok", f"Deleted {display_name(customer)} ({customer.email}).", replace=True)


def undo(desk: Desk, intent: i.Undo, actor: Actor) -> Reply:
    desk.require(actor, Role.AGENT, "undo changes", "undo")
    entry = desk.audit.get(intent.change_id)
    if entry is None or entry.outcome != "done" or entry.customer_id is None or not entry.before:
        return Reply.notice("warn", "There is nothing to undo for that button.")
    if entry.action not in UNDOABLE:
        return Reply.notice("warn", f"A {entry.action} can't be undone.")
    if desk.clock() - entry.at > desk.undo_window:
        minutes = int(desk.undo_window.total_seconds() // 60)
        return Reply.notice("warn", f"Undo is only possible for {minutes} minutes after a change.")
    if desk.audit.undo_of(entry.id):  # without a store read; checked again under the lock
        return Reply.notice("info", "That change was already undone.")
    with fresh(desk, entry.customer_id) as customer:
        if desk.audit.undo_of(entry.id):  # a concurrent Undo won the race
            return Reply.notice("info", "That change was already undone.")
        current = snapshot(customer)
        if any(current.get(k) != v for k, v in entry.after.items()):
            record(desk, actor, "undo", customer, "no-op", detail="changed since", undoes=entry.id)
            return card_reply(
                desk, customer, actor, "warn",
                f"Can't undo: {display_name(customer)} was changed since "
                f"(now {describe({k: current[k] for k in entry.after}, desk.service.group_name)}). Nothing changed.",
            )
        change = change_from(customer.id, entry.before)
        application = desk.approvals.enabling(actor, customer, change)  # an Undo that enables an applicant
        done = write(desk, actor, "undo", customer, change, undoes=entry.id)
    if application is not None:
        text = desk.approvals.approved_by_write(application, actor, done.after, "by Undo")
        return card_reply(desk, done.after, actor, "ok", text)
    return card_reply(desk, done.after, actor, "ok", wording.undone(display_name(customer), entry.before, desk.service.group_name))


TYPED_UNDO_CANDIDATES = 5
"""How many of the actor's newest changes typed ``undo`` looks through for one it can undo."""


def undo_latest(desk: Desk, intent: i.UndoLatest, actor: Actor) -> Reply:
    """Typed ``undo``: the actor's newest undoable change still in the window and not undone yet,
    found in the audit trail — so it works after a restart and from any process.

    A change that can't be undone (customer deleted since, or already refused as changed since)
    must not hide the older ones: those are skipped, without a store read, and the reply says
    which change was undone instead."""
    desk.require(actor, Role.AGENT, "undo changes", "undo")
    candidates = desk.audit.latest_undoable(actor.user_id, UNDOABLE, since=desk.clock() - desk.undo_window,
                                            limit=TYPED_UNDO_CANDIDATES)
    impossible = desk.audit.impossible_undos(actor.user_id, candidates)
    skipped = 0
    for n, entry in enumerate(candidates):
        if entry.id in impossible:
            skipped += 1
            continue
        try:
            reply = undo(desk, i.Undo(entry.id), actor)
        except NotFound:  # deleted outside the bot: never undoable, so on to the one before
            desk.audit.record(user_id=actor.user_id, user_name=actor.name, action="undo", outcome="no-op",
                              customer_id=entry.customer_id, email=entry.email, detail="no longer exists",
                              undoes=entry.id)
            skipped += 1
            continue
        if desk.audit.undo_of(entry.id) is not None:
            return _with_text(reply, reply.text + wording.undid_which(entry, skipped)) if skipped else reply
        if n + 1 < len(candidates):
            return _with_text(reply, reply.text + ' Type "undo" again for your change before that one.')
        return reply
    minutes = int(desk.undo_window.total_seconds() // 60)
    cannot = wording.cannot_undo(skipped)
    return Reply.notice("info", f"You have no change left to undo{cannot}: `undo` covers your own moves, enable/disable and "
                        f"(un)subscribe from the last {minutes} minutes. Approve, deny and delete are final.", markup=True)


def _with_text(reply: Reply, text: str) -> Reply:
    """``reply`` with its summary and its notice of the same text both saying ``text``."""
    notices = tuple(replace(n, text=text) if n.text == reply.text else n for n in reply.notices)
    return replace(reply, text=text, notices=notices)


# ---------------------------------------------------------------------- the write path


@contextmanager
def fresh(desk: Desk, who: i.Who) -> Iterator[Customer]:
    """Hold this customer's lock and yield them re-read from the store (never from cache).

    The lock serialises concurrent clicks on one customer (across processes with Redis), so a double
    click or a retried delivery sees the first write's result and turns into a no-op.
    """
    customer_id = who if isinstance(who, int) else desk.find(who).id
    with desk.locked({customer_id}):
        yield desk.find(customer_id, fresh=True)


def write(desk: Desk, actor: Actor, action: str, customer: Customer, change: CustomerChange, *,
          undoes: int | None = None) -> WriteOutcome:
    after = apply_change(customer, change)
    before_fields, after_fields = diff(customer, after)
    with sending(desk, actor, action, [customer], before=[before_fields], after=[after_fields], undoes=undoes) as sent:
        desk.service.update(change)
    entry_id = sent.ids[0]
    desk.approvals.seen([after], "write")
    desk.announce(wording.change_line(actor.label, action, customer.email, before_fields, after_fields, desk.service.group_name))
    return WriteOutcome(customer, after, entry_id)


@contextmanager
def sending(desk: Desk, actor: Actor, action: str, customers: list[Customer], *, before: list[dict],
            after: list[dict] | None = None, detail: str = "", undoes: int | None = None,
            settle_done: bool = True, gone: bool = False) -> Iterator[Any]:
    """A write on its way to the store, recorded first (``WriteAhead``): one ``sending`` row
    per customer, settled after the request; a sent write that timed out or got a 5xx
    becomes ``WriteInDoubt`` (it may have applied). Yields the rows (``Sent``)."""
    rows = [
        dict(user_id=actor.user_id, user_name=actor.name, action=action, customer_id=c.id, email=c.email,
             before=before[n], after=(after[n] if after else {}), detail=detail, undoes=undoes)
        for n, c in enumerate(customers)
    ]
    try:
        with desk.writes.sending(rows, settle_done=settle_done, gone=gone) as sent:
            yield sent
    except Gone:
        raise
    except StoreError as exc:
        raise in_doubt(exc) from exc


def record(desk: Desk, actor: Actor, action: str, customer: Customer, outcome: Outcome, *,
           before: dict | None = None, after: dict | None = None, detail: str = "", undoes: int | None = None) -> int:
    return desk.audit.record(
        user_id=actor.user_id, user_name=actor.name, action=action, outcome=outcome,
        customer_id=customer.id, email=customer.email, before=before, after=after, detail=detail, undoes=undoes,
    )


def record_missing(desk: Desk, actor: Actor, action: str, who: i.Who) -> None:
    desk.audit.record(
        user_id=actor.user_id, user_name=actor.name, action=action, outcome="no-op",
        customer_id=who if isinstance(who, int) else None, email=who if isinstance(who, str) else "",
        detail="no longer exists",
    )


def refuse_wrong_record(desk: Desk, intent: i.Intent, actor: Actor, exc: WrongRecord) -> None:
    """The store answered another (or an unidentifiable) customer: no write was sent; the
    trail keeps a refusal naming both IDs."""
    who = getattr(intent, "who", None)
    action = WRONG_RECORD_ACTIONS.get(type(intent))
    log.warning("refused %s: asked the store for %s, it answered customer %s",
                type(intent).__name__, exc.requested if exc.requested is not None else who, exc.answered)
    if action is None:  # a read: nothing to refuse, the answer says what happened
        return
    desk.audit.record(
        user_id=actor.user_id, user_name=actor.name, action=action,
        outcome="refused", customer_id=who if isinstance(who, int) else exc.requested,
        email=who if isinstance(who, str) else "",
        detail=f"store answered customer {exc.answered if exc.answered is not None else 'without an id'} "
               f"when asked for {exc.requested if exc.requested is not None else who}; nothing sent",
    )


def short_group_prefix(desk: Desk, text: str) -> Reply | None:
    """A typed group of one letter names nothing for sure: unless it is a whole group name
    or an id, answer with the candidates instead of moving on a guess."""
    typed = text.strip()
    if not typed or len(typed) >= 2 or typed.isdigit():
        return None
    groups = [RETAIL, *desk.service.groups()]
    if any(g.name.strip().lower() == typed.lower() for g in groups):
        return None
    starting = [g for g in groups if g.name.strip().lower().startswith(typed.lower())] or groups
    names = ", ".join(code(group_label(g)) for g in starting[:10])
    return Reply.notice("warn", f"{code(typed)} is too short to pick a group: type at least 2 letters of its name, "
                        f"or its ID. Groups: {names}.", markup=True)


# ---------------------------------------------------------------------- pure helpers


def snapshot(customer: Customer) -> dict[str, Any]:
    return {"group_id": customer.group_id, "enabled": customer.enabled, "mail_list": customer.mail_list}


def apply_change(customer: Customer, change: CustomerChange) -> Customer:
    values = {k: getattr(change, k) for k in ("group_id", "enabled", "mail_list") if getattr(change, k) is not None}
    return replace(customer, **values)


def change_from(customer_id: int, fields: dict[str, Any]) -> CustomerChange:
    return CustomerChange(customer_id, **{k: fields[k] for k in ("group_id", "enabled", "mail_list") if k in fields})


def diff(before: Customer, after: Customer) -> tuple[dict[str, Any], dict[str, Any]]:
    old, new = snapshot(before), snapshot(after)
    changed = [k for k in old if old[k] != new[k]]
    return {k: old[k] for k in changed}, {k: new[k] for k in changed}
