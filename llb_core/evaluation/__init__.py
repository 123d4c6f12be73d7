"""Evaluation (J&F, DAVIS protocol) and benchmarks."""
