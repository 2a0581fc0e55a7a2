"""Progress of an audit on the terminal: an overall bar and one per regime, each with the
elapsed time and an estimate of the time left (tqdm).

On a terminal the bars replace the per-model lines; when the output is not a terminal (a
log file, CI) there are no bars, one line per model instead; ``--quiet`` prints neither.
Warnings are always shown, one line each.
"""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm

from audit.events import Events, ModelDone


class TerminalProgress(Events):
    """:class:`Events` for the command line, writing to ``stream`` (standard error)."""

    def __init__(self, *, quiet: bool, stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.bars = not quiet and self.stream.isatty()
        self.overall: tqdm | None = None
        self.current: tqdm | None = None
        self.models_per_regime = 0

    def plan(self, *, regimes: list[str], models_per_regime: int) -> None:
        self.models_per_regime = models_per_regime
        if self.bars:
            # No monitor thread: training workers are forked only from a single-threaded
            # process (audit.pool.processes), and the bars need no refresh between models.
            tqdm.monitor_interval = 0
            self.overall = tqdm(
                total=len(regimes) * models_per_regime, desc="audit", unit="model", file=self.stream, position=0
            )

    def model_done(self, done: ModelDone) -> None:
        if self.bars:
            if self.current is None or self.current.desc != done.regime:
                self._close_current()
                self.current = tqdm(
                    total=self.models_per_regime, desc=done.regime, unit="model", file=self.stream, position=1, leave=False
                )
            self.current.update(1)
            self.overall.update(1)
            self.overall.set_postfix_str(f"last: test acc {done.test_accuracy:.1%}")
        elif not self.quiet:
            self._line(_describe(done))

    def regime_done(self, label: str) -> None:
        self._close_current()

    def info(self, message: str) -> None:
        if not self.quiet:
            self._line(message)

    def warn(self, message: str) -> None:
        self._line(f"warning: {message}")

    def close(self) -> None:
        self._close_current()
        if self.overall is not None:
            self.overall.close()
            self.overall = None

    def _close_current(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None

    def _line(self, text: str) -> None:
        if self.bars:
            tqdm.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)


def _describe(done: ModelDone) -> str:
    source = "cached" if done.cached else f"{done.seconds:.1f} s"
    epsilon = f", eps {done.epsilon:.2f}" if done.epsilon is not None else ""
    return (
        f"[{done.regime}] {done.role} {done.index + 1}/{done.total} ({source}): train loss {done.train_loss:.3f}, "
        f"train acc {done.train_accuracy:.1%}, test acc {done.test_accuracy:.1%}{epsilon}"
    )
