"""A figure's legend under its axes, placed from the font's metrics and drawn as plain artists.

matplotlib's ``Legend`` lays its entries out in nested offset boxes, once when the layout
measures it and again at every draw: a fifth of a report figure's drawing time (0.04 s of
0.15 s for a ROC figure of 15 entries). The report's legends are all alike, frameless
columns of handle and label centred under the axes, so this module places each entry itself,
with matplotlib's default geometry: handles 2 font sizes long, 0.8 from their label, 2
between columns, 0.5 between rows, entries filling the first column first. A handle is a
copy of what it stands for (line and marker, patch, scatter marker), so it looks the same.

Handles of other kinds fall back to matplotlib's legend (:func:`place_legend` says which it
drew); :func:`legend_texts` reads either back.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.collections import PathCollection
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Text

from reports.figures.text_extent import POINTS, text_extent

HANDLE_LENGTH, HANDLE_TEXT_PAD, COLUMN_SPACING, LABEL_SPACING, HANDLE_HEIGHT = 2.0, 0.8, 2.0, 0.5, 0.7  # font sizes
_GID = "report-legend"  # marks the texts of a legend drawn here


@dataclass(frozen=True)
class _Entry:
    handle: Artist
    label: str
    width: float  # of the label, inches
    height: float


def place_legend(figure: Figure, *, columns: int, bottom: float, margin: float, font_size: float) -> float:
    """A legend of every labelled artist of ``figure``'s axes, centred, its lowest row
    ``bottom`` inches above the figure's bottom edge, in as many of ``columns`` columns as fit
    between side margins of ``margin`` inches (one column always). Returns its height in
    inches (0 without labelled artists)."""
    handles, labels = [], []
    for ax in figure.axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.append(handle)
            labels.append(label)
    if not labels:
        return 0.0
    if not all(_supported(h) for h in handles):
        return _matplotlib_legend(figure, handles, labels, columns=columns, bottom=bottom, margin=margin, font_size=font_size)
    em = font_size / POINTS
    entries = [_Entry(h, label, *_extent(label, font_size)) for h, label in zip(handles, labels, strict=True)]
    width, height = figure.get_size_inches()
    for count in range(max(1, min(columns, len(entries))), 0, -1):
        stacks = [list(stack) for stack in np.array_split(np.arange(len(entries)), count)]
        widths = [(HANDLE_LENGTH + HANDLE_TEXT_PAD) * em + max(entries[i].width for i in stack) for stack in stacks]
        total = sum(widths) + COLUMN_SPACING * em * (count - 1)
        if total <= width - 2 * margin or count == 1:
            break
    heights = [sum(entries[i].height for i in stack) + LABEL_SPACING * em * (len(stack) - 1) for stack in stacks]
    legend_height = max(heights)
    left = (width - total) / 2
    for stack, column_width in zip(stacks, widths, strict=True):
        top = bottom + legend_height
        for i in stack:
            entry = entries[i]
            middle = top - entry.height / 2
            _draw_handle(figure, entry.handle, x=left, y=middle, em=em)
            figure.text(
                (left + (HANDLE_LENGTH + HANDLE_TEXT_PAD) * em) / width,
                middle / height,
                entry.label,
                fontsize=font_size,
                ha="left",
                va="center",
                gid=_GID,
            )
            top -= entry.height + LABEL_SPACING * em
        left += column_width + COLUMN_SPACING * em
    return legend_height


def legend_texts(figure: Figure) -> list[Text]:
    """The label texts of ``figure``'s legends, in order: those :func:`place_legend` drew, or
    matplotlib's."""
    drawn = [text for text in figure.texts if text.get_gid() == _GID]
    return drawn + [text for legend in figure.legends for text in legend.get_texts()]


def _extent(label: str, font_size: float) -> tuple[float, float]:
    extent = text_extent(label, font_size)
    return extent.width, extent.height


def _supported(handle: Artist) -> bool:
    return isinstance(handle, (Line2D, Patch, PathCollection)) or (
        isinstance(handle, BarContainer) and len(handle.patches) > 0
    )


def _draw_handle(figure: Figure, handle: Artist, *, x: float, y: float, em: float) -> None:
    """A copy of ``handle``'s look, ``HANDLE_LENGTH`` font sizes long, starting ``x`` inches from
    the left edge and centred ``y`` inches above the bottom edge."""
    width, height = figure.get_size_inches()
    start, end, middle = x / width, (x + HANDLE_LENGTH * em) / width, (x + HANDLE_LENGTH * em / 2) / width
    level = y / height
    if isinstance(handle, BarContainer):
        handle = handle.patches[0]
    proxies: list[Artist] = []
    if isinstance(handle, Line2D):
        line = Line2D([start, end], [level, level])
        line.update_from(handle)
        line.set_marker("None")
        proxies.append(line)
        if handle.get_marker() not in (None, "None", "none", "", " "):
            marker = Line2D([middle], [level])
            marker.update_from(handle)
            marker.set_linestyle("None")
            proxies.append(marker)
    elif isinstance(handle, Patch):
        box = Rectangle((start, level - HANDLE_HEIGHT * em / 2 / height), end - start, HANDLE_HEIGHT * em / height)
        box.update_from(handle)
        proxies.append(box)
    else:  # a scatter: one marker of its first size
        sizes = handle.get_sizes()
        default = matplotlib.rcParams["lines.markersize"] ** 2  # scatter's own default size
        marker = PathCollection(handle.get_paths()[:1], sizes=sizes[:1] if len(sizes) else [default])
        marker.update_from(handle)
        marker.set_offsets([(middle, level)])
        marker.set_offset_transform(figure.transFigure)
        proxies.append(marker)
    for proxy in proxies:
        if not isinstance(proxy, PathCollection):
            proxy.set_transform(figure.transFigure)
        proxy.set_clip_on(False)
        proxy.set_clip_path(None)
        proxy.set_label(None)
        figure.add_artist(proxy)


def _matplotlib_legend(
    figure: Figure, handles: list, labels: list[str], *, columns: int, bottom: float, margin: float, font_size: float
) -> float:
    """matplotlib's legend, measured, for handles :func:`_draw_handle` cannot copy."""
    width, height = figure.get_size_inches()
    renderer = RendererAgg(1, 1, figure.dpi)
    for count in range(max(1, min(columns, len(labels))), 0, -1):
        legend = figure.legend(
            handles,
            labels,
            loc="lower center",
            bbox_to_anchor=(0.5, bottom / height),
            ncols=count,
            fontsize=font_size,
            frameon=False,
            borderaxespad=0.0,
        )
        extent = legend.get_window_extent(renderer)
        if extent.width / figure.dpi <= width - 2 * margin or count == 1:
            return extent.height / figure.dpi
        legend.remove()
    raise AssertionError("unreachable: one column is always accepted")
