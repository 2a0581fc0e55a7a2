"""docs/errors.md quotes every error message the commands print; this keeps the quotes true.

A message on the page is a code span in the first column of a table headed ``Message``, a
code span of four or more words in the prose, or a line of an indented code block. Its parts
in angle brackets (``<path>``, ``<value>``) and its elisions (``...``) vary; every fixed piece
between them of at least :data:`MIN_FRAGMENT` characters (in a sample without placeholders,
also between its numbers) must be text the packages' sources can print.

The sources are read, not imported. Each string expression (an f-string, implicitly joined
literals, ``+`` of strings) is rendered with its replacement fields as gaps, except
module-level constants (``MIN_POOL_SIZE``, ``", ".join(OPTIMIZERS)``), which are filled in.
A piece must lie within one rendered string, or within one such template whose gaps hold
other strings of the sources (``--output-dir`` passed for ``{option}``). A message changed
in the code without the page therefore fails here.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "errors.md"
PACKAGES = ("audit", "attacks", "models", "results", "reports")
MIN_FRAGMENT = 12
GAP = "\x00"  # stands for a replacement field in the rendered sources; never in a fragment

# Added around a message by the command line, argparse or the progress output, not part of it.
PREFIX = re.compile(r"^(python -m audit\.\w+: error: ?|argument --[\w-]+: |warning: |interrupted: )")
# argparse's own messages, quoted as examples: not in the project's sources.
ARGPARSE_OWN = re.compile(r"invalid \w+ value: |invalid choice: |unrecognized arguments: |arguments are required: ")
PLACEHOLDER = re.compile(r"<[^<>`]+>")
ELISION = "..."
NUMBER = re.compile(r"\d+(?:\.\d+)?")


# -- the page -------------------------------------------------------------------------------


def _cells(row: str) -> list[str]:
    """A table row's cells (backslash-escaped pipes aside, which the page does not use)."""
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _spans(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def quoted_messages(page: str) -> list[tuple[int, str]]:
    """(line number, message) for each message the page quotes."""
    messages: list[tuple[int, str]] = []
    lines = page.splitlines()
    message_table = False
    paragraph: list[tuple[int, str]] = []

    def flush() -> None:
        if paragraph:
            text = " ".join(line for _, line in paragraph)
            messages.extend(
                (paragraph[0][0], span)
                for span in _spans(text)
                if len(span.split()) >= 4 and not span.startswith("-")
            )
            paragraph.clear()

    for number, line in enumerate(lines, start=1):
        if line.startswith("|"):
            flush()
            cells = _cells(line)
            if number == 1 or not lines[number - 2].startswith("|"):  # a header row
                message_table = cells[0].startswith("Message")
            elif message_table and not set(cells[0]) <= set("-: "):
                messages.extend((number, span) for span in _spans(cells[0]))
        elif line.startswith("    ") and not paragraph and line.strip():
            messages.append((number, line.strip()))
        elif not line.strip() or line.startswith("#"):
            flush()
        else:
            paragraph.append((number, line.strip()))
    flush()
    return messages


def fragments(message: str) -> list[str]:
    """The fixed pieces of ``message`` worth checking: between placeholders and elisions,
    without the prefix the command line adds, at least :data:`MIN_FRAGMENT` characters."""
    text = PREFIX.sub("", message)
    if ARGPARSE_OWN.search(text):
        return []
    parts = PLACEHOLDER.split(text)
    if len(parts) == 1:  # no placeholder: a sample with real values, whose numbers vary too
        parts = NUMBER.split(text)
    pieces = [p for part in parts for p in part.split(ELISION)]
    return [p.strip() for p in pieces if len(p.strip()) >= MIN_FRAGMENT]


# -- the sources ----------------------------------------------------------------------------


def _constants(trees: list[ast.Module]) -> dict[str, object]:
    """Module-level constants (a string, a number, or a tuple, list or dict of strings), by
    name; a name bound to different values in different modules is left out."""
    found: dict[str, object] = {}
    clashing: set[str] = set()
    for tree in trees:
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if not isinstance(target, ast.Name):
                continue
            if isinstance(value, ast.Dict):
                value = ast.Tuple(elts=list(value.keys), ctx=ast.Load())
            try:
                constant = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            if isinstance(constant, list):
                constant = tuple(constant)
            if isinstance(constant, tuple) and not all(isinstance(item, str) for item in constant):
                continue
            if not isinstance(constant, (str, int, float, tuple)) or isinstance(constant, bool):
                continue
            if found.get(target.id, constant) != constant:
                clashing.add(target.id)
            found[target.id] = constant
    return {name: value for name, value in found.items() if name not in clashing}


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


class _Renderer:
    """Renders string expressions as the text they build, with :data:`GAP` for what varies
    (a path built with ``/`` included)."""

    def __init__(self, constants: dict[str, object], *, quote_repr: bool):
        self.constants = constants
        self.quote_repr = quote_repr  # {x!r} of a string shows quotes: render it as 'GAP'

    def value(self, node: ast.AST) -> object | None:
        """A constant the expression certainly has, or None."""
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float)):
            return node.value
        if isinstance(node, ast.Name):
            return self.constants.get(node.id)
        if (  # ", ".join(CONSTANT)
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "join"
            and isinstance(node.func.value, ast.Constant)
            and isinstance(node.func.value.value, str)
            and len(node.args) == 1
            and not node.keywords
        ):
            items = self.value(node.args[0])
            if isinstance(items, tuple):
                return node.func.value.value.join(items)
        return None

    def text(self, node: ast.AST) -> str:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            return "".join(self.field(part) for part in node.values)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.text(node.left) + self.text(node.right)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and _is_text(node.right):
            return self.text(node.left) + "/" + self.text(node.right)  # a path: folder / "results.json"
        value = self.value(node)
        return str(value) if isinstance(value, (str, int, float)) else GAP

    def field(self, part: ast.AST) -> str:
        if isinstance(part, ast.Constant):
            return str(part.value)
        assert isinstance(part, ast.FormattedValue)
        value = self.value(part.value)
        if value is None or part.format_spec is not None or part.conversion not in (-1, ord("r"), ord("s")):
            if part.conversion == ord("r") and self.quote_repr:
                return f"'{GAP}'"
            return GAP
        return repr(value) if part.conversion == ord("r") else str(value)


@lru_cache(maxsize=1)
def source_strings() -> tuple[str, ...]:
    """Every string expression of the packages' sources, rendered (docstrings and other bare
    strings aside: they print nothing)."""
    paths = [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in paths]
    renderers = [_Renderer(_constants(trees), quote_repr=quote) for quote in (True, False)]
    texts: set[str] = set()
    for tree in trees:
        bare = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
        for node in ast.walk(tree):
            if id(node) in bare:
                continue
            if isinstance(node, (ast.JoinedStr, ast.BinOp)) or (
                isinstance(node, ast.Constant) and isinstance(node.value, str)
            ):
                texts.update(renderer.text(node) for renderer in renderers)
    return tuple(sorted(texts))


class Sources:
    """The rendered strings, for :meth:`builds`.

    A string with replacement fields is a template: literal segments with gaps between them.
    What a caller passes for a gap (``--output-dir`` for ``{option}``, a reason string for
    ``{refusal}``) is itself a string of the sources, so a message the user sees can span a
    template and the strings filled into its gaps.
    """

    def __init__(self, strings: tuple[str, ...]):
        self.corpus = "\n".join(strings)
        self.templates = [tuple(text.split(GAP)) for text in strings if GAP in text]
        self.fills = {segment for text in strings for segment in text.split(GAP)}  # "" too
        self.fill_starts = {fill[:i] for fill in self.fills for i in range(len(fill) + 1)}
        self.fill_ends = {fill[i:] for fill in self.fills for i in range(len(fill))}
        # Where a template's literal text ends at a gap: each end of segment a, by text.
        self.before_gap: dict[str, list[tuple[int, int]]] = {}
        # A template's segment after a gap, and each start of it, by text.
        self.after_gap: dict[str, list[tuple[int, int]]] = {}
        for t, segments in enumerate(self.templates):
            for a, segment in enumerate(segments[:-1]):
                for i in range(len(segment)):
                    self.before_gap.setdefault(segment[i:], []).append((t, a + 1))
            for k, segment in enumerate(segments[1:], start=1):
                for i in range(1, len(segment) + 1):
                    self.after_gap.setdefault(segment[:i], []).append((t, k))
        self.lengths = sorted({len(text) for text in self.after_gap})

    def builds(self, fragment: str) -> bool:
        """True when the code can print ``fragment``: it lies within one string of the
        sources, or within an instance of one template whose gaps hold strings of the
        sources (at the fragment's two ends, part of one)."""
        if fragment in self.corpus:
            return True
        n = len(fragment)
        # States (p, t, k): fragment[:p] matched, next comes the gap before segment k of template t.
        states: set[tuple[int, int, int]] = set()
        for i in range(1, n):
            states.update((i, t, k) for t, k in self.before_gap.get(fragment[:i], ()))
            if fragment[:i] in self.fill_ends:  # the tail of a gap's string, then a template's segment
                for length in self.lengths:
                    states.update((i, t, k) for t, k in self.after_gap.get(fragment[i : i + length], ()))
        todo = list(states)
        while todo:
            p, t, k = todo.pop()
            if fragment[p:] in self.fill_starts:  # the fragment ends in the gap's string
                return True
            segment, last = self.templates[t][k], k == len(self.templates[t]) - 1
            for j in range(p, n + 1):
                if fragment[p:j] not in self.fills:
                    continue
                rest = fragment[j:]
                if segment.startswith(rest):  # the fragment ends in this segment
                    return True
                if rest.startswith(segment) and not last and (j + len(segment), t, k + 1) not in states:
                    states.add((j + len(segment), t, k + 1))
                    todo.append((j + len(segment), t, k + 1))
        return False


@lru_cache(maxsize=1)
def sources() -> Sources:
    return Sources(source_strings())


# -- the tests ------------------------------------------------------------------------------


def _page_messages() -> list[tuple[int, str]]:
    return quoted_messages(PAGE.read_text(encoding="utf-8"))


def test_the_page_quotes_the_messages():
    """The page's format is still the one read here (else the check below checks nothing)."""
    messages = _page_messages()
    assert len(messages) >= 150, f"only {len(messages)} messages found on {PAGE.name}: has its format changed?"
    assert sum(len(fragments(message)) for _, message in messages) >= 300


def test_every_quoted_message_is_in_the_code():
    stale = [
        f"docs/errors.md:{line}: {fragment!r} (of {message!r})"
        for line, message in _page_messages()
        for fragment in fragments(message)
        if not sources().builds(fragment)
    ]
    assert not stale, (
        f"{len(stale)} quoted fragments no longer occur in the sources; update docs/errors.md:\n" + "\n".join(stale)
    )


DIVERGED = (
    "training diverged under <regime> at epoch <e> (loss is not finite) with <o> at learning rate <lr>, "
    "batch size <b>: {verb} the learning rate with --learning-rate, e.g. <x>"
)


@pytest.mark.parametrize(
    "message, found",
    [
        ("pool size must be at least 20 (each model trains on half of the pool), got <value>", True),
        ("pool size must be at least 21 (each model trains on half of the pool), got <value>", False),
        ("unknown optimizer '<value>'; choose one of adam, sgd", True),
        ("unknown optimizer '<value>'; choose one of adam, sgd, lion", False),
        ("python -m audit.run: error: models per regime must be >= <n> for the attacks configured, got <m>", True),
        # Spans a template and what its caller passes for a gap ({what}, {option}).
        ("cannot write to output folder <folder> (<reason>): pass another --output-dir", True),
        ("cannot write to output directory <folder> (<reason>): pass another --output-dir", False),
        # Joined across source lines and f-strings.
        (DIVERGED.format(verb="lower"), True),
        (DIVERGED.format(verb="reduce"), False),
    ],
)
def test_the_check_tells_a_changed_message(message, found):
    assert fragments(message)
    assert all(sources().builds(fragment) for fragment in fragments(message)) is found
