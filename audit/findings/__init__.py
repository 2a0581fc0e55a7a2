"""The flooding study: its protocol (:mod:`~audit.findings.protocol`) and docs/FINDINGS.md,
generated from the audits' results (:mod:`~audit.findings.markdown`)."""

from audit.findings.markdown import findings_page
from audit.findings.protocol import Study, cifar10_study, digits_study

__all__ = ["Study", "cifar10_study", "digits_study", "findings_page"]
