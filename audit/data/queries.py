"""Query variants of each audit example: the model is asked about every variant, and
attacks such as LiRA (Carlini et al., S&P 2022) average their signal over them.

Variant 0 is always the example itself. Flips and shifts apply to image data only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from audit.errors import AuditInputError


def _shifts(x: torch.Tensor) -> list[torch.Tensor]:
    """The four one-pixel shifts (down, up, right, left), zero-filled at the border."""
    padded = F.pad(x, (1, 1, 1, 1))
    h, w = x.shape[-2:]
    return [padded[..., dy : dy + h, dx : dx + w] for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2))]


QUERY_SETS = {
    "identity": "the example only",
    "flip": "the example and its horizontal mirror image",
    "shift": "the example and its four one-pixel shifts",
    "flip+shift": "the example, its mirror image, and the four shifts of each",
}


def query_variants(x: torch.Tensor, query_set: str, *, is_image: bool) -> list[torch.Tensor]:
    """The variants of a batch ``x`` (``[N, ...]``) to query, each of the same shape."""
    if query_set not in QUERY_SETS:
        raise AuditInputError(f"unknown query set {query_set!r}; choose one of {', '.join(QUERY_SETS)}")
    if query_set != "identity" and not is_image:
        raise AuditInputError(f"query set {query_set!r} needs image data; use --queries identity for tabular data")
    originals = [x, x.flip(-1)] if "flip" in query_set else [x]
    variants = list(originals)
    if "shift" in query_set:
        for original in originals:
            variants += _shifts(original)
    return variants
