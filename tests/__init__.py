"""Plotify's test suite and the support the benchmarks share with it.

The shared support is tests.support and tests.standin.
"""
