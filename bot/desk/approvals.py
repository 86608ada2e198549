"""Approvals as use cases of the desk: ``pending``, approve, deny, Approve all, dismiss, and the
approval rule on the other paths (enable, Undo, move), over the application ledger.

The desk (``core.py``) dispatches the approval intents here and asks ``enabling`` before any
write that would enable a customer: enabling a *waiting applicant* — by command, button or
Undo — is an approval, so it needs an admin, is recorded in the ledger and updates the posted
message, whatever path it came by.

Costs do not grow with the groups: ``pending`` is one quick ledger refresh (at most one store
request: one page of the customers changed since the last full refresh; none within the cache
TTL) plus the ledger; Approve all of N is a full refresh (everything changed since the last one:
what a quick page missed is read here) and one bulk write (``bulk_update_size`` records per
request).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from .. import intents as i
from ..applicants import ApplicantRule, ApplicationFeed
from ..guard import Actor, Role
from ..reply import Card, Notice, Reply
from ..state.applications import Application, Ledger, Observed
from ..store.errors import GroupLookupError, NotFound, StoreError
from ..store.models import Customer, CustomerChange, CustomerGroup
from . import writes
from .cards import applicant_card, approve_all_button, clamp_page, decided_reply, pager
from .wording import display_name, plural, when

if TYPE_CHECKING:  # the desk imports this module
    from .core import Desk

log = logging.getLogger(__name__)

PAST = {"approved": "approved", "denied": "denied", "dismissed": "dismissed"}
PENDING_PAGE = 10
"""Applicant cards per message: each card is ~4 blocks, and a message holds 50."""


class Approvals:
    def __init__(self, desk: Desk, ledger: Ledger, rule: ApplicantRule, feed: ApplicationFeed) -> None:
        self.desk = desk
        self.ledger = ledger
        self.rule = rule
        self.feed = feed

    # ------------------------------------------------------------------ pending

    def pending(self, intent: i.Pending, actor: Actor) -> Reply:
        reason = self.rule.off_reason()
        if reason is not None:
            return Reply.notice("info", reason, replace=True)
        notices: list[Notice] = []
        try:
            self.feed.quick_refresh(max_age=self.desk.service.ttl)  # one page at most; as fresh as a cached list
        except StoreError as exc:
            log.warning("pending: ledger refresh failed (%s)", type(exc).__name__)
            notices.append(Notice("warn", "The store is not answering right now, so this list may miss the newest "
                                  "changes."))
        applications = self.ledger.waiting()
        if not applications:
            text = "No wholesale applicants are waiting for approval."
            return Reply(text=text, notices=(Notice("ok", text), *notices), replace=True)
        page, pages = clamp_page(intent.page, len(applications), PENDING_PAGE)
        shown = applications[(page - 1) * PENDING_PAGE: page * PENDING_PAGE]
        may_decide = self.desk.guard.allows(actor, Role.ADMIN)  # only they see this answer: no buttons they can't use
        cards = [applicant_card(self.desk, a.customer, application=a, decided=not may_decide) for a in shown]
        actions = list(pager(page, pages, i.Pending))
        if len(applications) > 1 and may_decide:
            actions.append(approve_all_button([a.customer for a in applications], [a.customer for a in shown]))
        cards.append(Card(
            title=f"{plural(len(applications), 'applicant')} waiting",
            actions=tuple(actions),
            footer=f"Page {page} of {pages}" if pages > 1 else "",
            key="pending",
        ))
        text = f"{plural(len(applications), 'wholesale applicant')} waiting for approval"
        return Reply(text=text, cards=tuple(cards), notices=tuple(notices))

    # ------------------------------------------------------------------ one decision

    def decide(self, who: i.Who, actor: Actor, *, approve: bool) -> Reply:
        action = "approve" if approve else "deny"
        self.desk.require(actor, Role.ADMIN, "approve or deny wholesale applicants", action, who)
        reason = self.rule.off_reason()
        if reason is not None:
            return Reply.notice("info", reason, replace=True)
        named = self.desk.find(who)  # an unknown address: the usual not-found answer
        try:
            with writes.fresh(self.desk, named.id) as customer:
                application = self.observe_fresh(customer)
                if application is None:
                    writes.record(self.desk, actor, action, customer, "no-op", detail="not a waiting application")
                    return decided_reply(self.desk, customer, self.not_waiting(customer))
                change = self.rule.approve_change(customer) if approve else self.rule.deny_change(customer)
                done = writes.write(self.desk, actor, action, customer, change)
        except NotFound:
            writes.record_missing(self.desk, actor, action, who)
            raise
        if approve:
            text = (f"Approved by {actor.label}: {display_name(customer)} is now "
                    f"{self._approved_as(customer)}.")
        else:
            text = (f"Denied by {actor.label}: {display_name(customer)} was moved to "
                    f"{self.desk.service.group_name(self.rule.deny_group_id)} and can shop at retail prices.")
        decided = self._close(application, "approved" if approve else "denied", actor, done.after)
        reply = decided_reply(self.desk, done.after, text, level="ok", application=decided)
        self.desk.tell_decision(done.after, reply)
        return reply

    def dismiss(self, intent: i.Dismiss, actor: Actor) -> Reply:
        self.desk.require(actor, Role.ADMIN, "dismiss wholesale applications", "dismiss", intent.who)
        reason = self.rule.off_reason()
        if reason is not None:
            return Reply.notice("info", reason, replace=True)
        try:
            with writes.fresh(self.desk, intent.who) as customer:
                application = self.observe_fresh(customer)  # as decide: the store's word, not only the ledger's
        except NotFound:  # gone from the store: what the ledger knows is all there is
            known = self.ledger.latest_for(intent.who) if isinstance(intent.who, int) else None
            if known is None:
                raise
            customer = known.customer
            application = self.ledger.waiting_for(customer.id)
        if application is None:
            return decided_reply(self.desk, customer, self.not_waiting(customer))
        decided = self.ledger.decide(application.id, "dismissed", user_id=actor.user_id, user_name=actor.label,
                                     detail="dismissed; the store was not changed")
        if decided is None:  # decided elsewhere a moment ago
            return decided_reply(self.desk, customer, self.not_waiting(customer))
        writes.record(self.desk, actor, "dismiss", customer, "done", detail="application dismissed; the store was not changed")
        text = (f"Dismissed by {actor.label}: {display_name(customer)}'s application left the queue. "
                "Their store account was not changed.")
        reply = decided_reply(self.desk, application.customer, text, level="ok", application=decided)
        self.desk.announce(f"{actor.label} dismissed the application of {customer.email}")
        self.desk.tell_decision(application.customer, reply)
        return reply

    # ------------------------------------------------------------------ Approve all

    def approve_all(self, intent: i.ApproveAll, actor: Actor) -> Reply:
        self.desk.require(actor, Role.ADMIN, "approve or deny wholesale applicants", "approve")
        reason = self.rule.off_reason()
        if reason is not None:
            return Reply.notice("info", reason, replace=True)
        wanted = set(intent.ids)
        with self.desk.locked(wanted):
            self.feed.refresh()  # a full refresh: everything changed since the last one, read whole
            waiting = {a.customer_id: a for a in self.ledger.waiting(wanted)}
            if not waiting:
                return Reply.notice("info", "None of those applicants is still waiting. Nothing changed.", replace=True)
            apps = list(waiting.values())
            batch = [a.customer for a in apps]
            changes = [self.rule.approve_change(c) for c in batch]
            pairs = [writes.diff(c, writes.apply_change(c, ch)) for c, ch in zip(batch, changes)]
            with writes.sending(self.desk, actor, "approve", batch, before=[p[0] for p in pairs], after=[p[1] for p in pairs],
                                    detail="approve all", settle_done=False) as sent:
                results = self.desk.service.update_many(changes)
        by_id = {r.record_id: r for r in results}
        approved: list[Customer] = []
        failed: list[tuple[Customer, str]] = []
        for index, (app, customer, change) in enumerate(zip(apps, batch, changes)):
            result = by_id.get(customer.id)
            if result is not None and result.ok:
                after = writes.apply_change(customer, change)
                approved.append(after)
                sent.settle(index, "done")
                decided = self._close(app, "approved", actor, after, detail="approve all")
                self.desk.tell_decision(after, decided_reply(self.desk, 
                    after, f"Approved by {actor.label} (approve all).", level="ok", application=decided))
            else:
                why = result.message if result else "no answer for this record"
                failed.append((customer, why))
                sent.settle(index, "failed", detail=why)
        skipped = len(wanted) - len(waiting)
        lines = [f"✓ {display_name(c)} ({c.email})" for c in approved]
        lines += [f"✗ {display_name(c)} ({c.email}): {why}" for c, why in failed]
        notices = [Notice("ok", f"Approved {plural(len(approved), 'applicant')} (by {actor.label}).")]
        if failed:
            notices.append(Notice("error", f"{plural(len(failed), 'applicant')} could not be approved — see the list."))
        if skipped:
            notices.append(Notice("info", f"{plural(skipped, 'applicant')} were no longer pending and were left alone."))
        if approved:
            self.desk.announce(f"{actor.label} approved {plural(len(approved), 'wholesale applicant')}: "
                                + ", ".join(c.email for c in approved))
        card = Card(title="Approve all", lines=tuple(lines), key="approve-all")
        return Reply(text=notices[0].text, cards=(card,), notices=tuple(notices), replace=True, public=False)

    # ------------------------------------------------------------------ the rule on other paths

    def enabling(self, actor: Actor, customer: Customer, change: CustomerChange) -> Application | None:
        """Before a write: the waiting application this change would approve (enabling a waiting
        applicant), after checking the actor may approve; None for an ordinary change."""
        if change.enabled is not True or customer.enabled or not self.rule.tracks_enabled:
            return None
        application = self.observe_fresh(customer)
        if application is None:
            return None
        self.desk.require(actor, Role.ADMIN, "approve wholesale applicants (enabling one approves them)",
                           "approve", customer.id)
        return application

    def observe_fresh(self, customer: Customer) -> Application | None:
        """Feed a record just re-read from the store to the ledger; its waiting application (or None).

        Every path that decides on one customer (approve, deny, dismiss, enable, Undo) asks this,
        so an applicant the poller has not recorded yet is one all the same. On a ledger with no
        history yet (a fresh start), the first-start refresh runs first, so the applicants it
        finds are marked as such; if the store fails it, the one record still counts."""
        if not self.feed.has_history():
            try:
                self.feed.refresh()
            except StoreError as exc:
                log.warning("first-start ledger refresh failed (%s)", type(exc).__name__)
        self.tell_withdrawn(self.feed.observe([customer], source="decision"))
        return self.ledger.waiting_for(customer.id)

    def moving(self, actor: Actor, customer: Customer, group: CustomerGroup) -> tuple[Application | None, bool]:
        """Before a move: the waiting application it decides, and whether it approves it. With
        approvals by group a move into APPROVED_GROUP is an approval (checked: the actor must be
        an admin); any other move of a waiting applicant withdraws the application (``moved_out``).
        ``(None, False)`` for an ordinary move."""
        if self.rule.off_reason() is not None or (not self.rule.by_group and customer.enabled):
            return None, False
        application = self.observe_fresh(customer)
        if application is None:
            return None, False
        if not self.rule.by_group or group.id != self.rule.approved_group().id:
            return application, False
        self.desk.require(actor, Role.ADMIN, "approve wholesale applicants (moving one to APPROVED_GROUP approves them)",
                          "approve", customer.id)
        return application, True

    def moved_out(self, actor: Actor, after: Customer) -> str:
        """After a move that took a waiting applicant elsewhere: their application leaves the queue
        now (not at the next poll) and its posted message says so. A note for the reply."""
        observed = self.feed.observe([after], source="write", changed_by=actor.label)
        self.tell_withdrawn(observed)
        if not observed.withdrawn:
            return ""
        return f" Their wholesale application left the queue ({observed.withdrawn[0].detail})."

    def tell_withdrawn(self, observed: Observed) -> None:
        """Update the posted messages of applications that just left the queue."""
        for application in [*observed.withdrawn, *observed.decided]:
            self.desk.tell_decision(application.customer, self.closed_reply(application))

    def settled(self, entry_id: int) -> None:
        """The settle loop found audit row ``entry_id`` done in the store: an approve / deny whose
        answer was lost closes its application as that decision (not "withdrawn", by nobody)."""
        decided = self.ledger.decided_by_trail(entry_id)
        if decided is not None:
            self.desk.tell_decision(decided.customer, self.closed_reply(decided))

    def approved_by_write(self, application: Application, actor: Actor, after: Customer, how: str) -> str:
        """Record the approval a write made (enable / Undo) and update the posted message."""
        text = f"Approved by {actor.label} ({how}): {display_name(after)} is now {self._approved_as(after)}."
        decided = self._close(application, "approved", actor, after, detail=how)
        self.desk.tell_decision(after, decided_reply(self.desk, after, text, level="ok", application=decided))
        return text

    def move_note(self, group: CustomerGroup, after: Customer) -> str:
        """What a move into a group that needs approval means, for the reply ("" otherwise)."""
        try:
            if not self.rule.needs_approval(group):
                return ""
        except StoreError:
            return ""
        if self.rule.by_group:
            return f" {group.name} needs approval: {display_name(after)} now waits for an admin (`pending`)."
        if after.enabled:
            return (f" {group.name} needs approval; {display_name(after)}'s account is enabled, so this is not an "
                    "application — they can order at once.")
        return f" {group.name} needs approval and the account is disabled."

    def group_role(self, group: CustomerGroup) -> str:
        """What a group means for approvals, for the group list ("" when nothing)."""
        if self.rule.by_group:
            try:
                if group.id == self.rule.applicant_group().id:
                    return "applicants (APPLICANT_GROUP)"
                if self.rule.approved_group_text is not None and group.id == self.rule.approved_group().id:
                    return "approved applicants go here (APPROVED_GROUP)"
            except (StoreError, GroupLookupError):
                return ""
            return ""
        if self.rule.capabilities.has_enabled:  # approval = enabling: a 3dcart-style group setting
            return "auto-approve" if group.auto_approve else "needs approval"
        return ""

    def seen(self, customers: list[Customer], source: str) -> None:
        """Remember customers seen enabled (never new applicants). A failure only logs."""
        if not self.rule.tracks_enabled:
            return
        try:
            self.ledger.seen_enabled(customers, source)
        except Exception:  # noqa: BLE001 — a lookup must not fail because the ledger is busy
            log.exception("could not record customers seen enabled")

    def application_of(self, customer_id: int) -> Application | None:
        try:
            return self.ledger.latest_for(customer_id)
        except Exception:  # noqa: BLE001
            log.exception("could not read the ledger")
            return None

    # ------------------------------------------------------------------ wording

    def withdrawn_reply(self, application: Application) -> Reply:
        """The posted message of an application that left the queue in the store."""
        customer = application.customer
        text = (f"{display_name(customer)} is no longer waiting for approval "
                f"({application.detail or 'changed in the store'}). Nothing to decide.")
        return decided_reply(self.desk, customer, text, application=application)  # with the desk's banner

    def closed_reply(self, application: Application) -> Reply:
        """The posted message of an application the ledger closed without a click: withdrawn, or
        decided by a write of the bot found in the audit trail (``Observed.decided``)."""
        if application.state == "withdrawn":
            return self.withdrawn_reply(application)
        customer = application.customer
        text = (f"{PAST.get(application.state, application.state).capitalize()} by "
                f"{application.decided_by_name or 'someone'}: {display_name(customer)} ({application.detail}).")
        return decided_reply(self.desk, customer, text, level="ok", application=application)

    def not_waiting(self, customer: Customer) -> str:
        last = self.ledger.latest_for(customer.id)
        if last is not None and last.state in PAST:
            at = when(last.decided_at) if last.decided_at else "an unknown time"
            return (f"{display_name(customer)}'s application was already {PAST[last.state]} by "
                    f"{last.decided_by_name or 'someone'} at {at}. Nothing changed.")
        if last is not None and last.state == "withdrawn":
            return (f"{display_name(customer)} is no longer waiting for approval ({last.detail or 'changed in the store'}). "
                    "Nothing changed.")
        return f"{customer.email} is not a wholesale applicant. Nothing changed."

    def _approved_as(self, customer: Customer) -> str:
        try:
            return f"an approved customer {self.rule.approved_words()}" if self.rule.by_group else \
                f"an enabled {self.desk.service.group_name(customer.group_id)} customer"
        except StoreError:
            return "approved"

    def _close(self, application: Application, state: str, actor: Actor, after: Customer, *,
               detail: str = "") -> Application:
        decided = self.ledger.decide(application.id, state, user_id=actor.user_id, user_name=actor.label,
                                     detail=detail, record=after, after_write=True)
        if decided is None:  # decided by someone else meanwhile (the store write was ours all the same)
            log.info("application %s was closed before this decision was recorded", application.id)
            return replace(application, state=state, decided_by=actor.user_id, decided_by_name=actor.label,
                           decided_at=datetime.now().astimezone())
        return decided
