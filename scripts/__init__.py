"""Benchmarks, data generators and operational scripts (not part of the distribution)."""
