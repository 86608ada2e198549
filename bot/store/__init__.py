"""Store access: backend-neutral models, typed errors, the 3dcart client, the cached service."""
