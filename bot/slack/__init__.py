"""The Slack surface: Bolt app, listeners, Block Kit rendering, WSGI entry point.

Only this package imports ``slack_bolt`` / ``slack_sdk``.
"""
