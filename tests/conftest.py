import os

import pytest
import torch
from hypothesis import HealthCheck, settings

import augkit

settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(autouse=True)
def _seeded_and_strict():
    """Every test starts from the same global RNG state, with the pixel checks on."""
    torch.manual_seed(0)
    augkit.set_strict(True)
    yield
    augkit.set_strict(False)
