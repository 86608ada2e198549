"""Reply → Block Kit: limits, escaping, confirm objects, ids — every output checked by slack_sdk."""

from __future__ import annotations

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import intents as i
from bot.reply import Button, Card, Choice, Confirm, Field, Menu, Notice, Reply
from bot.slack.blocks import (
    MAX_BLOCKS, PICK_PREFIX, parse_pick, render, render_options, render_text,
)
from bot.slack.text import mrkdwn_escape

try:
    from slack_helpers import all_text, assert_valid_message, elements
except ImportError:  # pragma: no cover - run as a package
    from tests.slack_helpers import all_text, assert_valid_message, elements


def customer_card(n: int = 12, **kw: object) -> Card:
    base = dict(
        title=f"Jane Doe {n}",
        fields=(Field("Email", f"jane{n}@example.com"), Field("Group", "Wholesale (#2)")),
        actions=(
            Menu("Move to group…", choices=(Choice("Retail", i.Move(n, "0")), Choice("Wholesale (#2)", i.Move(n, "2"))),
                 selected=Choice("Wholesale (#2)", i.Move(n, "2"))),
            Button("Disable", i.SetFlag(n, "enabled", False)),
            Button("Delete…", i.Delete(n), style="danger"),
        ),
        footer="ID 12",
        key=f"c{n}",
    )
    base.update(kw)
    return Card(**base)  # type: ignore[arg-type]


def blocks_of(type_: str, payload: dict) -> list[dict]:
    return [b for b in payload["blocks"] if b["type"] == type_]


def text_objects(payload: dict) -> list[dict]:
    out: list[dict] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn"):
                out.append(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(payload["blocks"])
    return out


# ------------------------------------------------------------------------------ shape


def test_customer_card_renders_header_fields_actions_footer() -> None:
    reply = Reply(text="Jane Doe (jane12@example.com)", cards=(customer_card(),))
    payload = render(reply)
    assert_valid_message(payload)
    assert set(payload) == {"text", "blocks"}
    assert [b["type"] for b in payload["blocks"]] == ["header", "section", "actions", "context"]
    assert payload["blocks"][0]["text"]["text"] == "Jane Doe 12"
    assert payload["blocks"][1]["fields"][0]["text"] == "Email\njane12@example.com"
    select, disable, delete = payload["blocks"][2]["elements"]
    assert select["type"] == "static_select"
    assert select["initial_option"] == select["options"][1]
    assert i.decode(select["options"][0]["value"]) == i.Move(12, "0")
    assert i.decode(disable["value"]) == i.SetFlag(12, "enabled", False)
    assert delete["style"] == "danger" and "style" not in disable
    assert payload["text"] == "Jane Doe (jane12@example.com)"


def test_notices_get_an_emoji_by_level_and_come_first() -> None:
    reply = Reply(text="x", cards=(customer_card(),), notices=(
        Notice("ok", "done"), Notice("info", "fyi"), Notice("warn", "careful"), Notice("error", "broken")))
    payload = render(reply)
    assert_valid_message(payload)
    texts = [b["text"]["text"] for b in payload["blocks"][:4]]
    assert texts == ["✅ done", "ℹ️ fyi", "⚠️ careful", "❌ broken"]


def test_notice_only_reply() -> None:
    payload = render(Reply.notice("warn", "Only admins (BOT_ADMINS) can delete customers."))
    assert_valid_message(payload)
    assert len(payload["blocks"]) == 1
    assert payload["text"] == "Only admins (BOT_ADMINS) can delete customers."


def test_empty_reply_still_valid() -> None:
    payload = render(Reply(text=""))
    assert_valid_message(payload)
    payload = render(Reply(text="hi", cards=(Card(title=""),)))
    assert_valid_message(payload)


def test_confirm_object_from_confirm_with_limits() -> None:
    confirm = Confirm("T" * 150, "x" * 400, "C" * 40, "D" * 40)
    card = Card(title="Applicants", actions=(
        Button("Deny", i.Deny(5), style="danger", confirm=confirm),
        Button("Approve all", i.ApproveAll((1, 2)), style="primary", confirm=Confirm("Approve all?", "Sure?")),
    ), key="p")
    payload = render(Reply(text="x", cards=(card,)))
    assert_valid_message(payload)
    deny, approve = elements(payload)
    c = deny["confirm"]
    assert len(c["title"]["text"]) <= 100 and c["title"]["text"].endswith("…")
    assert len(c["text"]["text"]) <= 300
    assert len(c["confirm"]["text"]) <= 30 and len(c["deny"]["text"]) <= 30
    assert c["style"] == "danger"
    assert approve["confirm"]["confirm"]["text"] == "Yes" and approve["confirm"]["deny"]["text"] == "Cancel"
    assert "style" not in approve["confirm"]


# ------------------------------------------------------------------------------ limits


def test_long_title_is_truncated_with_ellipsis() -> None:
    payload = render(Reply(text="t", cards=(Card(title="A" * 400, key="x"),)))
    assert_valid_message(payload)
    header = payload["blocks"][0]["text"]["text"]
    assert len(header) == 150 and header.endswith("…")


def test_sixty_cards_fit_in_fifty_blocks_with_a_more_line() -> None:
    cards = tuple(customer_card(n) for n in range(60))
    payload = render(Reply(text="60 customers", cards=cards))
    assert_valid_message(payload)
    assert len(payload["blocks"]) <= MAX_BLOCKS
    shown = len(blocks_of("header", payload))
    last = payload["blocks"][-1]
    assert last["type"] == "context"
    assert last["elements"][0]["text"] == f"…and {60 - shown} more — narrow your search"
    assert 0 < shown < 60


def test_many_notices_are_packed() -> None:
    notices = tuple(Notice("warn", f"No customer with the address x{n}@example.com.") for n in range(80))
    payload = render(Reply(text="x", cards=(customer_card(),), notices=notices))
    assert_valid_message(payload)
    assert "x79@example.com" in all_text(payload)


def test_static_select_is_capped_at_100_options() -> None:
    choices = tuple(Choice(f"Group {n}", i.Move(1, str(n))) for n in range(150))
    card = Card(title="t", actions=(Menu("Move…", choices=choices),), key="c1")
    payload = render(Reply(text="t", cards=(card,)))
    assert_valid_message(payload)
    (select,) = elements(payload)
    assert select["type"] == "static_select" and len(select["options"]) == 100


def test_search_menu_becomes_external_select_with_template_in_action_id() -> None:
    selected = Choice("Wholesale (#2)", i.Move(7, "2"))
    card = Card(title="t", actions=(Menu("Move to group…", selected=selected, search_for=i.Move(7, "")),), key="c7")
    payload = render(Reply(text="t", cards=(card,)))
    assert_valid_message(payload)
    (select,) = elements(payload)
    assert select["type"] == "external_select"
    assert select["action_id"].startswith(PICK_PREFIX + ":")
    assert select["min_query_length"] in (0, 1)
    assert parse_pick(select["action_id"]) == i.Move(7, "")
    assert i.decode(select["initial_option"]["value"]) == i.Move(7, "2")


def test_initial_option_only_when_selected_is_listed() -> None:
    choices = (Choice("A", i.Move(1, "1")), Choice("B", i.Move(1, "2")))
    card = Card(title="t", actions=(Menu("m", choices=choices, selected=Choice("Z", i.Move(1, "9"))),), key="k")
    (select,) = elements(render(Reply(text="t", cards=(card,))))
    assert "initial_option" not in select


def test_long_labels_are_truncated() -> None:
    card = Card(title="t", actions=(
        Button("B" * 200, i.Lookup(1)),
        Menu("P" * 300, choices=(Choice("O" * 200, i.Move(1, "1")),)),
    ), key="k")
    payload = render(Reply(text="t", cards=(card,)))
    assert_valid_message(payload)
    button, select = elements(payload)
    assert len(button["text"]["text"]) == 75 and button["text"]["text"].endswith("…")
    assert len(select["options"][0]["text"]["text"]) == 75
    assert len(select["placeholder"]["text"]) <= 150


def test_too_long_values_drop_the_control_not_the_message() -> None:
    card = Card(title="t", actions=(
        Button("huge", i.Move(1, "g" * 3000)),
        Button("ok", i.Lookup(1)),
        Menu("m", choices=(Choice("long", i.Move(1, "x" * 400)), Choice("short", i.Move(1, "2")))),
    ), key="k")
    payload = render(Reply(text="t", cards=(card,)))
    assert_valid_message(payload)
    els = elements(payload)
    assert [e.get("text", {}).get("text") for e in els if e["type"] == "button"] == ["ok"]
    (select,) = [e for e in els if e["type"] == "static_select"]
    assert [o["text"]["text"] for o in select["options"]] == ["short"]


def test_long_body_is_split_into_sections_and_many_fields_into_blocks() -> None:
    lines = tuple(f"line {n}: " + "x" * 90 for n in range(100))  # ~10 000 chars
    fields = tuple(Field(f"F{n}", "v" * 2500) for n in range(13))
    payload = render(Reply(text="t", cards=(Card(title="t", fields=fields, lines=lines, key="k"),)))
    assert_valid_message(payload)
    sections = blocks_of("section", payload)
    field_sections = [s for s in sections if "fields" in s]
    assert [len(s["fields"]) for s in field_sections] == [10, 3]
    assert all(len(f["text"]) <= 2000 for s in field_sections for f in s["fields"])
    text_sections = [s for s in sections if "text" in s]
    assert len(text_sections) >= 4
    assert all(len(s["text"]["text"]) <= 3000 for s in text_sections)
    assert "line 0:" in text_sections[0]["text"]["text"] and "line 99:" in text_sections[-1]["text"]["text"]


def test_more_than_25_actions_split_into_several_actions_blocks() -> None:
    actions = tuple(Button(f"b{n}", i.Lookup(n)) for n in range(1, 31))
    payload = render(Reply(text="t", cards=(Card(title="t", actions=actions, key="k"),)))
    assert_valid_message(payload)
    assert [len(b["elements"]) for b in blocks_of("actions", payload)] == [25, 5]


def test_action_ids_unique_across_cards_with_the_same_key() -> None:
    cards = (customer_card(1, key="same"), customer_card(2, key="same"), customer_card(3, key=""))
    payload = render(Reply(text="t", cards=cards))
    assert_valid_message(payload)  # includes the uniqueness check
    ids = [e["action_id"] for e in elements(payload)]
    assert len(ids) == len(set(ids)) == 9
    assert all(len(a) <= 255 for a in ids)


def test_render_options_caps_at_100_and_validates() -> None:
    choices = [Choice(f"Group {n} " + "x" * 100, i.Move(3, str(n))) for n in range(150)]
    result = render_options(choices)
    assert set(result) == {"options"}
    assert len(result["options"]) == 100
    assert all(len(o["text"]["text"]) <= 75 and len(o["value"]) <= 150 for o in result["options"])
    from slack_sdk.models.blocks import Option
    for option in result["options"]:
        Option.parse_all([option])[0].to_dict()


# ------------------------------------------------------------------------------ escaping


NASTY = ["<!channel>", "*bold*", "_it_ ~s~ `code`", "a & b", "<@U1>", "<https://evil.example|click>", "&lt;", ":tada:"]


def test_data_is_shown_literally_never_as_mrkdwn() -> None:
    card = Card(
        title="<!channel> *bold*",
        fields=tuple(Field(f"L{n}", s) for n, s in enumerate(NASTY)),
        lines=tuple(NASTY),
        actions=(Button("<@U1> *x*", i.Lookup(1)), Menu("<!here>", choices=(Choice("<!here> & *y*", i.Move(1, "1")),))),
        footer="<@U1> & *z*",
        key="k",
    )
    reply = Reply(text="<!channel> & *bold*", cards=(card,), notices=(Notice("warn", "<!everyone> `x`"),))
    payload = render(reply)
    assert_valid_message(payload)
    objs = text_objects(payload)
    assert objs and all(o["type"] == "plain_text" and o.get("emoji") is False for o in objs)
    shown = "\n".join(o["text"] for o in objs)
    for s in NASTY + ["<!channel> *bold*", "<@U1> *x*", "<!here> & *y*", "<@U1> & *z*", "<!everyone> `x`"]:
        assert s in shown
    # The top-level text is mrkdwn (notifications): escaped so nothing there can mention, link
    # or format (a zero-width space keeps each formatting character from pairing up).
    assert payload["text"] == "&lt;!channel&gt; &amp; \u200b*\u200bbold\u200b*\u200b"


@pytest.mark.parametrize("name", [
    "*bold*", "_italic_", "~strike~", "`code`", "```block```", "see https://evil.example/x", "www.evil.example",
    "Jane \u202eeoD\u202c", "Ann \u2067x\u2069 \u200fY", "a*b* _c_d",
])
def test_fallback_text_cannot_format_link_or_reorder(name: str) -> None:
    """Reproducer (issue 11, item 7): the notification ``text`` escaped only ``& < >``."""
    from bot.slack.text import BIDI_CONTROLS, ZWSP
    text = render(Reply(text=f"Applicant: {name}"))["text"]
    assert not any(ord(ch) in BIDI_CONTROLS for ch in text)
    assert "://" not in text and "www." not in text.lower()
    for position, ch in enumerate(text):
        if ch in "*_~`":
            before = text[position - 1] if position else " "
            after = text[position + 1] if position + 1 < len(text) else " "
            # either inside a word (cannot format) or fenced by zero-width spaces
            assert (before.isalnum() and after.isalnum()) or (before == ZWSP and after == ZWSP), (name, text)
    visible = text.replace(ZWSP, "")
    assert visible == f"Applicant: {name}".translate(BIDI_CONTROLS)  # nothing else is lost


def test_mrkdwn_escape() -> None:
    assert mrkdwn_escape("<!channel> & <@U1> > x") == "&lt;!channel&gt; &amp; &lt;@U1&gt; &gt; x"
    assert mrkdwn_escape("&amp;") == "&amp;amp;"
    assert mrkdwn_escape("plain") == "plain"


def test_render_text_escapes_fallback_and_uses_plain_text() -> None:
    payload = render_text("@ann moved <!channel>@example.com: group A → group B")
    assert_valid_message(payload)
    assert payload["text"] == "@ann moved &lt;!channel&gt;@example.com: group A → group B"
    assert payload["blocks"][0]["text"]["type"] == "plain_text"


text_st = st.text(st.characters(blacklist_categories=("Cs",)), max_size=400)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=text_st, label=text_st, value=st.text(max_size=3000), lines=st.lists(text_st, max_size=20),
    footer=text_st, notice=text_st, n_cards=st.integers(0, 30),
)
def test_any_text_renders_to_a_valid_message(title: str, label: str, value: str, lines: list[str],
                                             footer: str, notice: str, n_cards: int) -> None:
    card = Card(title=title, fields=(Field(label, value),) * 3, lines=tuple(lines), footer=footer,
                actions=(Button(label or "b", i.Lookup(1)), Menu(title, choices=(Choice(label, i.Move(1, "2")),))),
                key=title[:10])
    payload = render(Reply(text=title, cards=(card,) * n_cards, notices=(Notice("info", notice),)))
    assert_valid_message(payload)
    assert "<" not in payload["text"] and ">" not in payload["text"]
