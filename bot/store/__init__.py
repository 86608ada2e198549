"""Store access: backend-neutral models and protocol, typed errors, the backend registry, the
3dcart and BigCommerce clients, the cached service."""
