"""The report's figures, each drawn from result records and returned as a matplotlib Figure.

Figures are built on :class:`matplotlib.figure.Figure` directly, never through pyplot, so no
global figure registry or interactive backend is involved. Each function returns None when
the result holds nothing for it to draw; the report then prints a one-line note instead.

- :mod:`~reports.figures.leak`: privacy-utility frontier; AUC against loss and confidence.
- :mod:`~reports.figures.roc`: ROC curves (log-log) with the DP ceiling.
- :mod:`~reports.figures.training`: training loss per epoch; AUC along training.
- :mod:`~reports.figures.distributions`: member/non-member histograms; AUC per class.
- :mod:`~reports.figures.common`: sizes, colours, literal text shared by all of them.
- :mod:`~reports.figures.layout`: margins from what a figure holds (no constrained layout);
  :mod:`~reports.figures.legend` places the legend under the axes, and
  :mod:`~reports.figures.text_extent` measures text for both.
"""

from reports.figures.distributions import histogram_figure, per_class_figure
from reports.figures.leak import frontier_figure, relation_figure
from reports.figures.roc import roc_attacks_figure, roc_overlay_figure
from reports.figures.training import snapshot_figure, training_loss_figure

__all__ = [
    "frontier_figure",
    "histogram_figure",
    "per_class_figure",
    "relation_figure",
    "roc_attacks_figure",
    "roc_overlay_figure",
    "snapshot_figure",
    "training_loss_figure",
]
