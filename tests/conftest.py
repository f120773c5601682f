import os
from hypothesis import settings

os.environ.setdefault("MPLBACKEND", "Agg")  # tests draw figures but never show them

# CI runs the property tests on a fixed sequence of examples, so a landing never depends on luck;
# locally each run explores new ones (and replays any failure it found before).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI", "").lower() == "true": settings.load_profile("ci")
