"""Post or update a Reply in a channel through the Web API (audit lines, approvals channel).

Web API errors (``invalid_blocks``, ``ratelimited`` after the client's retries,
``message_not_found``, ``channel_not_found``, …) are logged with Slack's error code and reported
as a ``None``/``False`` result: a failed post never raises into a listener or a worker.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from ..reply import Reply
from .blocks import render, render_text

log = logging.getLogger(__name__)


def slack_error(exc: Exception) -> str:
    """Slack's error code for a failed Web API call (``"ratelimited"``, …) or the exception name."""
    if isinstance(exc, SlackApiError):
        try:
            return str(exc.response.get("error") or f"http_{exc.response.status_code}")
        except Exception:  # pragma: no cover - defensive: odd response object
            return "slack_api_error"
    return type(exc).__name__


class SlackPoster:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    @staticmethod
    def message(reply_or_text: Reply | str) -> dict:
        if isinstance(reply_or_text, Reply):
            return render(reply_or_text)
        return render_text(str(reply_or_text))

    def post(self, channel: str, reply_or_text: Reply | str, *, thread_ts: str | None = None) -> str | None:
        """Post to ``channel``; the new message's ``ts``, or ``None`` when Slack refused."""
        try:
            resp = self.client.chat_postMessage(channel=channel, thread_ts=thread_ts,
                                                **self.message(reply_or_text))
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("chat.postMessage to %s failed: %s", channel, slack_error(exc))
            return None
        return resp.get("ts")

    def update(self, channel: str, ts: str, reply_or_text: Reply | str) -> bool:
        """Replace the message ``ts`` in ``channel``; ``False`` when Slack refused."""
        try:
            self.client.chat_update(channel=channel, ts=ts, **self.message(reply_or_text))
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("chat.update of %s/%s failed: %s", channel, ts, slack_error(exc))
            return False
        return True
