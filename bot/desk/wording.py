"""The bot's sentences: what a change is called in answers, history lines and help.

Pure functions over plain values (no store, no Slack), so each wording has one home and the
desk's handlers only pick which one to say. ``group_name`` callables turn a group id into its
name (``CustomerService.group_name``). The small text helpers every desk module uses (a
customer's display name, a group's label, code spans, plurals, clipping) live here too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from ..guard import Role
from ..intents import USAGE
from ..store.models import Customer, CustomerGroup, Flag
from ..store.backend import Capabilities, StoreHints

GroupName = Callable[[int], str]

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

FLAG_NOW: dict[tuple[str, bool], str] = {
    # (flag, new value): how the customer is after the change
    ("enabled", True): "is now enabled",
    ("enabled", False): "is now disabled",
    ("mail_list", True): "is now subscribed to the mailing list",
    ("mail_list", False): "is no longer subscribed to the mailing list",
}
FLAG_ALREADY: dict[tuple[str, bool], str] = {
    ("enabled", True): "is already enabled",
    ("enabled", False): "is already disabled",
    ("mail_list", True): "is already subscribed to the mailing list",
    ("mail_list", False): "isn't subscribed to the mailing list",
}
FLAG_DONE: dict[tuple[str, bool], str] = {
    # a change to a flag, as a history line says it
    ("enabled", True): "enabled the account",
    ("enabled", False): "disabled the account",
    ("mail_list", True): "subscribed them to the mailing list",
    ("mail_list", False): "unsubscribed them from the mailing list",
}
ACTION_DONE: dict[str, str] = {
    # actions whose history line does not come from their before/after fields
    "delete": "deleted the account",
    "approve": "approved the wholesale application",
    "dismiss": "dismissed the wholesale application (the store account was not changed)",
}
ACTION_VERB: dict[str, str] = {
    "move": "move", "enable": "enable", "disable": "disable", "subscribe": "subscribe",
    "unsubscribe": "unsubscribe", "delete": "delete", "approve": "approve", "deny": "deny",
    "dismiss": "dismiss an application", "undo": "undo a change", "history": "see the history",
}

COMMAND_ROLES: dict[str, Role] = {
    # the least role that may use a command (commands not listed: anyone)
    "move": Role.AGENT, "enable": Role.AGENT, "disable": Role.AGENT, "subscribe": Role.AGENT,
    "unsubscribe": Role.AGENT, "history": Role.AGENT, "undo": Role.AGENT,
    "delete": Role.ADMIN, "approve": Role.ADMIN, "deny": Role.ADMIN, "dismiss": Role.ADMIN,
}
APPROVAL_COMMANDS = frozenset({"pending", "approve", "deny", "dismiss"})
"""Commands about wholesale applications: help leaves them out when approvals are off."""
FLAG_COMMANDS: dict[str, Flag] = {"enable": "enabled", "disable": "enabled", "subscribe": "mail_list",
                                  "unsubscribe": "mail_list"}
"""Commands that need a store setting: help leaves them out on a store without it."""


def _and(items: list[str], word: str = "and") -> str:
    return ", ".join(items[:-1]) + f" {word} " + items[-1] if len(items) > 1 else "".join(items)


def others_can(role: Role, capabilities: Capabilities, approvals: bool) -> str:
    """The line under help: what the other roles may do (only what this store supports)."""
    flags = [word for flag, word in (("enabled", "enable/disable"), ("mail_list", "(un)subscribe"))
             if capabilities.has_flag(flag)]
    if role == Role.VIEWER:
        admins = "delete and approve or deny applicants" if approvals else "delete customers"
        return (f"Support agents (`BOT_AGENTS`) can also {_and(['move', *flags, 'see history', 'undo'])}; "
                f"admins (`BOT_ADMINS`) can also {admins}.")
    if role == Role.AGENT:
        extra = " and approve or deny wholesale applicants" if approvals else ""
        return f"Admins (`BOT_ADMINS`) can also delete customers{extra}."
    final = "delete, approve and deny" if approvals else "delete"
    return f"You may do everything here; support agents can do all but {final}; anyone else can only look things up."


def undo_usage(capabilities: Capabilities, approvals: bool) -> str:
    """The ``undo`` line of help: what it covers on this store, and what is final."""
    covers = ["move", *[word for flag, word in (("enabled", "enable/disable"), ("mail_list", "(un)subscribe"))
                        if capabilities.has_flag(flag)]]
    final = "approve, deny and delete are final" if approvals else "delete is final"
    return f"`undo` - undo your own latest recent {_and(covers, 'or')} ({final})"


def flag_now(name: str, flag: str, value: bool) -> str:
    """``Bob Stone is no longer subscribed to the mailing list.``"""
    return f"{name} {FLAG_NOW[(flag, value)]}."


def flag_already(name: str, flag: str, value: bool) -> str:
    """``Bob Stone isn't subscribed to the mailing list. Nothing changed.``"""
    return f"{name} {FLAG_ALREADY[(flag, value)]}. Nothing changed."


def _group(value: Any, group_name: GroupName | None) -> str:
    return group_name(value) if group_name else f"group #{value}"


BACK_TO: dict[tuple[str, bool], str] = {
    ("enabled", True): "enabled again",
    ("enabled", False): "disabled again",
    ("mail_list", True): "subscribed to the mailing list again",
    ("mail_list", False): "unsubscribed from the mailing list again",
}


def undone(name: str, before: Mapping[str, Any], group_name: GroupName | None = None) -> str:
    """``Undone: Jane Doe is back in VIP.`` — the state an undo restored."""
    parts = [f"back in {_group(v, group_name)}" if k == "group_id" else BACK_TO[(k, bool(v))]
             for k, v in before.items() if k == "group_id" or (k, bool(v)) in BACK_TO]
    return f"Undone: {name} is {' and '.join(parts) or 'as before'}."


def change_phrase(before: Mapping[str, Any], after: Mapping[str, Any], group_name: GroupName | None = None) -> str:
    """What a change did, in words: ``moved from VIP to Wholesale``, ``disabled the account``."""
    parts = []
    for key, value in after.items():
        if key == "group_id":
            if "group_id" in before:
                parts.append(f"moved from {_group(before['group_id'], group_name)} to {_group(value, group_name)}")
            else:
                parts.append(f"moved to {_group(value, group_name)}")
        elif (key, bool(value)) in FLAG_DONE:
            parts.append(FLAG_DONE[(key, bool(value))])
    return ", ".join(parts) or "changed nothing"


UNSETTLED_WORDS = {"sending": "being checked", "in doubt": "not confirmed yet, being checked"}
"""Write-ahead rows not settled yet (``bot/writeahead.py``): the settle loop re-reads the store."""


def history_line(entry: Any, group_name: GroupName | None = None) -> str:
    """One line of ``history``: ``2026-12-03 16:20 UTC · @ana · moved from VIP to Wholesale``.

    ``entry`` is an ``AuditEntry`` (action, outcome, before, after, detail, who, at).
    """
    return f"{when(entry.at)} · {entry.who} · {history_phrase(entry, group_name)}"


def history_phrase(entry: Any, group_name: GroupName | None = None) -> str:
    action, outcome = entry.action, entry.outcome
    verb = ACTION_VERB.get(action, action)
    if outcome == "done":
        if action in ACTION_DONE:
            return ACTION_DONE[action]
        if action == "deny":
            target = entry.after.get("group_id")
            return "denied the wholesale application" + (f" (moved to {_group(target, group_name)})" if target is not None else "")
        phrase = change_phrase(entry.before or {}, entry.after or {}, group_name)
        if action == "undo":
            return f"undid a change ({phrase})"
        return phrase
    detail = f" ({entry.detail})" if entry.detail else ""
    if outcome == "no-op":
        return f"tried to {verb}, nothing changed{detail}"
    if outcome == "refused":
        return f"was refused: may not {verb}{detail}"
    if outcome == "failed":
        return f"tried to {verb}, the store failed{detail}"
    if outcome in UNSETTLED_WORDS:
        return f"{verb} ({UNSETTLED_WORDS[outcome]}){detail}"
    return f"{verb}: {outcome}{detail}"


PAST: dict[str, str] = {
    "move": "moved", "enable": "enabled", "disable": "disabled", "subscribe": "subscribed",
    "unsubscribe": "unsubscribed", "delete": "deleted", "approve": "approved", "deny": "denied",
}


def change_line(who: str, action: str, email: str, before: Mapping[str, Any], after: Mapping[str, Any],
                group_name: GroupName | None = None) -> str:
    """The audit-channel line for a finished change: ``@ana moved jane@example.com from VIP to
    Wholesale``, ``@ana unsubscribed bob@example.com``, ``@ana undid a change on … (…)``."""
    if action == "move" and "group_id" in after and "group_id" in before:
        return f"{who} moved {email} from {_group(before['group_id'], group_name)} to {_group(after['group_id'], group_name)}"
    if action == "undo":
        return f"{who} undid a change on {email} ({change_phrase(before, after, group_name)})"
    if action == "deny" and "group_id" in after:
        return f"{who} denied {email} (moved to {_group(after['group_id'], group_name)})"
    return f"{who} {PAST.get(action, action)} {email}"


def help_lines(role: Role, capabilities: Capabilities | None = None, *, approvals: bool = True) -> tuple[str, ...]:
    """``USAGE`` lines for what ``role`` may do on this store — without the commands of settings
    the store lacks (``capabilities``) nor, when ``approvals`` are off, the applications ones —
    then one line on what others can do."""
    capabilities = capabilities or Capabilities()
    lines = []
    for line in USAGE.strip().splitlines():
        command = _command_of(line)
        if COMMAND_ROLES.get(command, Role.VIEWER) > role:
            continue
        if command in FLAG_COMMANDS and not capabilities.has_flag(FLAG_COMMANDS[command]):
            continue
        if command in APPROVAL_COMMANDS and not approvals:
            continue
        lines.append(undo_usage(capabilities, approvals) if command == "undo" else line)
    return (*lines, others_can(role, capabilities, approvals))


def _command_of(line: str) -> str:
    """The command word a ``USAGE`` line is about (the first word inside its first backticks)."""
    if not line.startswith("`"):
        return ""
    first = line[1:].split("`", 1)[0].split(" ", 1)[0]
    return first.lower()


def when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def display_name(customer: Customer) -> str:
    return customer.full_name or customer.email


def group_label(group: CustomerGroup) -> str:
    return group.name if group.id == 0 else f"{group.name} (#{group.id})"


def member_line(c: Customer) -> str:
    state = "" if c.enabled else " · disabled"
    return f"{display_name(c)} — {c.email}{state}"


def describe(fields: dict[str, Any], group_name: GroupName | None = None) -> str:
    """Human words for a set of field values, e.g. "group VIP, disabled"."""
    words = []
    for key, value in fields.items():
        if key == "group_id":
            words.append(f"group {group_name(value) if group_name else '#' + str(value)}")
        elif key in FLAG_WORDS:
            words.append(FLAG_WORDS[key][0 if value else 1].lower())  # type: ignore[index]
    return ", ".join(words) or "no change"


def no_such_setting(flag: Flag, hints: StoreHints | None) -> str:
    store = hints.label if hints is not None else "This store"
    return (f"{store} has no {FLAG_SETTING_NAMES[flag]} setting for customers, so there is nothing to change. "
            "Nothing was changed.")


def code(text: str) -> str:
    """``text`` as a code span of a ``markup`` text: shown literally (its backticks become ')."""
    return "`" + (text.replace("`", "'") or " ") + "`"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def undid_which(entry: Any, skipped: int) -> str:
    """After a typed ``undo`` that skipped newer changes: which change it undid, and why not those."""
    newer = "1 newer change" if skipped == 1 else f"{skipped} newer changes"
    return (f" That was your {entry.action} of {entry.email or f'customer #{entry.customer_id}'} at "
            f"{entry.at:%H:%M} UTC; {newer} can't be undone (changed since, or the customer was deleted).")


def cannot_undo(skipped: int) -> str:
    """`` (your 2 newest changes can't be undone …)`` for the nothing-to-undo answer, or nothing."""
    if not skipped:
        return ""
    which = "your newest change" if skipped == 1 else f"your {skipped} newest changes"
    return f" ({which} can't be undone: changed since, or the customer was deleted)"
