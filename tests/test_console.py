"""The try-it console: a ConsoleSession driven line by line against a real runtime.

The runtime is built the way ``python -m bot console`` builds it: settings with no store
credentials, so ``connect`` starts the embedded sandbox store over local HTTP. Checks are made
against store effects (``runtime.store.sandbox.customer(id)``), not only against the text.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot import intents as i
from bot.config import Settings
from bot.console import (
    PROMPT, TEMP_PREFIX, ConsoleSession, Roles, TextRenderer, console_settings, main, render_text, repl, safe_url,
)
from bot.guard import Actor, Role
from bot.reply import Button, Card, Choice, Field, Menu, Notice, Reply
from bot.runtime import Runtime, build_runtime

pytestmark = pytest.mark.timeout(30)

ROOT = Path(__file__).resolve().parents[1]
USER = "UTESTER"
JANE, CAROL, GRACE = 1, 3, 7
VIP, WHOLESALE = 1, 2

NO_STORE_CREDENTIALS = {"threedcart_secure_url": "", "threedcart_private_key": "", "threedcart_token": ""}


def settings_for(tmp_path: Path, role: Role, **extra: object) -> Settings:
    """Console settings in sandbox mode, whatever the environment says, data under tmp_path."""
    return console_settings(
        USER, role, data_dir=tmp_path / "data", bot_admins_raw="UOTHERADMIN", bot_agents_raw="",
        **NO_STORE_CREDENTIALS, **extra,
    )


@pytest.fixture
def make_session(tmp_path: Path) -> Iterator[Callable[..., ConsoleSession]]:
    runtimes: list[Runtime] = []

    def make(role: Role = Role.ADMIN, *, before: Callable[[Runtime], None] | None = None) -> ConsoleSession:
        runtime = build_runtime(settings_for(tmp_path / str(len(runtimes)), role))
        runtimes.append(runtime)
        assert runtime.store.sandbox is not None, "the console must run on the embedded sandbox here"
        if before is not None:
            before(runtime)
        return ConsoleSession(runtime, Actor(USER, "tester"))

    yield make
    for runtime in runtimes:
        runtime.close()
        drop_temp_state(runtime.settings)


def drop_temp_state(settings: Settings) -> None:
    """Remove the console's temporary state folder (``main`` does so at exit)."""
    if settings.data_dir.name.startswith(TEMP_PREFIX):
        shutil.rmtree(settings.data_dir, ignore_errors=True)


@pytest.fixture
def session(make_session: Callable[..., ConsoleSession]) -> ConsoleSession:
    return make_session()


def store_record(session: ConsoleSession, customer_id: int) -> dict | None:
    sandbox = session.runtime.store.sandbox
    assert sandbox is not None
    return sandbox.customer(customer_id)


def number_of(session: ConsoleSession, label: str) -> int:
    """The number the console shows for the action labelled ``label`` (1-based)."""
    for n, action in enumerate(session.actions, start=1):
        if getattr(action, "label", getattr(action, "placeholder", None)) == label:
            return n
    raise AssertionError(f"no action {label!r} in {session.actions}")


# ------------------------------------------------------------------------------ renderer


def test_render_text_is_readable_and_numbers_every_action() -> None:
    reply = Reply(
        text="Moved",
        notices=(Notice("ok", "Moved Jane."), Notice("warn", "Careful"), Notice("error", "Broke"), Notice("info", "FYI")),
        cards=(
            Card(
                title="Jane \x1b[2JDoe",
                fields=(Field("Email", "jane@example.com"), Field("Mailing list", "Not\nsubscribed")),
                lines=("A body line",),
                actions=(
                    Menu("Move to group…", choices=(Choice("VIP (#1)", i.Move(1, "1")), Choice("Wholesale (#2)", i.Move(1, "2"))),
                         selected=Choice("VIP (#1)", i.Move(1, "1"))),
                    Button("Disable", i.SetFlag(1, "enabled", False)),
                    Button("Subscribe", i.SetFlag(1, "mail_list", True)),
                ),
                footer="A footer",
            ),
            Card(title="Second", actions=(Button("Approve", i.Approve(3)), Menu("Search…", search_for=i.Move(1, "")))),
        ),
    )
    rendered = TextRenderer().render(reply)
    text = rendered.text
    assert text == render_text(reply)
    lines = text.splitlines()
    assert lines[:4] == ["✓ Moved Jane.", "! Careful", "✗ Broke", "i FYI"]
    assert "\x1b" not in text  # control characters from the store never reach the terminal
    title = next(n for n, line in enumerate(lines) if line.startswith("Jane"))
    assert set(lines[title + 1]) == {"═"} and len(lines[title + 1]) == len(lines[title])
    assert "  Email:        jane@example.com" in lines
    assert "  Mailing list: Not subscribed" in lines
    assert "  A body line" in lines
    assert "  [1] Move to group… (current: VIP (#1))" in lines
    assert "      1) VIP (#1) · 2) Wholesale (#2)" in lines
    assert "  [2] Disable   [3] Subscribe" in lines
    assert "  — A footer" in lines
    assert "  [4] Approve" in lines
    assert any(line.startswith("  [5] Search…") and "`5 <name>`" in line for line in lines)
    assert len(rendered.actions) == 5


def test_render_text_without_notices_or_cards_shows_the_headline() -> None:
    assert render_text(Reply(text="Nothing to show")) == "i Nothing to show"


def test_long_menus_are_listed_on_request() -> None:
    menu = Menu("Pick…", choices=tuple(Choice(f"G{k}", i.Move(1, str(k))) for k in range(30)))
    text = render_text(Reply(text="x", cards=(Card("T", actions=(menu,)),)))
    assert "30 choices: type `1` to list them" in text
    assert "G29" not in text


def test_banner_urls_never_carry_credentials() -> None:
    assert safe_url("https://user:pw@api.example.com:8443/3dCartWebAPI/v1/?token=x#f") == "https://api.example.com:8443/3dCartWebAPI/v1/"


# ------------------------------------------------------------------------------ identity


def test_roles_give_the_user_exactly_the_role_asked() -> None:
    roles = Roles(frozenset({"UA", USER}), frozenset({"UB"}))
    assert roles.with_role(USER, Role.AGENT) == Roles(frozenset({"UA"}), frozenset({"UB", USER}))
    assert roles.with_role(USER, Role.VIEWER) == Roles(frozenset({"UA"}), frozenset({"UB"}))
    assert roles.with_role(USER, Role.ADMIN).guard().role(Actor(USER)) == Role.ADMIN


def test_console_settings_merge_the_role_into_existing_lists(tmp_path: Path) -> None:
    settings = console_settings(USER, Role.AGENT, data_dir=tmp_path, bot_admins_raw=f"UA,{USER}",
                                bot_agents_raw="UB", **NO_STORE_CREDENTIALS)
    assert settings.bot_admins == {"UA"}
    assert settings.bot_agents == {"UB", USER}
    assert settings.sandbox_mode
    drop_temp_state(settings)


# ------------------------------------------------------------------------------ the session on the sandbox


def test_lookup_shows_name_group_and_flags(session: ConsoleSession) -> None:
    out = session.run_line("jane@example.com")
    assert "Jane Doe\n════════" in out
    assert "Group:        VIP" in out
    assert "Account:      Enabled" in out
    assert "Mailing list: Not subscribed" in out
    assert "[1] Move to group… (current: VIP (#1))" in out
    assert "[2] Disable   [3] Subscribe   [4] History   [5] Delete…" in out
    assert session.run_line("/customer jane@example.com") == out  # with or without the slash command


def test_pressing_disable_disables_the_customer_in_the_store(session: ConsoleSession) -> None:
    session.run_line("jane@example.com")
    question = session.run_line(str(number_of(session, "Disable")))
    assert question.startswith("Are you sure? Jane Doe will no longer be able to sign in")
    assert store_record(session, JANE)["Enabled"] is True  # nothing yet: a misclick costs nothing
    out = session.run_line("y")
    assert out.startswith("✓ Jane Doe is now disabled.")
    assert store_record(session, JANE)["Enabled"] is False
    assert "Account:      Disabled" in out
    # the card was updated in place: its numbers now mean the new buttons
    out = session.run_line(str(number_of(session, "Enable")))
    assert "is now enabled" in out
    assert store_record(session, JANE)["Enabled"] is True


def test_menu_choice_moves_the_customer(session: ConsoleSession) -> None:
    session.run_line("jane@example.com")
    menu = number_of(session, "Move to group…")
    out = session.run_line(f"{menu} 3")  # 1) No group, 2) VIP, 3) Wholesale
    assert "Moved Jane Doe from VIP to Wholesale" in out
    assert store_record(session, JANE)["CustomerGroupID"] == WHOLESALE
    # two steps: the number lists the choices, the next line picks one (by number or by name)
    listing = session.run_line(str(menu))
    assert "2) VIP (#1)" in listing and session.prompt != PROMPT
    out = session.run_line("vip")
    assert "Moved Jane Doe from Wholesale to VIP" in out
    assert store_record(session, JANE)["CustomerGroupID"] == VIP
    assert session.prompt == PROMPT


def test_searched_menu_asks_the_desk_for_suggestions(make_session: Callable[..., ConsoleSession]) -> None:
    session = make_session(before=lambda rt: rt.store.sandbox.add_groups(120))
    out = session.run_line("jane@example.com")
    menu = number_of(session, "Move to group…")
    assert f"`{menu} <name>` to search" in out
    out = session.run_line(f"{menu} whole")  # one match: picked at once
    assert "Moved Jane Doe from VIP to Wholesale" in out
    assert store_record(session, JANE)["CustomerGroupID"] == WHOLESALE
    listing = session.run_line(f"{number_of(session, 'Move to group…')} group 05")
    assert "10 matches" in listing and "1) Group 050" in listing
    out = session.run_line("2")
    assert "to Group 051" in out
    assert store_record(session, JANE)["CustomerGroupID"] == 4 + 51


def test_delete_asks_first_n_keeps_y_deletes(session: ConsoleSession) -> None:
    session.run_line("jane@example.com")
    out = session.run_line(str(number_of(session, "Delete…")))
    assert "Delete Jane Doe?" in out and "cannot be undone" in out.lower()
    assert "[1] Yes, delete   [2] Cancel" in out
    out = session.run_line("n")
    assert "Jane Doe\n════════" in out  # back to the card
    assert store_record(session, JANE) is not None
    session.run_line(str(number_of(session, "Delete…")))
    out = session.run_line("y")
    assert out == "✓ Deleted Jane Doe (jane@example.com).\n(Demo store — not real customers)"
    assert store_record(session, JANE) is None
    assert session.run_line("1").startswith("! I didn't understand `1`. `1` isn't a command; for a customer id write `#1`")


def test_buttons_with_confirm_ask_are_you_sure(session: ConsoleSession) -> None:
    session.run_line("pending")
    approve_all = number_of(session, "Approve all 2")
    question = session.run_line(str(approve_all))
    assert question == "Are you sure? Approve all 2 pending applicants? [y/N]"
    assert session.run_line("") == "Cancelled — nothing changed."
    assert store_record(session, CAROL)["Enabled"] is False
    session.run_line(str(approve_all))
    out = session.run_line("y")
    assert "Approved 2 applicants" in out
    assert store_record(session, CAROL)["Enabled"] is True
    assert store_record(session, GRACE)["Enabled"] is True


def test_pending_lists_applicants_and_approve_by_number(session: ConsoleSession) -> None:
    out = session.run_line("pending")
    assert "Carol Reyes" in out and "Grace Lin" in out
    assert "[1] Approve   [2] Deny   [3] Dismiss" in out and "[4] Approve   [5] Deny   [6] Dismiss" in out
    out = session.run_line("1")
    assert "Approved by @tester: Carol Reyes" in out
    assert store_record(session, CAROL)["Enabled"] is True
    assert store_record(session, GRACE)["Enabled"] is False


def test_pending_shows_the_applicants_words_and_dismiss_asks_then_leaves_the_store_alone(session: ConsoleSession) -> None:
    out = session.run_line("pending")
    assert "Store notes: Wholesale application: 3 shops in Texas." in out
    assert "(first seen by the bot) · found at first start" in out
    question = session.run_line(str(number_of(session, "Dismiss")))
    assert question.startswith("Are you sure?") and "store account is not changed" in question
    out = session.run_line("y")
    assert "Dismissed by @tester: Carol Reyes's application left the queue" in out
    assert store_record(session, CAROL)["Enabled"] is False
    out = session.run_line("pending")
    assert "Carol Reyes" not in out and "Grace Lin" in out
    assert "bob@example.com is not a wholesale applicant" in session.run_line("approve bob@example.com")
    assert "@tester · dismissed the wholesale application" in session.run_line("history carol@example.com")


def test_history_shows_a_change(session: ConsoleSession) -> None:
    session.run_line("jane@example.com")
    session.run_line(str(number_of(session, "Subscribe")))
    assert store_record(session, JANE)["MailList"] is True
    out = session.run_line("history jane@example.com")
    assert "History of jane@example.com" in out
    assert "@tester · subscribed them to the mailing list" in out


def test_viewer_is_refused_and_nothing_changes(make_session: Callable[..., ConsoleSession]) -> None:
    session = make_session(Role.VIEWER)
    assert session.role == Role.VIEWER
    out = session.run_line("jane@example.com")
    assert "Jane Doe" in out and "[1]" not in out  # no buttons for a viewer
    out = session.run_line("disable jane@example.com")
    assert out.startswith("! Only support agents")
    assert store_record(session, JANE)["Enabled"] is True


def test_as_viewer_switches_role_and_old_buttons_are_refused(session: ConsoleSession) -> None:
    session.run_line("jane@example.com")
    disable = number_of(session, "Disable")
    out = session.run_line("as viewer")
    assert "role viewer" in out and session.role == Role.VIEWER
    assert session.runtime.desk.guard.role(Actor(USER)) == Role.VIEWER
    assert session.runtime.desk.guard.role(Actor("UOTHERADMIN")) == Role.ADMIN  # others keep theirs
    session.run_line(str(disable))  # the card drawn as admin is still on screen
    out = session.run_line("y")
    assert out.startswith("! Only support agents")
    assert store_record(session, JANE)["Enabled"] is True
    assert "role viewer" in session.run_line("whoami")
    session.run_line("as agent")
    assert session.role == Role.AGENT
    assert "Delete…" not in session.run_line("jane@example.com")
    assert session.run_line("as boss").startswith("!")


def test_stale_numbers_comments_and_quit(session: ConsoleSession) -> None:
    assert "for a customer id write `#3`" in session.run_line("3")  # no card: the parser's hint
    session.run_line("jane@example.com")
    assert session.run_line("99") == ("No action 99 — the latest card's actions are 1–5. `99` isn't a command; "
                                      "for a customer id write `#99` (a phone number needs all its digits).")
    assert "Are you sure?" in session.run_line("2")  # the card's numbers still work after a stray one
    session.run_line("n")
    session.run_line("help")  # a new reply without buttons: the old numbers are gone
    out = session.run_line("2")
    assert "No action" not in out and "for a customer id write `#2`" in out
    assert session.run_line("# a comment") == ""
    assert session.run_line("   ") == ""
    assert not session.finished
    session.run_line("quit")
    assert session.finished


def test_help_is_the_bots_help_plus_the_console_section(session: ConsoleSession) -> None:
    out = session.run_line("help")
    assert i.USAGE.splitlines()[0] in out
    assert "as admin|agent|viewer" in out and "whoami" in out


# ------------------------------------------------------------------------------ the REPL and main


def test_repl_echoes_lines_and_prompts_for_answers(session: ConsoleSession) -> None:
    out = io.StringIO()
    repl(session, stdin=io.StringIO("jane@example.com\n5\ny\nquit\njane@example.com\n"), stdout=out, interactive=False)
    text = out.getvalue()
    assert "customer> jane@example.com\nJane Doe" in text
    assert "customer> y\n✓ Deleted Jane Doe" in text
    assert text.rstrip().endswith("customer> quit")  # nothing after quit runs
    assert store_record(session, JANE) is None


def test_repl_interactive_ends_at_eof(session: ConsoleSession) -> None:
    lines = iter(["pending", "2"])
    prompts: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    out = io.StringIO()
    repl(session, stdin=io.StringIO(), stdout=out, interactive=True, read=read)
    assert "Are you sure?" in out.getvalue()
    assert prompts == [PROMPT, PROMPT, "[y/N]> "]
    assert store_record(session, CAROL)["Enabled"] is False


def test_main_prints_banner_and_runs_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env; with DATA_DIR unset, sandbox state is temporary
    for name in ("THREEDCART_SECURE_URL", "THREEDCART_PRIVATE_KEY", "THREEDCART_TOKEN", "DATA_DIR", "BOT_ADMINS", "BOT_AGENTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO("jane@example.com\n2\ny\n"))
    assert main(["--as", "agent", "--user", "UME", "--name", "me"]) == 0
    out = capsys.readouterr().out
    assert "embedded sandbox demo store at http://127.0.0.1:" in out
    assert "@me (UME), role agent" in out
    assert "move jane@example.com to Wholesale" in out
    assert "[y/N]> y\n✓ Jane Doe is now disabled." in out
    assert not (tmp_path / "data").exists()  # demo session: its state went to a temp dir, now removed


def test_main_refuses_incomplete_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("THREEDCART_TOKEN", "tok-super-secret-value")
    monkeypatch.delenv("THREEDCART_SECURE_URL", raising=False)
    monkeypatch.delenv("THREEDCART_PRIVATE_KEY", raising=False)
    assert main([], runtime_factory=lambda s: pytest.fail("must not build a runtime")) == 1
    err = capsys.readouterr().err
    assert "THREEDCART_SECURE_URL" in err and "tok-super-secret-value" not in err


def test_python_m_bot_console_in_a_pipe(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("THREEDCART_", "BOT_", "SLACK_")) and k != "DATA_DIR"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONIOENCODING"] = "utf-8"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console"], input="jane@example.com\n# comment\nhelp\n",
        capture_output=True, text=True, encoding="utf-8", cwd=tmp_path, env=env, timeout=20,
    )
    assert done.returncode == 0, done.stderr
    assert "customer> jane@example.com\nJane Doe\n════════" in done.stdout
    assert "Group:        VIP" in done.stdout
    assert "customer> # comment\ncustomer> help\n" in done.stdout
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists()  # demo session: its state went to a temp dir, now removed


def test_a_demo_session_keeps_its_trail_out_of_database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("THREEDCART_SECURE_URL", "THREEDCART_PRIVATE_KEY", "THREEDCART_TOKEN", "DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://bot:pw@db.example.com:5432/prod")
    settings = console_settings("UME", Role.AGENT)
    assert settings.sandbox_mode and settings.database_url is None
    assert settings.data_dir.name.startswith("customer-console-")
    settings.data_dir.rmdir()


def test_a_demo_session_never_uses_the_configured_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DATA_DIR may hold a real trail; the demo store resets each run, so its state must too."""
    real = tmp_path / "real-data"
    first = console_settings("UME", Role.AGENT, data_dir=real, **NO_STORE_CREDENTIALS)
    second = console_settings("UME", Role.AGENT, data_dir=real, **NO_STORE_CREDENTIALS)
    try:
        assert first.sandbox_mode and first.database_url is None
        assert first.data_dir.name.startswith(TEMP_PREFIX) and first.data_dir != real
        assert second.data_dir != first.data_dir  # each run starts afresh, like the demo store
        runtime = build_runtime(first)
        try:
            assert "Jane Doe" in ConsoleSession(runtime, Actor("UME", "me")).run_line("jane@example.com")
            assert runtime.db.dialect == "sqlite" and str(first.data_dir) in runtime.db.url
        finally:
            runtime.close()
        assert not real.exists()  # nothing of the demo went to DATA_DIR
    finally:
        drop_temp_state(first)
        drop_temp_state(second)


def test_a_typed_phone_number_is_a_search_not_a_button_press(make_session: Callable[..., ConsoleSession]) -> None:
    def add_pat(runtime: Runtime) -> None:
        runtime.store.sandbox.add_customer(Email="pat@example.com", BillingFirstName="Pat", BillingLastName="Ng",
                                           BillingPhoneNumber="2175550199")
    session = make_session(before=add_pat)
    card = session.run_line("jane@example.com")
    assert "[2] Disable" in card  # a card with buttons is showing, so numbers press them...
    found = session.run_line("217 555 0199")  # ...but a phone number is a search, not button 217
    assert "No action" not in found and "pat@example.com" in found
    assert "Are you sure?" in session.run_line("2")  # positive control: a real press still works


def test_a_fresh_session_knows_the_applicants_before_any_poll(make_session: Callable[..., ConsoleSession]) -> None:
    """Reproducer (fix-appr 1): in a fresh session an agent's ``enable`` approved Carol without an
    admin, and ``dismiss`` called Grace "not a wholesale applicant"."""
    agent = make_session(Role.AGENT)
    out = agent.run_line("enable carol@example.com")
    assert out.startswith("! Only admins") and store_record(agent, CAROL)["Enabled"] is False
    out = agent.run_line("pending")
    assert "Carol Reyes" in out and "Grace Lin" in out and "found at first start" in out
    assert "[1] Approve" not in out  # an agent sees the queue, without buttons

    admin = make_session(Role.ADMIN)
    out = admin.run_line("dismiss grace@example.com")
    assert "Dismissed by @tester: Grace Lin's application left the queue" in out
    assert store_record(admin, GRACE)["Enabled"] is False
    out = admin.run_line("pending")
    assert "Grace Lin" not in out and "Carol Reyes" in out  # positive control: the queue is there
