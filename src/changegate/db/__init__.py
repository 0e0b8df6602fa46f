"""Persistence: SQLAlchemy models, the engine, and the repositories that own every query."""
