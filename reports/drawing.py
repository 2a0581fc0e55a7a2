"""Draw many figures at once: each in a worker process, on as many cores as there are.

A report holds two dozen figures and matplotlib draws one on one core, in Python; forked
workers draw them side by side. A worker builds its figure from the builder the parent
holds (inherited through ``fork``, so nothing but the PNG bytes crosses between processes)
and returns the PNG. Where ``fork`` is unavailable (Windows, macOS's default), on one core,
or for a handful of figures, they are drawn here one after another; the bytes are the same
either way.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Sequence

from matplotlib.figure import Figure

from reports.datauri import figure_to_png
from results.machine import usable_cores

Builder = Callable[[], "Figure | None"]

# Below this many figures, starting workers costs more than it saves.
_MIN_PARALLEL = 4
_MAX_WORKERS = 8

# The builders of the drawing in progress, for forked workers to read by index.
_pending: Sequence[Builder] = ()


def draw_pngs(builders: Sequence[Builder], *, workers: int | None = None) -> list[bytes | None]:
    """PNG bytes of each builder's figure, in order; None where a builder returns None.

    ``workers``: processes to draw in (default: the cores this process may use, at most 8;
    1 draws here, one figure after another).
    """
    global _pending
    count = _default_workers(len(builders)) if workers is None else min(workers, len(builders))
    if count <= 1 or "fork" not in multiprocessing.get_all_start_methods() or sys.platform == "darwin":
        return [_draw(builder) for builder in builders]
    _warm_up()
    _pending = builders
    try:
        with multiprocessing.get_context("fork").Pool(count) as pool:
            return pool.map(_draw_pending, range(len(builders)), chunksize=1)
    finally:
        _pending = ()


def _warm_up() -> None:
    """Draw a tiny figure here first, so that the workers inherit loaded fonts and caches
    instead of each loading them."""
    figure = Figure(figsize=(1, 1))
    figure.add_subplot().set_xlabel("warm-up 0.1")
    figure_to_png(figure)


def _default_workers(figures: int) -> int:
    if figures < _MIN_PARALLEL:
        return 1
    return min(usable_cores(), _MAX_WORKERS, figures)


def _draw_pending(index: int) -> bytes | None:
    return _draw(_pending[index])


def _draw(builder: Builder) -> bytes | None:
    figure = builder()
    return None if figure is None else figure_to_png(figure)
