"""Benchmarks of Leda against bare Temporal and raw PostgreSQL, measured in one run: `make bench`."""
