"""``find`` over the Slack surface: signed requests → the Bolt app → desk → sandbox store, answers
caught by the fake Slack, every message validated against Block Kit."""

from __future__ import annotations

import pytest

try:
    from slack_helpers import AGENT, Slack, action_for, all_text, assert_valid_message, block_actions, elements, message_action
except ImportError:  # pragma: no cover - run as a package
    from tests.slack_helpers import (
        AGENT, Slack, action_for, all_text, assert_valid_message, block_actions, elements, message_action,
    )

pytestmark = pytest.mark.timeout(60)


def headers(payload: dict) -> list[str]:
    return [b["text"]["text"] for b in payload["blocks"] if b["type"] == "header"]


def rows(payload: dict) -> list[dict]:
    return [b for b in payload["blocks"] if b["type"] == "section" and "accessory" in b]


def click_element(slack: Slack, message: dict, element: dict, user: str = AGENT) -> dict:
    url = slack.fake.response_url(user=user, source_ts="1700000000.000100")
    body = block_actions(action_for(element), user_id=user, response_url=url, message=message,
                         message_ts="1700000000.000100", ephemeral=True)
    assert slack.bot.post(body).status_code == 200
    post = slack.fake.wait_response(url)
    assert_valid_message(post.payload)
    return post.payload


@pytest.mark.parametrize("text", ["Jane Doe", "doe jane", "find Acme", "+1 217 555 0101", "search #1"])
def test_a_search_with_one_match_answers_with_the_card(slack: Slack, text: str) -> None:
    assert headers(slack.command(text, AGENT)) == ["Jane Doe"]


def test_several_matches_answer_with_a_list_whose_rows_open_their_cards(slack: Slack) -> None:
    slack.store.add_customer(CustomerID=20, Email="jane.smith@example.com", BillingFirstName="Jane",
                             BillingLastName="<!channel> Smith", CustomerGroupID=2)
    message = slack.command("Jane", AGENT)
    assert headers(message) == ["2 customers match “Jane”"]
    listed = rows(message)
    assert [r["text"]["text"] for r in listed] == [
        "Jane <!channel> Smith · jane.smith@example.com · Wholesale · Enabled",
        "Jane Doe · jane@example.com · VIP · Enabled",
    ]
    assert all(r["text"]["type"] == "plain_text" for r in listed)
    ids = [e["action_id"] for e in elements(message)]
    assert len(ids) == len(set(ids)) == 2
    card = click_element(slack, message, listed[0]["accessory"])
    assert headers(card) == ["Jane <!channel> Smith"]


def test_paging_with_more(slack: Slack) -> None:
    for n in range(12):
        slack.store.add_customer(CustomerID=100 + n, Email=f"pat{n}@example.com", BillingFirstName="Pat",
                                 BillingLastName="Lee")
    message = slack.command("Pat Lee", AGENT)
    assert len(rows(message)) == 10
    more = next(e for e in elements(message) if e.get("text", {}).get("text") == "More")
    second = click_element(slack, message, more)
    assert [r["text"]["text"].split(" · ")[1] for r in rows(second)] == ["pat10@example.com", "pat11@example.com"]


def test_nothing_found_says_what_was_searched(slack: Slack) -> None:
    text = all_text(slack.command("Zorro Unknown", AGENT))
    assert "No customer matches “Zorro Unknown”" in text and "first and last names" in text


def test_the_shortcut_finds_a_phone_number_and_an_id(slack: Slack) -> None:
    url = slack.fake.response_url()
    text = "hi, Jane Doe here, my number is +1 217 555 0101 — and please check customer #2 too"
    assert slack.bot.post(message_action(text, user_id=AGENT, response_url=url)).status_code == 200
    post = slack.fake.wait_response(url)
    assert_valid_message(post.payload)
    assert sorted(headers(post.payload)) == ["Bob Stone", "Jane Doe"]
