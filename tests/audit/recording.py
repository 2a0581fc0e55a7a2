"""A test executor shared by the executor tests."""

from __future__ import annotations


class Recording:
    """An executor that forwards to another and records which models it was asked for."""

    def __init__(self, inner):
        self.inner, self.asked = inner, []

    def train(self, arrays, job, *, indices, device):
        self.asked.extend(indices)
        yield from self.inner.train(arrays, job, indices=indices, device=device)

    def close(self):
        self.inner.close()
