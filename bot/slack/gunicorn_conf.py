"""gunicorn settings for the bot: checks the number of workers before any of them starts.

Loaded by the Procfile (``--config python:bot.slack.gunicorn_conf``) and, from the project
folder, by ``gunicorn.conf.py`` (gunicorn reads that file from the working directory by
default). ``on_starting`` runs once in gunicorn's master with the final worker count —
``--workers``, or ``WEB_CONCURRENCY`` when the flag is absent — and refuses a shape the bot
cannot run safely (see ``bot/processes.py``). gunicorn prints the message and exits with 1.
"""

from __future__ import annotations

from typing import Any


def on_starting(server: Any) -> None:
    from ..config import ConfigError, load_settings
    from ..processes import check_process_shape

    try:
        check_process_shape(load_settings(), int(server.cfg.workers))
    except ConfigError as exc:
        raise RuntimeError(f"Configuration problem: {exc}") from None
