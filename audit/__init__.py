"""flood-audit: membership-inference audits of models trained with and without flooding.

Entry points: ``python -m audit.run`` (command line) and :func:`audit.pipeline.run_audit`.
"""

__version__ = "0.1.0"
