"""Which shapes of several processes the bot supports, checked before any worker starts.

One process (``python -m bot serve``, gunicorn with one worker and many threads) needs nothing
shared. Several web workers or hosts must agree on the cache, write locks, click keys, the store
budget and the poller lease, and that is what ``REDIS_URL`` is for: without it they would each
keep their own, and one click delivered to two workers could be written twice.

Sandbox mode starts the demo store *inside* each process, so several workers would each show
their own demo data (one lookup Enabled, the next Disabled). Rather than start a demo store in
gunicorn's master and hand it to the workers — a server thread in a process that forks, and a
store that dies with a master restart — the bot refuses several workers in sandbox mode and says
how to share one: ``python -m bot sandbox``, with the ``THREEDCART_*`` settings pointed at it.
"""

from __future__ import annotations

from .config import ConfigError, Settings

CREDENTIALS = "THREEDCART_API_URL, THREEDCART_SECURE_URL, THREEDCART_PRIVATE_KEY and THREEDCART_TOKEN"


def check_process_shape(settings: Settings, workers: int) -> None:
    """Refuse (``ConfigError``) ``workers`` web processes that would not agree with each other."""
    if workers <= 1:
        return
    if settings.sandbox_mode:
        raise ConfigError(
            f"{workers} web workers in sandbox mode would each run their own demo store and show "
            "different data. Run one worker (threads are fine: --workers 1), or run one shared demo "
            f"store with `python -m bot sandbox` and set {CREDENTIALS} (and REDIS_URL) to use it."
        )
    if settings.redis_url is None:
        raise ConfigError(
            f"{workers} web workers need REDIS_URL: without it each worker keeps its own cache, write "
            "locks and click keys, so one click delivered to two workers could change the store twice. "
            "Set REDIS_URL, or run one worker with threads (--workers 1, WEB_CONCURRENCY=1)."
        )
