"""The performance suite: run ``python -m benchmarks`` from the repository root.

It is not part of the test command (pytest collects ``tests/`` only): timings need
a quiet machine and a minute or two, and they are compared with the targets in
``docs/explanation/performance.md`` rather than asserted.
"""
