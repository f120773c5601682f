import os
os.environ.setdefault("MPLBACKEND", "Agg")  # tests draw figures but never show them
