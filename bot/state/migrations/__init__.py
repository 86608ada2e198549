"""Alembic migrations of the bot's tables (env.py, script.py.mako, versions/)."""
