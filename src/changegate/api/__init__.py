"""The REST API under /api/v1: thin routes over the same services as the CLI."""
