"""Benchmark scripts (run as files: ``python benchmarks/NAME.py``); each prints its own table
and, with ``--write-docs``, rewrites that table in the documentation (:mod:`benchmarks.doc_blocks`)."""
