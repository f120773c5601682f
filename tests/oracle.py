"""PyTorch is the oracle of many tests, and a dev dependency only. Without it, each test that
touches it skips (at that point, naming the call), and every other test in the module still runs."""
import pytest

try:
    import torch
    import torch.nn.functional as F
    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False

    class _Absent:
        "Stands in for torch: building names is free; calling anything skips the test that calls it."
        def __init__(self, name): self._name = name
        def __getattr__(self, attr):
            if attr.startswith('__'): raise AttributeError(attr)
            return _Absent(f'{self._name}.{attr}')
        def __call__(self, *args, **kwargs):
            pytest.skip(f"needs PyTorch ({self._name}): pip install torch==2.13.0")

    torch, F = _Absent('torch'), _Absent('torch.nn.functional')

# for the few tests that reach torch other than by calling it (a signature, a benchmark's own import)
needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="needs PyTorch: pip install torch==2.13.0")
