"""Reproducible performance runs and the synthetic log generator they (and the demo) use."""
