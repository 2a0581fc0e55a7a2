"""A data set as in-memory arrays, with a fingerprint that identifies its content."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field

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
    """scikit-learn's bundled digits (1,797 8x8 grey images, 10 classes): no download."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None, :, :]  # [N, 1, 8, 8] in [0, 1]
    return ArrayDataset(
        name="digits",
        x=x,
        y=bunch.target.astype(np.int64),
        num_classes=10,
        is_image=True,
        class_names=tuple(str(name) for name in bunch.target_names),
    )
