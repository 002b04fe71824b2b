"""Experiments: each a config dataclass (defaults commented, unknown keys rejected) and a
``run`` that trains through the engine and records into a run store."""
