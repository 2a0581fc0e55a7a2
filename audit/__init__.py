"""flood-audit: membership-inference audits of models trained with and without flooding.

Layer: the top. ``audit`` uses ``results``, ``attacks``, ``models`` and ``reports``; nothing
below imports it. Its sub-packages, one concern each, layered one way (a package imports only
those listed before it, and ``errors``, ``provenance``):

- :mod:`audit.data`: data sets, the audit pool and test split, normalisation, keep matrix.
- :mod:`audit.training`: regimes, recipes and the one ``train()``.
- :mod:`audit.config`: presets, config files, validation, what a configuration implies.
- :mod:`audit.pool`: pools of models and the model cache.
- :mod:`audit.analysis`: attacks and metrics turned into result records.
- :mod:`audit.target`: auditing a user's own trained model.
- :mod:`audit.pipeline`: one audit from configuration to files on disk.
- :mod:`audit.cli`: the command lines (``python -m audit.run``, ``audit.train``, ``audit.report``).
"""

__version__ = "0.2.0"
