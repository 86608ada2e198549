"""``history`` pages in Slack: the pager buttons render, and clicking Next shows the older changes."""

from __future__ import annotations

try:
    from slack_helpers import AGENT, Slack, all_text
except ImportError:  # pragma: no cover
    from tests.slack_helpers import AGENT, Slack, all_text

JANE = 1


def test_history_pages_in_slack_without_refusals(slack: Slack) -> None:
    audit = slack.bot.runtime.audit
    for n in range(17):
        audit.record(user_id="UAGENT", user_name="bob", action="enable" if n % 2 else "disable", outcome="done",
                     customer_id=JANE, email="jane@example.com", before={"enabled": n % 2 == 0},
                     after={"enabled": n % 2 == 1}, detail=f"change {n}")
        audit.record(user_id="UVIEW", action="delete", outcome="refused", customer_id=JANE, detail="needs admin role")
    first = slack.command("history jane@example.com", AGENT)
    text = all_text(first)
    assert "page 1 of 2" in text and "refused" not in text and text.count("@bob") == 15
    second = slack.click(first, AGENT, label="Next ▶")
    assert "page 2 of 2" in all_text(second) and all_text(second).count("@bob") == 2
    back = slack.click(second, AGENT, label="◀ Previous")
    assert "page 1 of 2" in all_text(back)
