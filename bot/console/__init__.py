"""The try-it console: the same bot, one user, in a terminal.

``python -m bot console`` builds the same :class:`~bot.runtime.Runtime` the Slack surfaces use
and shows each :class:`~bot.reply.Reply` as plain text. Buttons and menus get numbers; typing a
number presses it, the way a click would in Slack::

    customer> jane@example.com
    Jane Doe
    ════════
      Email:   jane@example.com
      …
      [1] Move to group… (current: Retail)
      [2] Disable   [3] Subscribe   [4] History   [5] Delete…
    customer> 2

Three small parts, kept apart (the desk knows nothing of any of them):

* :mod:`.render` — :class:`TextRenderer` / :func:`render_text`: Reply → text plus the
  numbered actions;
* :mod:`.session` — :class:`Roles` (who the console user is, as the ``BOT_ADMINS`` /
  ``BOT_AGENTS`` sets the guard is built from) and :class:`ConsoleSession`, which interprets
  one line at a time (``run_line(line) -> str``);
* :mod:`.main` — :func:`main`, the REPL around it: ``input()`` on a terminal, otherwise stdin
  line by line with each line echoed, ending at end of input — so a session can be scripted:
  ``printf 'jane@example.com\\n2\\ny\\n' | python -m bot console``. Logs go to
  ``DATA_DIR/console.log``.

The names importable from the former single module ``bot/console.py`` are re-exported here.
"""

from .main import (
    LOG_FILE, TEMP_PREFIX, InputFn, RuntimeFactory, banner, console_settings, example_commands, main,
    parse_args, repl, safe_url,
)
from .render import (
    INLINE_CHOICES_MAX, NOTICE_MARKS, WIDTH, Rendered, TextRenderer, clean, confirm_question, render_text,
)
from .session import (
    CHOICE_PROMPT, CONFIRM_PROMPT, CONSOLE_HELP, DEFAULT_NAME, DEFAULT_USER, PROMPT, ROLE_BY_NAME,
    ROLE_WORDS, SEARCH_PROMPT, ConsoleSession, Roles, is_comment,
)

__all__ = [
    "ConsoleSession", "Rendered", "Roles", "TextRenderer", "banner", "console_settings", "main",
    "render_text", "repl",
    # also importable, as from the former module:
    "CHOICE_PROMPT", "CONFIRM_PROMPT", "CONSOLE_HELP", "DEFAULT_NAME", "DEFAULT_USER", "INLINE_CHOICES_MAX",
    "InputFn", "LOG_FILE", "NOTICE_MARKS", "PROMPT", "ROLE_BY_NAME", "ROLE_WORDS", "RuntimeFactory",
    "SEARCH_PROMPT", "TEMP_PREFIX", "WIDTH", "clean", "confirm_question", "example_commands", "is_comment",
    "parse_args", "safe_url",
]
