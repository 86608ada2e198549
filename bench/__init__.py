"""Benchmarks for the /customer bot (not timed tests). Run them all with ``python -m bench.run``.

See ``bench/README.md`` for what each figure means and how it is measured.
"""
