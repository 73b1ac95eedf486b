"""Model catalogue: one module per area; each exposes ``specs() -> list[ModelSpec]``."""
