"""The ``Desk``: what the bot does for a support person, as plain data — its entry points, the
table that sends each intent to its use case, and the plumbing the use cases share.

Each intent goes guard → store → audit and comes back as a ``Reply``. The use cases live in
``lookups.py`` (read-only), ``writes.py`` (writes on one customer and the write path),
``approvals.py`` and ``search.py``; ``handle`` runs one through ``HANDLERS`` and turns every
user or store problem into a friendly Reply (``problems.py``). Nothing here imports Slack or
HTTP libraries; ``slack/`` and the console render Replies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from .. import intents as i
from ..applicants import ApplicantRule, ApplicationFeed
from ..audit import AuditLog, utc_now
from ..guard import Actor, Guard, Role
from ..reply import Choice, Reply
from ..state.applications import Application, Ledger
from ..state.locks import LocalLocks, Locks, LockUnavailable
from ..store.backend import Capabilities, StoreHints
from ..store.errors import GroupLookupError, NotFound, StoreError, WrongRecord
from ..store.identity import same_customer
from ..store.models import Customer
from ..store.service import CustomerService
from ..writeahead import TrailDown, WriteAhead
from . import lookups, search, writes
from .approvals import Approvals
from .cards import applicant_reply
from .problems import Missing, Refused, WriteInDoubt, group_problem, store_problem

log = logging.getLogger(__name__)

Handler = Callable[["Desk", Any, Actor], Reply]


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
        self.clock = clock
        self._subscribers: list[Callable[[str], None]] = []
        self._decision_listeners: list[Callable[[Customer, Reply], None]] = []
        self._locks: Locks = locks if locks is not None else LocalLocks()
        """Per-customer write locks: this process's (default) or Redis's, shared (``state/locks.py``)."""
        self.writes = WriteAhead(audit)
        self.banner = banner
        """Shown on every Reply this desk gives (``DEMO_BANNER`` on a demo store)."""
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
        return applicant_reply(self, application)

    def with_banner(self, reply: Reply) -> Reply:
        """``reply`` carrying this desk's banner (surfaces use it for their own messages too)."""
        return replace(reply, banner=self.banner) if self.banner and not reply.banner else reply

    def handle(self, intent: i.Intent, actor: Actor) -> Reply:
        """Run one intent for ``actor``. Never raises for user or store problems."""
        return self.with_banner(self._handle(intent, actor))

    def _handle(self, intent: i.Intent, actor: Actor) -> Reply:
        handler = HANDLERS.get(type(intent))
        if handler is None:
            return Reply.notice("warn", "That action isn't available here.")
        self.writes.reset()
        try:
            return handler(self, intent, actor)
        except Refused as refused:
            return refused.reply
        except TrailDown:
            log.error("audit trail unavailable: %s not sent", type(intent).__name__)
            return Reply.notice("error", "I couldn't record this change in the audit trail, so I didn't send it "
                                "to the store. Nothing was changed — try again in a minute.")
        except WriteInDoubt as doubt:
            return store_problem(doubt.cause, writing=True, hints=self.hints)
        except WrongRecord as exc:
            writes.refuse_wrong_record(self, intent, actor, exc)
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
        """One card per customer found in a message (the message shortcut); see ``lookups``."""
        return lookups.lookup_many(self, emails, actor)

    def suggest(self, template: i.Intent, typed: str) -> list[Choice]:
        """Choices for a searched menu (``Menu.search_for``); works from the cached group list."""
        return lookups.suggest(self, template, typed)

    # ------------------------------------------------------------------ plumbing of the use cases

    def require(self, actor: Actor, needed: Role, what: str, action: str, who: i.Who | None = None) -> None:
        """Refuse (and audit the refusal) unless ``actor`` has at least the ``needed`` role."""
        if self.guard.allows(actor, needed):
            return
        self.audit.record(
            user_id=actor.user_id, user_name=actor.name, action=action, outcome="refused",
            customer_id=who if isinstance(who, int) else None, email=who if isinstance(who, str) else "",
            detail=f"needs {needed.name.lower()} role",
        )
        raise Refused(Reply.notice("warn", self.guard.refusal(needed, what), markup=True))

    def find(self, who: i.Who, *, fresh: bool = False) -> Customer:
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
    def locked(self, customer_ids: set[int]) -> Iterator[None]:
        """Hold the locks of several customers (in a fixed order, so two batches cannot deadlock)."""
        with self._locks.hold(customer_ids):
            yield

    def tell_decision(self, customer: Customer, reply: Reply) -> None:
        reply = self.with_banner(reply)
        for callback in list(self._decision_listeners):
            try:
                callback(customer, reply)
            except Exception:  # noqa: BLE001 — the decision is made; a stale message is not fatal
                log.exception("decision listener failed")

    def announce(self, line: str) -> None:
        for callback in list(self._subscribers):
            try:
                callback(line)
            except Exception:  # noqa: BLE001 — an announcement must never undo a finished write
                log.exception("announcement failed")


HANDLERS: dict[type[i.Intent], Handler] = {
    # read-only
    i.Help: lookups.show_help,
    i.NotUnderstood: lookups.not_understood,
    i.Find: search.find_reply,
    i.Lookup: lookups.lookup,
    i.ListGroups: lookups.list_groups,
    i.Members: lookups.members,
    i.History: lookups.history,
    # writes on one customer
    i.Move: writes.move,
    i.SetFlag: writes.set_flag,
    i.Delete: writes.delete,
    i.Undo: writes.undo,
    i.UndoLatest: writes.undo_latest,
    # approvals
    i.Pending: lambda desk, intent, actor: desk.approvals.pending(intent, actor),
    i.Approve: lambda desk, intent, actor: desk.approvals.decide(intent.who, actor, approve=True),
    i.Deny: lambda desk, intent, actor: desk.approvals.decide(intent.who, actor, approve=False),
    i.Dismiss: lambda desk, intent, actor: desk.approvals.dismiss(intent, actor),
    i.ApproveAll: lambda desk, intent, actor: desk.approvals.approve_all(intent, actor),
}
"""Which use case runs each intent (an intent type not listed: "That action isn't available here")."""
