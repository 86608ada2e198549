"""The bot's state that outlives a request: SQL tables (SQLite or PostgreSQL) and, with REDIS_URL, shared cache, locks and budgets in Redis."""
