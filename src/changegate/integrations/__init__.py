"""Adapters to the outside world, each behind a Protocol in ports.py, each optional."""
