"""Benchmarks: each `python -m bench.bench_NAME` records its results under bench/results/."""
