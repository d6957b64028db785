"""Benchmarks: each prints its figures and writes a JSON report under bench/results/."""
