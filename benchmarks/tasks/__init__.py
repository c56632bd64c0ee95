"""Benchmark tasks: each module defines ``tasks(scale) -> list[Task]``; ``scale`` < 1 shrinks
sizes for smoke tests."""
