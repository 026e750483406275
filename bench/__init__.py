"""Benchmark: data generator and load runner (see bench/README.md)."""
