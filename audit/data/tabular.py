"""Data sets from files of arrays or tables: ``npz:PATH`` and ``csv:PATH[:LABEL_COLUMN]``.

Labels may be any integers: they are remapped to 0..K-1 in sorted order of their values
(labels {2, 5, 9} become {0, 1, 2}). Pickled objects in ``.npz`` files are refused.
"""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path

import numpy as np

from audit.data.arrays import ArrayDataset
from audit.errors import AuditInputError, one_line


def load_npz(name: str, path: Path) -> ArrayDataset:
    """Arrays ``x`` (``[N, F]`` or ``[N, C, H, W]``) and ``y`` (``[N]``) of an ``.npz`` file."""
    arrays, names = _read_npz(path, wanted=("x", "y"))
    missing = [name for name in ("x", "y") if name not in arrays]
    if missing:
        raise AuditInputError(
            f"{path} has no array {' or '.join(missing)}; it needs x (features) and y (labels), "
            f"it has: {', '.join(names) or 'none'}"
        )
    x, y = arrays["x"], arrays["y"]
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise AuditInputError(f"{path}: x has dtype {x.dtype}; features must be numbers")
    if x.ndim not in (2, 4):
        raise AuditInputError(f"{path}: x has shape {x.shape}; use [N, F] for features or [N, C, H, W] for images")
    return _checked_dataset(name, x, y, source=path)


def _read_npz(path: Path, *, wanted: tuple[str, ...]) -> tuple[dict[str, np.ndarray], list[str]]:
    """The ``wanted`` arrays that an ``.npz`` file has, and the names of all its arrays;
    pickled objects are refused."""
    if not zipfile.is_zipfile(path):
        raise AuditInputError(f"{path} is not an .npz file (the zip of arrays numpy.savez writes)")
    _check_declared_sizes(path, wanted=wanted)
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return {name: arrays[name] for name in wanted if name in arrays.files}, list(arrays.files)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise AuditInputError(
            f"{path} cannot be read as .npz without pickle: {one_line(err)}; save plain numeric arrays again "
            "with numpy.savez(PATH, x=features, y=labels)"
        ) from err


def _check_declared_sizes(path: Path, *, wanted: tuple[str, ...]) -> None:
    """Refuse arrays whose headers declare more bytes than this machine's memory, before
    numpy tries to allocate them (a damaged or hostile header can claim terabytes)."""
    limit = _memory_bytes()
    with zipfile.ZipFile(path) as archive:
        for name in wanted:
            if f"{name}.npy" not in archive.namelist():
                continue
            with archive.open(f"{name}.npy") as member:
                try:
                    major, _ = np.lib.format.read_magic(member)
                    read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
                    shape, _, dtype = read_header(member)
                except ValueError as err:
                    raise AuditInputError(
                        f"{path}: array {name} has an unreadable header: {one_line(err)}; the file is damaged: "
                        "write it again with numpy.savez(PATH, x=features, y=labels)"
                    ) from err
            size = int(np.prod(shape, dtype=object)) * dtype.itemsize
            if size > limit:
                raise AuditInputError(
                    f"{path}: array {name} declares shape {shape} of {dtype} ({size / 2**30:,.1f} GiB), more than "
                    f"this machine's {limit / 2**30:,.1f} GiB of memory; the file is damaged or too large to audit here"
                )


def _memory_bytes() -> int:
    """Physical memory of this machine (a generous 1 TiB where it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 2**40


def split_csv_argument(argument: str) -> tuple[str, str]:
    """``PATH`` or ``PATH:LABEL_COLUMN``; a path that exists as given wins, so a path that
    contains ':' needs no label column."""
    if ":" not in argument or Path(argument).expanduser().exists():
        return argument, "label"
    path, _, label_column = argument.rpartition(":")
    return path, label_column


def load_csv(name: str, path: Path, *, label_column: str) -> ArrayDataset:
    """A CSV file with a header line: numeric feature columns and one integer label column."""
    header, rows = _read_csv_rows(path)
    if label_column not in header:
        raise AuditInputError(
            f"{path} has no column {label_column!r} (columns: {', '.join(header)}); the first line must be a header, "
            "and a label column other than 'label' is named as csv:PATH:COLUMN"
        )
    if len(header) < 2:
        raise AuditInputError(
            f"{path} has no feature columns besides {label_column!r}; add the feature columns, or name the label "
            "column with csv:PATH:COLUMN if it is another one"
        )
    table = np.array(rows, dtype=str)  # [N, columns]
    columns = {column: _numeric_column(table[:, i], column=column, path=path) for i, column in enumerate(header)}
    labels = columns.pop(label_column)
    return _checked_dataset(name, np.stack(list(columns.values()), axis=1), labels, source=path, feature_names=list(columns))


def _read_csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and data rows (blank lines skipped), every row as long as the header."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise AuditInputError(f"{path} is empty; a CSV file needs a header line naming the columns")
            rows = []
            for row in reader:
                if row and len(row) != len(header):
                    raise AuditInputError(
                        f"{path}, line {reader.line_num}: {len(row)} fields but the header has {len(header)}; "
                        "give every row one value per column (quote values that contain commas)"
                    )
                if row:
                    rows.append(row)
    except (UnicodeDecodeError, csv.Error) as err:
        raise AuditInputError(
            f"{path} cannot be read as a UTF-8 CSV file: {one_line(err)}; save it as UTF-8 CSV (comma-separated, "
            "a header line first)"
        ) from err
    if not rows:
        raise AuditInputError(f"{path} has a header but no data rows; add one row per example below the header")
    return [column.strip() for column in header], rows


def _numeric_column(values: np.ndarray, *, column: str, path: Path) -> np.ndarray:
    """Strings ``[N]`` -> float64 ``[N]``, naming the column and the first non-number."""
    try:
        return values.astype(np.float64)
    except ValueError:
        row = next(i for i, value in enumerate(values) if not _is_number(value))
        raise AuditInputError(
            f"{path}: column {column!r} is not numeric ({str(values[row])!r} in data row {row + 1}); "
            "features and labels must be numbers: encode categories first (e.g. one-hot)"
        ) from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _checked_dataset(
    name: str, x: np.ndarray, y: np.ndarray, *, source: Path, feature_names: list[str] | None = None
) -> ArrayDataset:
    """Validate features ``[N, ...]`` and labels ``[N]`` of a file; labels remapped to 0..K-1."""
    if y.ndim != 1 or len(y) != len(x):
        raise AuditInputError(f"{source}: x has {len(x)} rows but y has shape {y.shape}; y needs one label per row of x")
    x = x.astype(np.float32)
    bad = np.argwhere(~np.isfinite(x))
    if len(bad):
        first = tuple(int(i) for i in bad[0])
        where = f"row {first[0]}, column {feature_names[first[1]]!r}" if feature_names else f"x{list(first)}"
        raise AuditInputError(f"{source}: features contain NaN or infinity (first at {where}); drop or impute them first")
    labels, num_classes = _labels_to_indices(y, source=source)
    return ArrayDataset(name=name, x=x, y=labels, num_classes=num_classes, is_image=x.ndim == 4)


def _labels_to_indices(labels: np.ndarray, *, source: Path) -> tuple[np.ndarray, int]:
    """Integer-like labels ``[N]`` -> int64 indices 0..K-1 (sorted order of the values), and K."""
    if not (np.issubdtype(labels.dtype, np.number) or labels.dtype == bool):
        raise AuditInputError(
            f"{source}: labels have dtype {labels.dtype}; they must be integers: encode the classes as numbers first "
            "(any integers; they are renumbered 0..K-1)"
        )
    if not (np.issubdtype(labels.dtype, np.integer) or labels.dtype == bool):
        not_integer = ~np.isfinite(labels) | (labels != np.round(labels))
        if not_integer.any():
            row = int(np.argmax(not_integer))
            raise AuditInputError(
                f"{source}: labels must be integers, but row {row} has {labels[row]}; use whole-number class labels "
                "(a float column of class labels must hold whole numbers)"
            )
    values, indices = np.unique(labels, return_inverse=True)
    if len(values) < 2:
        raise AuditInputError(
            f"{source}: labels take {len(values)} distinct value(s); classification needs at least 2: check that the "
            "labels are the right column (csv:PATH:COLUMN) or array (y), or add examples of another class"
        )
    return indices.astype(np.int64), len(values)
