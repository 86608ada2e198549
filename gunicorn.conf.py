"""gunicorn reads this file from the working directory: the bot's worker-count check."""

from bot.slack.gunicorn_conf import on_starting  # noqa: F401
