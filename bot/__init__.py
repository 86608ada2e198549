"""/customer — a Slack bot for looking up and fixing store customer accounts."""

__version__ = "0.1.0"
