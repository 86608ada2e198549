"""Who may do what. Roles are keyed on Slack user IDs (``U…``), never on display names.

Permissions are checked every time an action *runs* — a command or a click — whoever drew the
card the button sits on: button values can be replayed or forged by a client.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Role(IntEnum):
    VIEWER = 0
    AGENT = 1
    ADMIN = 2


ROLE_NAMES = {
    Role.VIEWER: "anyone",
    Role.AGENT: "support agents and admins (`BOT_AGENTS`, `BOT_ADMINS`)",
    Role.ADMIN: "admins (`BOT_ADMINS`)",
}


@dataclass(frozen=True)
class Actor:
    """The Slack user (or console user) asking."""

    user_id: str
    name: str = ""

    @property
    def label(self) -> str:
        """How the actor is named in messages and the audit trail: ``@name`` or the user id."""
        return f"@{self.name}" if self.name else self.user_id


class Guard:
    def __init__(self, admins: frozenset[str] | set[str], agents: frozenset[str] | set[str]) -> None:
        self._admins = frozenset(admins)
        self._agents = frozenset(agents)

    def role(self, actor: Actor) -> Role:
        if actor.user_id in self._admins:
            return Role.ADMIN
        if actor.user_id in self._agents:
            return Role.AGENT
        return Role.VIEWER

    def allows(self, actor: Actor, needed: Role) -> bool:
        return self.role(actor) >= needed

    @staticmethod
    def refusal(needed: Role, what: str) -> str:
        """A refusal that says who may do it, e.g. "Only admins (`BOT_ADMINS`) can delete …" (a
        ``markup`` text: the variable names are code)."""
        return f"Only {ROLE_NAMES[needed]} can {what}. Ask one of them, or ask an admin to add you."
