"""Query variants: the example itself first, then mirror images and one-pixel shifts."""

from __future__ import annotations

import pytest
import torch

from audit.data import QUERY_SETS, query_variants
from audit.errors import AuditInputError


def _dot(row: int, col: int) -> torch.Tensor:
    """A batch of one 1x5x5 image with a single bright pixel."""
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, row, col] = 1.0
    return x


def _where(x: torch.Tensor) -> tuple[int, int]:
    return tuple(int(i) for i in (x[0, 0] == 1).nonzero()[0])


@pytest.mark.parametrize("query_set, count", [("identity", 1), ("flip", 2), ("shift", 5), ("flip+shift", 10)])
def test_each_set_has_its_count_and_starts_with_the_example(query_set, count):
    x = torch.rand(3, 2, 6, 6)
    variants = query_variants(x, query_set, is_image=True)
    assert len(variants) == count and all(v.shape == x.shape for v in variants)
    assert torch.equal(variants[0], x)
    assert set(QUERY_SETS) == {"identity", "flip", "shift", "flip+shift"}


def test_flip_mirrors_horizontally_and_shifts_move_one_pixel_each_way():
    x = _dot(2, 1)
    flipped = query_variants(x, "flip", is_image=True)[1]
    assert _where(flipped) == (2, 3)
    shifted = {_where(v) for v in query_variants(x, "shift", is_image=True)[1:]}
    assert shifted == {(1, 1), (3, 1), (2, 0), (2, 2)}


def test_shifts_fill_the_border_with_zeros():
    corner = _dot(0, 0)
    variants = query_variants(corner, "shift", is_image=True)[1:]
    assert sorted(float(v.sum()) for v in variants) == [0.0, 0.0, 1.0, 1.0]  # two shifts push it out


def test_unknown_set_and_augmenting_tabular_data_are_refused():
    with pytest.raises(AuditInputError, match="unknown query set 'rotate'; choose one of identity, flip"):
        query_variants(torch.zeros(2, 3), "rotate", is_image=False)
    with pytest.raises(AuditInputError, match="needs image data"):
        query_variants(torch.zeros(2, 3), "flip", is_image=False)
