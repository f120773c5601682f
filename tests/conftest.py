import os
import pytest
from hypothesis import settings
from oracle import torch, HAVE_TORCH

os.environ.setdefault("MPLBACKEND", "Agg")  # tests draw figures but never show them

# CI runs the property tests on a fixed sequence of examples, so a landing never depends on luck;
# locally each run explores new ones (and replays any failure it found before).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI", "").lower() == "true": settings.load_profile("ci")


@pytest.fixture(scope='module')
def torch_float64():
    "PyTorch's default dtype float64 while one module's tests run (its oracle computes in float64), then back."
    if not HAVE_TORCH: yield; return
    before = torch.get_default_dtype(); torch.set_default_dtype(torch.float64)
    try: yield
    finally: torch.set_default_dtype(before)
