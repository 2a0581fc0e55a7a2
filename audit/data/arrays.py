"""A data set as in-memory arrays, with a fingerprint that identifies its content."""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class ArrayDataset:
    """Features ``x`` (float32, ``[N, *input_shape]``, images as ``[N, C, H, W]`` in [0, 1]
    before normalisation) and labels ``y`` (int64 ``[N]``); ``class_names`` (one per class)
    where the source names its classes, else empty."""

    name: str
    x: np.ndarray
    y: np.ndarray
    num_classes: int
    is_image: bool
    class_names: tuple[str, ...] = field(default=())

    def class_name(self, label: int) -> str:
        """The name of class ``label``, or the label as text when classes have no names."""
        return self.class_names[label] if label < len(self.class_names) else str(label)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    @functools.cached_property
    def fingerprint(self) -> str:
        """A hash of the arrays: caches keyed on it are invalidated when the data change.
        Computed once per data set (hashing CIFAR-10's 700 MB takes seconds)."""
        digest = hashlib.sha256()
        digest.update(str((self.x.shape, str(self.x.dtype), self.num_classes)).encode())
        digest.update(np.ascontiguousarray(self.x).tobytes())
        digest.update(np.ascontiguousarray(self.y).tobytes())
        return digest.hexdigest()[:16]


def load_digits_dataset() -> ArrayDataset:
    """scikit-learn's bundled digits (1,797 8x8 grey images, 10 classes): no download.

    Read from the CSV file scikit-learn ships (what its ``load_digits`` parses), so that an
    audit whose models and analysis are all cached need not import scikit-learn (about
    0.9 s, scipy.stats included); through ``load_digits`` where that file is not found."""
    rows = _bundled_digits()
    if rows is None:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        images, target = bunch.images, bunch.target
    else:
        images, target = rows[:, :-1].reshape(-1, 8, 8), rows[:, -1].astype(int)
    x = (images / 16.0).astype(np.float32)[:, None, :, :]  # [N, 1, 8, 8] in [0, 1]
    return ArrayDataset(
        name="digits",
        x=x,
        y=target.astype(np.int64),
        num_classes=10,
        is_image=True,
        class_names=tuple(str(label) for label in range(10)),
    )


def _bundled_digits() -> np.ndarray | None:
    """scikit-learn's ``datasets/data/digits.csv.gz`` as float64 rows (64 pixels, then the
    label), found without importing scikit-learn; None if it is not there."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
    if not path.is_file():
        return None
    with gzip.open(path, "rt") as handle:
        rows = np.loadtxt(handle, delimiter=",")
    return rows if rows.ndim == 2 and rows.shape[1] == 65 else None
