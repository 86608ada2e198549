"""Use cases: what the bot does for a support person, as plain data.

Each intent goes guard → store → audit and comes back as a ``Reply``. Writes follow the rules
of the house: re-read the customer fresh from the store, do nothing (and say so) when the
change is already true, write only the changed field, record the outcome, announce it.

Nothing here imports Slack or HTTP libraries; ``slack/`` and ``console.py`` render Replies.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from . import intents as i
from . import search, wording
from .audit import CHANGES, AuditEntry, AuditLog, Outcome, utc_now
from .guard import Actor, Guard, Role
from .reply import MENU_LIMIT, Button, Card, Choice, Confirm, Field, Menu, Notice, Reply
from .state.locks import LocalLocks, Locks, LockUnavailable
from .store.errors import (
    AmbiguousGroup, AuthFailed, BadRequest, GroupLookupError, NotFound, RateLimited, StoreError,
    Unavailable, UnknownGroup, WrongRecord,
)
from .store.backend import Capabilities, StoreHints
from .store.identity import same_customer
from .store.models import RETAIL, Customer, CustomerChange, CustomerGroup, Flag
from .store.service import CustomerService
from .writeahead import Gone, TrailDown, WriteAhead, failure  # noqa: F401 — failure: kept importable here
from .applicants import ApplicantRule, ApplicationFeed
from .decisions import NOTES_MAX, Approvals
from .state.applications import DECIDED, Application, Ledger

log = logging.getLogger(__name__)

MEMBERS_PAGE = 20
PENDING_PAGE = 10
"""Applicant cards per message: each card is ~4 blocks, and a message holds 50."""
HISTORY_PAGE = 15
SHORTCUT_MAX = 10
APPROVE_ALL_MAX = 200
BUTTON_VALUE_MAX = 1900
"""Slack allows 2000 characters in a button value; keep a margin."""

FLAG_WORDS: dict[Flag, tuple[str, str]] = {
    # flag: (word when True, word when False)
    "enabled": ("Enabled", "Disabled"),
    "mail_list": ("Subscribed", "Not subscribed"),
}
FLAG_VERBS: dict[Flag, tuple[str, str]] = {
    "enabled": ("Enable", "Disable"),
    "mail_list": ("Subscribe", "Unsubscribe"),
}
FLAG_FIELD_LABELS: dict[Flag, str] = {"enabled": "Account", "mail_list": "Mailing list"}
FLAG_SETTING_NAMES: dict[Flag, str] = {"enabled": "account enabled/disabled", "mail_list": "mailing list"}


class Missing(NotFound):
    """A customer the user named is not in the store; the message says what to do."""


class WriteInDoubt(Exception):
    """A write was sent and the store failed while handling it: it may or may not have applied.

    Only these get the "can't tell whether it was saved" answer; a failure before any write was
    sent (the fresh re-read, the group list) changed nothing, and the user is told so.
    """

    def __init__(self, cause: StoreError) -> None:
        super().__init__(str(cause))
        self.cause = cause


class Refused(Exception):
    """The actor may not do this; carries the reply that says who may."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.text)
        self.reply = reply


@dataclass(frozen=True)
class WriteOutcome:
    before: Customer
    after: Customer
    entry_id: int


class Desk:
    def __init__(
        self,
        service: CustomerService,
        guard: Guard,
        audit: AuditLog,
        *,
        deny_group_id: int = 0,
        undo_window: timedelta = timedelta(minutes=15),
        clock: Callable[[], datetime] = utc_now,
        locks: Locks | None = None,
        banner: str = "",
        ledger: Ledger | None = None,
        applicant_group: str | None = None,
        approved_group: str | None = None,
    ) -> None:
        self.service = service
        self.guard = guard
        self.audit = audit
        self.deny_group_id = deny_group_id
        self.undo_window = undo_window
        self._clock = clock
        self._subscribers: list[Callable[[str], None]] = []
        self._decision_listeners: list[Callable[[Customer, Reply], None]] = []
        self._locks: Locks = locks if locks is not None else LocalLocks()
        """Per-customer write locks: this process's (default) or Redis's, shared (``state/locks.py``)."""
        self.writes = WriteAhead(audit)
        self.banner = banner
        """Shown on every Reply this desk gives (``DEMO_BANNER`` on a demo store)."""
        self._undoable: dict[str, deque[int]] = {}
        """Per user id, their latest undoable changes (audit ids, newest last), for typed ``undo``."""
        self._undoable_lock = threading.Lock()
        # The application ledger (the runtime passes it); tests may let it share the trail's database.
        self.ledger = ledger if ledger is not None else Ledger(audit._db)  # noqa: SLF001
        self.rule = ApplicantRule(service, applicant_group=applicant_group, approved_group=approved_group,
                                  deny_group_id=deny_group_id)
        self.feed = ApplicationFeed(service, self.ledger, self.rule, clock=clock)
        self.approvals = Approvals(self, self.ledger, self.rule, self.feed)

    @property
    def capabilities(self) -> Capabilities:
        """What the store behind the service supports (cards and flag commands follow it)."""
        return getattr(self.service.backend, "capabilities", None) or Capabilities()

    @property
    def hints(self) -> StoreHints | None:
        return getattr(self.service.backend, "hints", None)

    # ------------------------------------------------------------------ entry points

    def subscribe(self, callback: Callable[[str], None]) -> None:
        """Call ``callback`` with one short line after every completed change (audit channel)."""
        self._subscribers.append(callback)

    def on_decision(self, callback: Callable[[Customer, Reply], None]) -> None:
        """Call ``callback(customer, reply)`` after an applicant is approved or denied.

        The approvals channel uses it to update the applicant's posted message in place, however
        the decision was made (a click there, a command, the console).
        """
        self._decision_listeners.append(callback)

    def applicant_reply(self, application: Application) -> Reply:
        """The approvals-channel message for a new application."""
        customer = application.customer
        group = self.service.group_name(customer.group_id)
        found = " (found waiting when the bot first looked)" if application.origin == "first start" else ""
        text = f"New wholesale applicant: {display_name(customer)} ({customer.email}) is waiting to join {group}{found}."
        card = self.applicant_card(customer, application=application)
        return self.with_banner(Reply(text=text, cards=(card,), notices=(Notice("info", text),), public=True))

    def with_banner(self, reply: Reply) -> Reply:
        """``reply`` carrying this desk's banner (surfaces use it for their own messages too)."""
        return replace(reply, banner=self.banner) if self.banner and not reply.banner else reply

    def handle(self, intent: i.Intent, actor: Actor) -> Reply:
        """Run one intent for ``actor``. Never raises for user or store problems."""
        return self.with_banner(self._handle(intent, actor))

    def _handle(self, intent: i.Intent, actor: Actor) -> Reply:
        handler = getattr(self, "_do_" + type(intent).__name__.lower(), None)
        if handler is None:
            return Reply.notice("warn", "That action isn't available here.")
        self.writes.reset()
        try:
            return handler(intent, actor)
        except Refused as refused:
            return refused.reply
        except TrailDown:
            log.error("audit trail unavailable: %s not sent", type(intent).__name__)
            return Reply.notice("error", "I couldn't record this change in the audit trail, so I didn't send it "
                                "to the store. Nothing was changed — try again in a minute.")
        except WriteInDoubt as doubt:
            return store_problem(doubt.cause, writing=True, hints=self.hints)
        except WrongRecord as exc:
            self._refuse_wrong_record(intent, actor, exc)
            return store_problem(exc)
        except LockUnavailable as busy:  # raised before anything was sent to the store
            return Reply.notice("warn", str(busy))
        except StoreError as exc:
            return store_problem(exc, hints=self.hints)
        except GroupLookupError as exc:
            return group_problem(exc)
        except Exception:  # noqa: BLE001 — the user gets a sentence, the log gets the traceback
            log.exception("unexpected error handling %s", type(intent).__name__)
            if self.writes.was_sent():
                return Reply.notice("error", "Something went wrong on my side after the change was sent to the store, "
                                    "so it may have been made. Look the customer up to check before trying again.")
            return Reply.notice("error", "Something went wrong on my side. Nothing was changed — try again.")

    def lookup_many(self, emails: list[str | i.Intent], actor: Actor) -> Reply:
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
                    found_cards, found_notices = search.shortcut_result(self, who.text, actor)
                    cards += found_cards
                    notices += found_notices
                    continue
                customer = self.service.get(who) if isinstance(who, int) else self.service.find_by_email(str(who))
            except NotFound:
                notices.append(Notice("warn", f"No customer has the id #{who}."))
                continue
            except StoreError as exc:
                notices.append(store_problem(exc, hints=self.hints).notices[0])
                break
            if customer is None:
                notices.append(Notice("warn", f"No customer with the address {who}."))
            else:
                self.approvals.seen([customer], "lookup")
                cards.append(self.customer_card(customer, actor))
        if len(emails) > SHORTCUT_MAX:
            what = "addresses" if all(isinstance(e, str) for e in emails) else "customers named"
            notices.append(Notice("info", f"Showing the first {SHORTCUT_MAX} of {len(emails)} {what}."))
        found = ", ".join(c.title for c in cards) or "no customers"
        return self.with_banner(Reply(text=f"Found {found}", cards=tuple(cards), notices=tuple(notices)))

    def suggest(self, template: i.Intent, typed: str) -> list[Choice]:
        """Choices for a searched menu (``Menu.search_for``); works from the cached group list."""
        if isinstance(template, i.Move):
            groups = self.service.search_groups(typed.strip(), limit=MENU_LIMIT)
            return [Choice(group_label(g), i.Move(template.who, str(g.id))) for g in groups]
        return []

    # ------------------------------------------------------------------ read-only intents

    def _do_help(self, intent: i.Help, actor: Actor) -> Reply:
        return help_reply(self.guard.role(actor))

    def _do_notunderstood(self, intent: i.NotUnderstood, actor: Actor) -> Reply:
        said = intent.text.strip()
        words = [f"I didn't understand {code(_clip(said, 80))}." if said else "I didn't understand that."]
        if intent.reason:
            words.append(intent.reason)
        if intent.suggestion:
            words.append(f"Did you mean {code(intent.suggestion)}?")
        text = " ".join(words)
        return replace(help_reply(self.guard.role(actor)), text=text, notices=(Notice("warn", text, markup=True),), replace=False)

    def _do_find(self, intent: i.Find, actor: Actor) -> Reply:
        return search.find_reply(self, intent, actor)

    def _do_lookup(self, intent: i.Lookup, actor: Actor) -> Reply:
        customer = self._find(intent.who)
        return Reply(text=f"{display_name(customer)} ({customer.email})", cards=(self.customer_card(customer, actor),))

    def _do_listgroups(self, intent: i.ListGroups, actor: Actor) -> Reply:
        groups = self.service.groups()
        counts: dict[int, int] = {}
        if len(groups) <= 20:
            counts = {g.id: self.service.count_members(g.id) for g in groups}
        lines = []
        for g in groups:
            parts = [f"{g.name} (#{g.id})"]
            if g.id in counts:
                parts.append(_plural(counts[g.id], "member"))
            role = self.approvals.group_role(g)
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

    def _do_members(self, intent: i.Members, actor: Actor) -> Reply:
        group = self.service.resolve_group(intent.group)
        if group.id == RETAIL.id and not self.capabilities.lists_customers_without_group:
            # the store lists customers by group only: "0 customers" would be a wrong zero
            store = self.hints.label if self.hints is not None else "The store"
            return Reply.notice("info", f"{store} can't list customers who are in no group (retail), so I can't "
                                "show or count them. Look one up by address instead, or try `/customer groups`.", markup=True)
        total = self.service.count_members(group.id)
        page, pages = _clamp_page(intent.page, total, MEMBERS_PAGE)
        members = self.service.group_members(group.id, limit=MEMBERS_PAGE, page=page) if total else []
        self.approvals.seen(members, "members")
        lines = [member_line(c) for c in members] or ["No customers in this group."]
        card = Card(
            title=f"{group.name}: {_plural(total, 'customer')}",
            lines=tuple(lines),
            actions=pager(page, pages, lambda p: i.Members(str(group.id), p)),
            footer=f"Page {page} of {pages}" if pages > 1 else "",
            key=f"g{group.id}",
        )
        return Reply(text=f"{group.name}: {_plural(total, 'customer')}", cards=(card,))

    def _do_history(self, intent: i.History, actor: Actor) -> Reply:
        self._require(actor, Role.AGENT, "see a customer's history", "history", intent.who)
        customer_id, email = self._identify_for_history(intent.who)
        if not email and customer_id is not None:  # from the History button: name them by address
            try:
                email = self.service.get(customer_id).email
            except StoreError:
                pass
        # Changes only (done, failed, in progress): refusals and no-ops would push them out of view.
        total = self.audit.count(customer_id=customer_id, email=email, outcomes=CHANGES)
        page, pages = _clamp_page(intent.page, total, HISTORY_PAGE)
        entries = self.audit.history(customer_id=customer_id, email=email, limit=HISTORY_PAGE,
                                     offset=(page - 1) * HISTORY_PAGE, outcomes=CHANGES) if total else []
        lines = [history_line(e, self.service.group_name) for e in entries] or ["The bot has made no changes to this customer."]
        title = f"History of {email or f'customer #{customer_id}'}"
        footer = "Newest first · times in UTC" + (f" · page {page} of {pages}" if pages > 1 else "")
        card = Card(title=title, lines=tuple(lines), footer=footer, key="history",
                    actions=pager(page, pages, lambda p: i.History(intent.who, p)))
        return Reply(text=title, cards=(card,))

    def _do_pending(self, intent: i.Pending, actor: Actor) -> Reply:
        return self.approvals.pending(intent, actor)

    # ------------------------------------------------------------------ writes on one customer

    def _do_move(self, intent: i.Move, actor: Actor) -> Reply:
        self._require(actor, Role.AGENT, "move customers between groups", "move", intent.who)
        too_short = self._short_group_prefix(intent.group)
        if too_short is not None:
            return too_short
        group = self.service.resolve_group(intent.group)
        with self._fresh(intent.who) as customer:
            if customer.group_id == group.id:
                self._record(actor, "move", customer, "no-op", detail=f"already in {group.name}")
                return self._card_reply(customer, actor, "info", f"{display_name(customer)} is already in {group.name}. Nothing changed.")
            old = self.service.group_name(customer.group_id)
            done = self._write(actor, "move", customer, CustomerChange(customer.id, group_id=group.id))
        note = self.approvals.move_note(group, done.after)
        return self._card_reply(
            done.after, actor, "ok", f"Moved {display_name(customer)} from {old} to {group.name}.{note}",
            undo=done.entry_id,
        )

    def _do_setflag(self, intent: i.SetFlag, actor: Actor) -> Reply:
        if not self.capabilities.has_flag(intent.flag):
            return Reply.notice("info", no_such_setting(intent.flag, self.hints))
        verb = FLAG_VERBS[intent.flag][0 if intent.value else 1].lower()
        self._require(actor, Role.AGENT, f"{verb} customers", verb, intent.who)
        state = FLAG_WORDS[intent.flag][0 if intent.value else 1].lower()
        with self._fresh(intent.who) as customer:
            if customer.flag(intent.flag) == intent.value:
                self._record(actor, verb, customer, "no-op", detail=f"already {state}")
                return self._card_reply(customer, actor, "info", wording.flag_already(display_name(customer), intent.flag, intent.value))
            change = CustomerChange(customer.id, **{intent.flag: intent.value})
            application = self.approvals.enabling(actor, customer, change)  # enabling an applicant approves
            done = self._write(actor, "approve" if application else verb, customer, change)
        if application is not None:
            text = self.approvals.approved_by_write(application, actor, done.after, "by enabling the account")
            return self._card_reply(done.after, actor, "ok", text)
        return self._card_reply(done.after, actor, "ok", wording.flag_now(display_name(customer), intent.flag, intent.value),
                                undo=done.entry_id)

    def _do_delete(self, intent: i.Delete, actor: Actor) -> Reply:
        self._require(actor, Role.ADMIN, "delete customers", "delete", intent.who)
        if not intent.confirmed:
            customer = self._find(intent.who, fresh=True)
            return Reply(text=f"Delete {display_name(customer)}?", cards=(self.delete_confirmation_card(customer),))
        try:
            with self._fresh(intent.who) as customer:
                # a 404 here means it is gone already: the goal, not a failure (audited as a no-op)
                with self._sending(actor, "delete", [customer], before=[snapshot(customer)], gone=True):
                    self.service.delete(customer.id)
        except NotFound as exc:
            label = intent.who if isinstance(intent.who, str) else f"Customer #{intent.who}"
            if not isinstance(exc, Gone):
                self._record_missing(actor, "delete", intent.who)
            return Reply.notice("info", f"{label} is already deleted — it no longer exists in the store.", replace=True)
        self._announce(f"{actor.label} deleted {customer.email} ({display_name(customer)})")
        return Reply.notice("ok", f"Deleted {display_name(customer)} ({customer.email}).", replace=True)

    def _do_undo(self, intent: i.Undo, actor: Actor) -> Reply:
        self._require(actor, Role.AGENT, "undo changes", "undo")
        entry = self.audit.get(intent.change_id)
        if entry is None or entry.outcome != "done" or entry.customer_id is None or not entry.before:
            return Reply.notice("warn", "There is nothing to undo for that button.")
        if entry.action not in UNDOABLE:
            return Reply.notice("warn", f"A {entry.action} can't be undone.")
        if self._clock() - entry.at > self.undo_window:
            minutes = int(self.undo_window.total_seconds() // 60)
            return Reply.notice("warn", f"Undo is only possible for {minutes} minutes after a change.")
        if self.audit.undo_of(entry.id):  # without a store read; checked again under the lock
            return Reply.notice("info", "That change was already undone.")
        with self._fresh(entry.customer_id) as customer:
            if self.audit.undo_of(entry.id):  # a concurrent Undo won the race
                return Reply.notice("info", "That change was already undone.")
            current = snapshot(customer)
            if any(current.get(k) != v for k, v in entry.after.items()):
                self._record(actor, "undo", customer, "no-op", detail="changed since", undoes=entry.id)
                return self._card_reply(
                    customer, actor, "warn",
                    f"Can't undo: {display_name(customer)} was changed since "
                    f"(now {describe({k: current[k] for k in entry.after}, self.service.group_name)}). Nothing changed.",
                )
            change = change_from(customer.id, entry.before)
            application = self.approvals.enabling(actor, customer, change)  # an Undo that enables an applicant
            done = self._write(actor, "undo", customer, change, undoes=entry.id)
        if application is not None:
            text = self.approvals.approved_by_write(application, actor, done.after, "by Undo")
            return self._card_reply(done.after, actor, "ok", text)
        return self._card_reply(done.after, actor, "ok", wording.undone(display_name(customer), entry.before, self.service.group_name))

    def _do_undolatest(self, intent: i.UndoLatest, actor: Actor) -> Reply:
        self._require(actor, Role.AGENT, "undo changes", "undo")
        with self._undoable_lock:
            candidates = list(reversed(self._undoable.get(actor.user_id, ())))
        for entry_id in candidates:
            entry = self.audit.get(entry_id)
            if entry is None:
                continue
            if self._clock() - entry.at > self.undo_window:
                break  # older ones are older still
            if not self.audit.undo_of(entry_id):
                return self._do_undo(i.Undo(entry_id), actor)
        minutes = int(self.undo_window.total_seconds() // 60)
        return Reply.notice("info", f"You have no change left to undo: `undo` covers your own moves, enable/disable and "
                            f"(un)subscribe from the last {minutes} minutes. Approve, deny and delete are final.", markup=True)

    # ------------------------------------------------------------------ approvals

    def _do_approve(self, intent: i.Approve, actor: Actor) -> Reply:
        return self.approvals.decide(intent.who, actor, approve=True)

    def _do_deny(self, intent: i.Deny, actor: Actor) -> Reply:
        return self.approvals.decide(intent.who, actor, approve=False)

    def _do_dismiss(self, intent: i.Dismiss, actor: Actor) -> Reply:
        return self.approvals.dismiss(intent, actor)

    def _do_approveall(self, intent: i.ApproveAll, actor: Actor) -> Reply:
        return self.approvals.approve_all(intent, actor)

    def _decided_reply(self, customer: Customer, text: str, *, level: str = "info",
                       application: Application | None = None) -> Reply:
        card = self.applicant_card(customer, decided=True, application=application)
        # Not public: typed as a command, the card would show personal data to the channel. A
        # click in the approvals channel still updates that message in place (chat.update).
        return Reply(text=text, cards=(card,), notices=(Notice(level, text),), replace=True)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ cards

    def customer_card(self, customer: Customer, actor: Actor) -> Card:
        fields = [
            Field("Email", customer.email),
            Field("Company", customer.company or "—"),
            Field("Group", self.service.group_name(customer.group_id)),
            *self._flag_fields(customer, ("enabled", "mail_list")),
            Field("Store credit", f"{customer.store_credit:,.2f}"),
        ]
        if customer.phone:
            fields.append(Field("Phone", customer.phone))
        fields.append(Field("Customer ID", str(customer.id)))
        if customer.comments.strip():
            fields.append(Field("Notes", _clip(customer.comments.strip(), NOTES_MAX)))
        role = self.guard.role(actor)
        actions: list[Any] = []
        if role >= Role.AGENT:
            actions.append(self._group_menu(customer))
            for flag in (f for f in ("enabled", "mail_list") if self.capabilities.has_flag(f)):
                value = not customer.flag(flag)  # type: ignore[arg-type]
                actions.append(self._flag_button(customer, flag, value))  # type: ignore[arg-type]
            actions.append(Button("History", i.History(customer.id)))
        if role >= Role.ADMIN:
            actions.append(Button("Delete…", i.Delete(customer.id), style="danger"))
        footer = "" if role >= Role.AGENT else "You can look customers up; changes are for support agents (BOT_AGENTS)."
        alert = "" if customer.enabled else "Account disabled: this customer cannot sign in or place orders."
        return Card(title=display_name(customer), fields=tuple(fields), actions=tuple(actions), footer=footer,
                    key=f"c{customer.id}", alert=alert)

    def _flag_button(self, customer: Customer, flag: Flag, value: bool) -> Button:
        """Enable / Disable / Subscribe / Unsubscribe; Disable asks first and looks dangerous."""
        label = FLAG_VERBS[flag][0 if value else 1]
        if flag == "enabled" and not value:
            return Button(label, i.SetFlag(customer.id, flag, value), style="danger", confirm=Confirm(
                "Disable this account?",
                f"{display_name(customer)} will no longer be able to sign in or place orders until someone enables the account again.",
                "Disable", "Cancel",
            ))
        return Button(label, i.SetFlag(customer.id, flag, value))

    def _group_menu(self, customer: Customer) -> Menu:
        try:
            groups = [RETAIL, *self.service.groups()]
        except StoreError:  # the card still shows; the menu searches when the store is back
            return Menu("Move to group…", search_for=i.Move(customer.id, ""))
        current = next((g for g in groups if g.id == customer.group_id), None)
        selected = Choice(group_label(current), i.Move(customer.id, str(current.id))) if current else None
        if len(groups) > MENU_LIMIT:
            return Menu("Move to group…", selected=selected, search_for=i.Move(customer.id, ""))
        choices = tuple(Choice(group_label(g), i.Move(customer.id, str(g.id))) for g in groups)
        return Menu("Move to group…", choices=choices, selected=selected)

    def delete_confirmation_card(self, customer: Customer) -> Card:
        lines = [f"This deletes the store account of {customer.email} for good. It cannot be undone."]
        if customer.store_credit:
            lines.append(f"Their store credit of {customer.store_credit:,.2f} goes with it.")
        if customer.comments.strip():
            lines.append(f"Store notes: {_clip(customer.comments.strip(), NOTES_MAX)}")
        return Card(
            title=f"Delete {display_name(customer)}?",
            lines=tuple(lines),
            actions=(
                Button("Yes, delete", i.Delete(customer.id, confirmed=True), style="danger"),
                Button("Cancel", i.Lookup(customer.id)),
            ),
            key=f"d{customer.id}",
        )

    def applicant_card(self, customer: Customer, *, decided: bool = False,
                       application: Application | None = None) -> Card:
        fields = [
            Field("Email", customer.email),
            Field("Company", customer.company or "—"),
            Field("Group", self.service.group_name(customer.group_id)),
            *self._flag_fields(customer, ("enabled",)),
        ]
        if application is not None:
            mark = " · found at first start" if application.origin == "first start" else ""
            fields.append(Field("Applied", f"{_when(application.first_seen)} (first seen by the bot){mark}"))
        if customer.comments.strip():
            fields.append(Field("Store notes", _clip(customer.comments.strip(), NOTES_MAX)))
        if application is not None and application.state in DECIDED and application.decided_at is not None:
            fields.append(Field("Decision", f"{application.state} by {application.decided_by_name or 'someone'} "
                                            f"at {_when(application.decided_at)}"))
        actions: tuple[Button, ...] = ()
        if not decided:
            actions = (
                Button("Approve", i.Approve(customer.id), style="primary"),
                Button("Deny", i.Deny(customer.id), style="danger", confirm=Confirm(
                    "Deny this applicant?",
                    f"{display_name(customer)} will be moved to {self.service.group_name(self.deny_group_id)} "
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

    def _flag_fields(self, customer: Customer, flags: tuple[Flag, ...]) -> list[Field]:
        """The card fields of the flags this store has (none on a store without them)."""
        return [Field(FLAG_FIELD_LABELS[f], FLAG_WORDS[f][0 if customer.flag(f) else 1])
                for f in flags if self.capabilities.has_flag(f)]

    def _card_reply(self, customer: Customer, actor: Actor, level: str, text: str, *, undo: int | None = None) -> Reply:
        card = self.customer_card(customer, actor)
        if undo is not None and self.undo_window.total_seconds() > 0:
            card = replace(card, actions=card.actions + (Button("Undo", i.Undo(undo)),))
        return Reply(text=text, cards=(card,), notices=(Notice(level, text),), replace=True)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ plumbing

    def _require(self, actor: Actor, needed: Role, what: str, action: str, who: i.Who | None = None) -> None:
        """Refuse (and audit the refusal) unless ``actor`` has at least the ``needed`` role."""
        if self.guard.allows(actor, needed):
            return
        self.audit.record(
            user_id=actor.user_id, user_name=actor.name, action=action, outcome="refused",
            customer_id=who if isinstance(who, int) else None, email=who if isinstance(who, str) else "",
            detail=f"needs {needed.name.lower()} role",
        )
        raise Refused(Reply.notice("warn", self.guard.refusal(needed, what), markup=True))

    def _short_group_prefix(self, text: str) -> Reply | None:
        """A typed group of one letter names nothing for sure: unless it is a whole group name
        or an id, answer with the candidates instead of moving on a guess."""
        typed = text.strip()
        if not typed or len(typed) >= 2 or typed.isdigit():
            return None
        groups = [RETAIL, *self.service.groups()]
        if any(g.name.strip().lower() == typed.lower() for g in groups):
            return None
        starting = [g for g in groups if g.name.strip().lower().startswith(typed.lower())] or groups
        names = ", ".join(code(group_label(g)) for g in starting[:10])
        return Reply.notice("warn", f"{code(typed)} is too short to pick a group: type at least 2 letters of its name, "
                            f"or its ID. Groups: {names}.", markup=True)

    def _find(self, who: i.Who, *, fresh: bool = False) -> Customer:
        """The customer a user named (see ``_lookup``), remembered as seen enabled when they are:
        someone the bot has seen enabled is never a new wholesale applicant."""
        customer = self._lookup(who, fresh=fresh)
        self.approvals.seen([customer], "write" if fresh else "lookup")
        return customer

    def _lookup(self, who: i.Who, *, fresh: bool = False) -> Customer:
        """The customer a user named, or a NotFound whose message says what to do."""
        if isinstance(who, int):
            try:
                found = self.service.get_fresh(who) if fresh else self.service.get(who)
            except NotFound:
                raise Missing(f"Customer #{who} no longer exists in the store.") from None
            return same_customer(who, found)  # whatever the backend: only the customer asked for
        customer = self.service.find_by_email(who)
        if customer is None:
            raise Missing(f"No customer with the address {who}. Check the spelling, or try the address from their order.")
        return self.service.get_fresh(customer.id) if fresh else customer

    @contextmanager
    def _locked(self, customer_ids: set[int]) -> Iterator[None]:
        """Hold the locks of several customers (in a fixed order, so two batches cannot deadlock)."""
        with self._locks.hold(customer_ids):
            yield

    @contextmanager
    def _fresh(self, who: i.Who) -> Iterator[Customer]:
        """Hold this customer's lock and yield them re-read from the store (never from cache).

        The lock serialises concurrent clicks on one customer (across processes with Redis), so a double
        click or a retried delivery sees the first write's result and turns into a no-op.
        """
        customer_id = who if isinstance(who, int) else self._find(who).id
        with self._locked({customer_id}):
            yield self._find(customer_id, fresh=True)

    def _write(self, actor: Actor, action: str, customer: Customer, change: CustomerChange, *, undoes: int | None = None) -> WriteOutcome:
        after = apply_change(customer, change)
        before_fields, after_fields = diff(customer, after)
        with self._sending(actor, action, [customer], before=[before_fields], after=[after_fields], undoes=undoes) as sent:
            self.service.update(change)
        entry_id = sent.ids[0]
        self.approvals.seen([after], "write")
        if action in UNDOABLE:
            with self._undoable_lock:
                self._undoable.setdefault(actor.user_id, deque(maxlen=UNDO_REMEMBERED)).append(entry_id)
        self._announce(wording.change_line(actor.label, action, customer.email, before_fields, after_fields, self.service.group_name))
        return WriteOutcome(customer, after, entry_id)

    @contextmanager
    def _sending(self, actor: Actor, action: str, customers: list[Customer], *, before: list[dict],
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
            with self.writes.sending(rows, settle_done=settle_done, gone=gone) as sent:
                yield sent
        except Gone:
            raise
        except StoreError as exc:
            raise in_doubt(exc) from exc

    def _record(self, actor: Actor, action: str, customer: Customer, outcome: Outcome, *,
                before: dict | None = None, after: dict | None = None, detail: str = "", undoes: int | None = None) -> int:
        return self.audit.record(
            user_id=actor.user_id, user_name=actor.name, action=action, outcome=outcome,
            customer_id=customer.id, email=customer.email, before=before, after=after, detail=detail, undoes=undoes,
        )

    def _refuse_wrong_record(self, intent: i.Intent, actor: Actor, exc: WrongRecord) -> None:
        """The store answered another (or an unidentifiable) customer: no write was sent; the
        trail keeps a refusal naming both IDs."""
        who = getattr(intent, "who", None)
        action = WRONG_RECORD_ACTIONS.get(type(intent))
        log.warning("refused %s: asked the store for %s, it answered customer %s",
                    type(intent).__name__, exc.requested if exc.requested is not None else who, exc.answered)
        if action is None:  # a read: nothing to refuse, the answer says what happened
            return
        self.audit.record(
            user_id=actor.user_id, user_name=actor.name, action=action,
            outcome="refused", customer_id=who if isinstance(who, int) else exc.requested,
            email=who if isinstance(who, str) else "",
            detail=f"store answered customer {exc.answered if exc.answered is not None else 'without an id'} "
                   f"when asked for {exc.requested if exc.requested is not None else who}; nothing sent",
        )

    def _record_missing(self, actor: Actor, action: str, who: i.Who) -> None:
        self.audit.record(
            user_id=actor.user_id, user_name=actor.name, action=action, outcome="no-op",
            customer_id=who if isinstance(who, int) else None, email=who if isinstance(who, str) else "",
            detail="no longer exists",
        )

    def _identify_for_history(self, who: i.Who) -> tuple[int | None, str]:
        """History works for deleted customers too: fall back to what the audit trail knows."""
        if isinstance(who, int):
            return who, ""
        try:
            customer = self.service.find_by_email(who)
        except StoreError:
            customer = None
        return (customer.id if customer else None), who

    def _tell_decision(self, customer: Customer, reply: Reply) -> None:
        reply = self.with_banner(reply)
        for callback in list(self._decision_listeners):
            try:
                callback(customer, reply)
            except Exception:  # noqa: BLE001 — the decision is made; a stale message is not fatal
                log.exception("decision listener failed")

    def _announce(self, line: str) -> None:
        for callback in list(self._subscribers):
            try:
                callback(line)
            except Exception:  # noqa: BLE001 — an announcement must never undo a finished write
                log.exception("announcement failed")


UNDOABLE = ("move", "enable", "disable", "subscribe", "unsubscribe")
WRONG_RECORD_ACTIONS: dict[type, str] = {
    i.Move: "move", i.SetFlag: "change", i.Delete: "delete", i.Undo: "undo", i.Approve: "approve",
    i.Deny: "deny", i.ApproveAll: "approve",
}
"""The audit action of a refusal after the store answered the wrong record (issue 14)."""
UNDO_REMEMBERED = 20
"""Undoable changes remembered per user for typed ``undo`` (in this process)."""
NOTES_MAX = 300
"""Store notes (3dcart ``Comments``) on a card are clipped to this many characters."""


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


def describe(fields: dict[str, Any], group_name: Callable[[int], str] | None = None) -> str:
    """Human words for a set of field values, e.g. "group VIP, disabled"."""
    words = []
    for key, value in fields.items():
        if key == "group_id":
            words.append(f"group {group_name(value) if group_name else '#' + str(value)}")
        elif key in FLAG_WORDS:
            words.append(FLAG_WORDS[key][0 if value else 1].lower())  # type: ignore[index]
    return ", ".join(words) or "no change"


def past_tense(action: str) -> str:
    return {"move": "moved", "enable": "enabled", "disable": "disabled", "subscribe": "subscribed",
            "unsubscribe": "unsubscribed", "delete": "deleted", "approve": "approved", "deny": "denied",
            "undo": "undid a change on"}.get(action, action)


def display_name(customer: Customer) -> str:
    return customer.full_name or customer.email


def group_label(group: CustomerGroup) -> str:
    return group.name if group.id == 0 else f"{group.name} (#{group.id})"


def member_line(c: Customer) -> str:
    state = "" if c.enabled else " · disabled"
    return f"{display_name(c)} — {c.email}{state}"


def history_line(e: AuditEntry, group_name: Callable[[int], str] | None = None) -> str:
    return wording.history_line(e, group_name)


def help_reply(role: Role = Role.ADMIN) -> Reply:
    """Usage for what ``role`` may do, and one line on what others can."""
    card = Card(title="/customer — look up and fix customer accounts", lines=wording.help_lines(role), key="help", markup=True)
    return Reply(text="How to use /customer", cards=(card,))


def code(text: str) -> str:
    """``text`` as a code span of a ``markup`` text: shown literally (its backticks become ')."""
    return "`" + (text.replace("`", "'") or " ") + "`"


def no_such_setting(flag: Flag, hints: StoreHints | None) -> str:
    store = hints.label if hints is not None else "This store"
    return (f"{store} has no {FLAG_SETTING_NAMES[flag]} setting for customers, so there is nothing to change. "
            "Nothing was changed.")


def store_problem(exc: StoreError, *, writing: bool = False, hints: StoreHints | None = None) -> Reply:
    """A store error as a short, friendly message that says what to do. Never a secret.

    ``hints`` come from the backend: which settings to check when the credentials are refused."""
    if isinstance(exc, Missing):
        return Reply.notice("warn", str(exc))
    if isinstance(exc, NotFound):
        return Reply.notice("warn", "That customer no longer exists in the store.")
    if isinstance(exc, WrongRecord):
        return Reply.notice("error", exc.message)
    if isinstance(exc, AuthFailed):
        check = hints.credentials if hints is not None else "the store credentials and the app's read/write access"
        return Reply.notice("error", f"The store rejected the bot's credentials. An admin should check {check}.")
    if isinstance(exc, RateLimited):
        return Reply.notice("warn", "The store is busy right now (rate limited). Nothing was changed — try again in a minute.")
    if isinstance(exc, Unavailable):
        if writing and exc.status is None:
            return Reply.notice("error", "The store did not answer, so I can't tell whether the change was saved. "
                                "Look the customer up again in a minute to check.")
        if writing:
            return Reply.notice("error", "The store answered with an error, so the change may not have been saved. "
                                "Look the customer up again in a minute to check.")
        return Reply.notice("error", "The store is not answering right now. Nothing was changed — try again in a minute.")
    if isinstance(exc, BadRequest):
        return Reply.notice("error", f"The store refused that: {_clip(exc.message, 300).rstrip('. ')}. Nothing was changed.")
    return Reply.notice("error", "The store had a problem. Nothing was changed — try again in a minute.")


def group_problem(exc: GroupLookupError) -> Reply:
    names = ", ".join(code(group_label(g)) for g in exc.candidates[:10])
    if isinstance(exc, AmbiguousGroup):
        text = f"{code(_clip(exc.text, 60))} matches several groups: {names}. Type more of the name, or use the group ID."
    else:
        text = f"There is no group called {code(_clip(exc.text, 60))}." + (f" Groups: {names}." if names else "")
        text += " Try `/customer groups` for the full list."
    return Reply.notice("warn", text, markup=True)


def pager(page: int, pages: int, make: Callable[[int], i.Intent]) -> tuple[Button, ...]:
    """◀ Previous / Next ▶ buttons for a paged list."""
    buttons = []
    if page > 1:
        buttons.append(Button("◀ Previous", make(page - 1)))
    if page < pages:
        buttons.append(Button("Next ▶", make(page + 1)))
    return tuple(buttons)


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


def _clamp_page(page: int, total: int, size: int) -> tuple[int, int]:
    pages = max(1, -(-total // size))
    return min(max(1, page), pages), pages


def in_doubt(exc: StoreError) -> Exception:
    """Failures of a sent write: only a timeout or a 5xx leaves its outcome unknown."""
    return WriteInDoubt(exc) if isinstance(exc, Unavailable) else exc


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _stamp(at: datetime) -> str:
    """A store date: in UTC when the store says its zone, else as the store wrote it."""
    if at.tzinfo is not None:
        return _when(at.astimezone(timezone.utc))
    return at.strftime("%Y-%m-%d %H:%M") + " (store time)"


__all__ = ["Desk", "UnknownGroup", "store_problem", "help_reply", "display_name"]
