"""``help`` follows the store: no enable/disable or (un)subscribe where the store lacks those
settings (BigCommerce), no approve/deny/dismiss/pending while approvals are off. Over the real
clients and sandboxes (3dcart and BigCommerce over local HTTP)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import intents as i
from bot.audit import AuditLog
from bot.db import Database
from bot.desk import Desk
from bot.desk.wording import help_lines
from bot.guard import Actor, Guard, Role
from bot.store.backend import Capabilities
from bot.store.service import CustomerService

pytestmark = pytest.mark.timeout(30)

ADMIN, AGENT, VIEWER = Actor("UADMIN", "alice"), Actor("UAGENT", "bob"), Actor("UVIEW", "vic")
FLAGS = ("`enable ", "`disable ", "`subscribe ", "`unsubscribe ")
APPROVALS = ("`pending`", "`approve ", "`deny ", "`dismiss ")


def help_text(client, tmp_path, actor: Actor = ADMIN, **options) -> str:
    desk = Desk(CustomerService(client), Guard({"UADMIN"}, {"UAGENT"}), AuditLog(Database(tmp_path)),
                undo_window=timedelta(minutes=15), **options)
    return "\n".join(desk.handle(i.Help(), actor).cards[0].lines)


def test_help_on_3dcart_lists_flags_and_approvals(client, tmp_path) -> None:
    text = help_text(client, tmp_path)
    assert all(word in text for word in FLAGS + APPROVALS)
    assert "move, enable/disable or (un)subscribe (approve, deny and delete are final)" in text
    assert "all but delete, approve and deny" in text


def test_help_on_bigcommerce_leaves_out_what_the_store_lacks(bc_client, tmp_path) -> None:
    text = help_text(bc_client, tmp_path)
    assert not any(word in text for word in FLAGS + APPROVALS), text
    assert "enable/disable" not in text and "(un)subscribe" not in text and "approve" not in text
    assert "`undo` - undo your own latest recent move (delete is final)" in text
    assert "support agents can do all but delete;" in text
    assert "`move " in text and "`delete " in text and "`history " in text  # positive control


def test_help_on_bigcommerce_with_approvals_by_group(bc_client, tmp_path) -> None:
    text = help_text(bc_client, tmp_path, applicant_group="Wholesale applicants", approved_group="Wholesale")
    assert all(word in text for word in APPROVALS)
    assert not any(word in text for word in FLAGS)
    assert "(approve, deny and delete are final)" in text


def test_what_others_can_do_follows_the_store(bc_client, tmp_path) -> None:
    viewer = help_text(bc_client, tmp_path, VIEWER)
    assert "Support agents (`BOT_AGENTS`) can also move, see history and undo; admins (`BOT_ADMINS`) can also " \
           "delete customers." in viewer
    agent = help_text(bc_client, tmp_path / "agent", AGENT)
    assert agent.endswith("Admins (`BOT_ADMINS`) can also delete customers.")


@pytest.mark.parametrize("role", list(Role))
def test_help_lines_default_to_every_command(role: Role) -> None:
    full = help_lines(role)
    assert full == help_lines(role, Capabilities(), approvals=True)
    bare = help_lines(role, Capabilities(has_enabled=False, has_mail_list=False), approvals=False)
    assert len(bare) < len(full) or role == Role.VIEWER
    # only ever fewer lines, in the same words (the undo line and what others can do aside)
    assert all(line in full for line in bare[:-1] if not line.startswith("`undo`"))
    mail_only = "\n".join(help_lines(role, Capabilities(has_enabled=False), approvals=False))
    assert ("`subscribe " in mail_only) == (role >= Role.AGENT) and "`enable " not in mail_only
