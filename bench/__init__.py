"""Benchmarks (not tests): `python -m bench.flow`, `python -m bench.dre`, `python -m bench.images`, `python -m bench.app`."""
