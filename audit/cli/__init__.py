"""The command lines, the top layer of flood-audit: each turns arguments into a
configuration, calls the library below, and turns bad input into one line and exit code 2.

- :mod:`~audit.cli.run`: ``python -m audit.run``, an audit (the demo without arguments).
- :mod:`~audit.cli.train`: ``python -m audit.train``, one target model saved as a checkpoint.
- :mod:`~audit.cli.report`: ``python -m audit.report``, re-render a report from results.json.

``audit/run.py``, ``audit/train.py`` and ``audit/report.py`` only launch these.
"""
