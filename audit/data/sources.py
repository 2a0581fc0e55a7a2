"""Data sets by spec string: built-in, torchvision downloads, image folders, ``.npz`` and ``.csv``.

    >>> from audit.data import load_dataset
    >>> digits = load_dataset("digits")
    >>> digits.x.shape, digits.num_classes
    ((1797, 1, 8, 8), 10)

Every loader returns the *whole* data set as an :class:`~audit.data.arrays.ArrayDataset`; where the
source has a train and a test part (torchvision's data sets, image folders with ``train/``
and ``test/``), both are concatenated, train first. The toolkit draws its own audit pool and
test part (:func:`audit.data.split.split_pool`): membership inference needs to decide who is in.

Images come back as float32 ``[N, C, H, W]`` in [0, 1], not normalised; tabular features as
float32 ``[N, F]``. Image folders are labelled as ImageFolder does (class folders sorted by
name), one channel when every image is grey, else RGB. Labels of ``npz:`` and ``csv:`` files
may be any integers: they are remapped to 0..K-1 in sorted order of their values (labels
{2, 5, 9} become {0, 1, 2}).

Expected failures (a missing file, an offline download, a malformed file) raise
:class:`~audit.errors.AuditInputError` with a one-line message naming the file or value and,
where there is one, the fix.
"""

from __future__ import annotations

import itertools
import os
import warnings
import zipfile
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from audit.data.arrays import ArrayDataset, load_digits_dataset
from audit.data.tabular import load_csv, load_npz, split_csv_argument
from audit.errors import AuditInputError, one_line
from results.files import atomic_path, stable_hash
from results.machine import usable_cores

# spec -> (torchvision.datasets class, description)
_TORCHVISION = {
    "cifar10": ("CIFAR10", "CIFAR-10: 60,000 32x32 colour images, 10 classes (torchvision, --download)"),
    "cifar100": ("CIFAR100", "CIFAR-100: 60,000 32x32 colour images, 100 classes (torchvision, --download)"),
    "mnist": ("MNIST", "MNIST: 70,000 28x28 grey digits, 10 classes (torchvision, --download)"),
    "fashion-mnist": ("FashionMNIST", "Fashion-MNIST: 70,000 28x28 grey clothing images, 10 classes (torchvision, --download)"),
}


def available_datasets() -> dict[str, str]:
    """Accepted specs (``PATH`` and ``LABEL_COLUMN`` are placeholders) with a description each."""
    return {
        "digits": "scikit-learn's digits: 1,797 8x8 grey images, 10 classes (bundled, no download)",
        **{name: description for name, (_, description) in _TORCHVISION.items()},
        "imagefolder:PATH": "a folder of class folders of images (or train/, test/, training/, testing/, val/ folders of them), one image size",
        "npz:PATH": "arrays x ([N, F] features or [N, C, H, W] images) and y ([N] integer labels)",
        "csv:PATH[:LABEL_COLUMN]": "a CSV file with a header, numeric features and an integer label column (default 'label')",
    }


def default_data_dir() -> Path:
    """Where torchvision data sets live: ``$FLOOD_AUDIT_DATA``, else ``~/.cache/flood-audit/data``."""
    return Path(os.environ.get("FLOOD_AUDIT_DATA") or Path.home() / ".cache" / "flood-audit" / "data").expanduser()


def default_cache_dir() -> Path:
    """Where decoded image folders are cached: ``~/.cache/flood-audit/decoded``."""
    return Path.home() / ".cache" / "flood-audit" / "decoded"


def load_dataset(
    spec: str,
    *,
    data_dir: str | Path | None = None,
    download: bool = False,
    cache_dir: Path | None = None,
) -> ArrayDataset:
    """Load the data set ``spec`` names (see :func:`available_datasets`).

    ``data_dir`` is where torchvision data sets are found, or downloaded to when ``download``
    is set (default :func:`default_data_dir`). ``cache_dir`` holds decoded ``imagefolder:``
    trees (default :func:`default_cache_dir`), so only the first load decodes the images.
    """
    spec = spec.strip()
    kind, _, argument = spec.partition(":")
    kind = kind.lower()
    if kind == "digits" and not argument:
        return load_digits_dataset()
    if kind in _TORCHVISION and not argument:
        root = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
        return _load_torchvision(kind, root=root, download=download)
    if kind == "imagefolder" and argument:
        root = _existing_path(argument, spec=spec, directory=True)
        cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        return _load_image_folder(spec, root, cache_dir=cache_dir, workers=usable_cores())
    if kind == "npz" and argument:
        return load_npz(spec, _existing_path(argument, spec=spec, directory=False))
    if kind == "csv" and argument:
        path_text, label_column = split_csv_argument(argument)
        return load_csv(spec, _existing_path(path_text, spec=spec, directory=False), label_column=label_column)
    raise AuditInputError(f"unknown dataset {spec!r}; choose one of: {', '.join(available_datasets())}")


# ---------------------------------------------------------------- torchvision data sets


def _load_torchvision(name: str, *, root: Path, download: bool) -> ArrayDataset:
    """Train and test part of a torchvision data set, concatenated."""
    import torchvision.datasets  # here: importing torchvision takes ~1.3 s that digits never needs

    dataset_class = getattr(torchvision.datasets, _TORCHVISION[name][0])
    parts = [
        _open_torchvision_part(dataset_class, name=name, root=root, train=train, download=download)
        for train in (True, False)
    ]
    images = np.concatenate([np.asarray(part.data) for part in parts])  # uint8 [N, H, W(, 3)]
    labels = np.concatenate([np.asarray(part.targets, dtype=np.int64) for part in parts])
    classes = tuple(str(c) for c in parts[0].classes)
    return ArrayDataset(
        name=name, x=_to_unit_float(images), y=labels, num_classes=len(classes), is_image=True, class_names=classes
    )


def _open_torchvision_part(
    dataset_class: type, *, name: str, root: Path, train: bool, download: bool
) -> Any:  # torchvision.datasets.VisionDataset
    """The torchvision data set object, its absence or failed download as one-line errors."""
    try:
        return dataset_class(root=str(root), train=train, download=download)
    # torchvision reports missing files as RuntimeError; a failed download as URLError
    # (an OSError), or as RuntimeError after MNIST has tried all of its mirrors.
    except (RuntimeError, OSError) as err:
        if download:
            raise AuditInputError(
                f"downloading {name} from {_source_url(dataset_class)} into {root} failed (offline?): {one_line(err)}; "
                "retry when online, or pass --data-dir pointing at an existing copy"
            ) from err
        raise AuditInputError(
            f"{name} not found (or corrupted) in {root}; pass --download to fetch it, "
            "or --data-dir pointing at an existing copy"
        ) from err


def _source_url(dataset_class: type) -> str:
    """Where torchvision downloads ``dataset_class`` from (MNIST's kind lists mirrors)."""
    return getattr(dataset_class, "url", None) or dataset_class.mirrors[0]


# ---------------------------------------------------------------- image folders


def _load_image_folder(name: str, root: Path, *, cache_dir: Path, workers: int) -> ArrayDataset:
    """An ImageFolder tree, its decoded images cached under ``cache_dir``."""
    samples, classes = _list_image_folder(root.resolve())
    paths = [path for path, _ in samples]
    # ImageFolder lists classes and files sorted, so the list (with sizes and modification
    # times) identifies the decoded array; any changed, added or removed file changes the key.
    cache_file = cache_dir / f"imagefolder-{stable_hash(['decoded images v1', _file_stats(samples)])}.npz"
    images = _read_cached_images(cache_file)
    if images is None:
        images = _decode_files(paths, workers=workers)
        _write_cached_images(cache_file, images)
    labels = np.array([label for _, label in samples], dtype=np.int64)
    return ArrayDataset(
        name=name, x=_to_unit_float(images), y=labels, num_classes=len(classes), is_image=True, class_names=tuple(classes)
    )


# Names of split folders in common image dumps, and the order their parts are merged in.
_SPLIT_FOLDERS = {"train": 0, "training": 0, "val": 1, "valid": 1, "validation": 1, "test": 2, "testing": 2}


def _list_image_folder(root: Path) -> tuple[list[tuple[str, int]], list[str]]:
    """``(path, label)`` of every image and the class names.

    When every folder under ``root`` is named like a split (``train``/``training``,
    ``val``/``valid``/``validation``, ``test``/``testing``, as in common MNIST and CIFAR
    image dumps), each holds the same class folders and the parts are merged (train, then
    validation, then test); otherwise the folders under ``root`` are the classes.
    """
    splits = _split_layout(root)
    if not splits:
        folder = _image_folder(root)
        return folder.samples, folder.classes
    parts = [_image_folder(part) for part in splits]
    for part, folder in zip(splits[1:], parts[1:]):
        if folder.classes != parts[0].classes:
            only_first = sorted(set(parts[0].classes) - set(folder.classes))
            only_this = sorted(set(folder.classes) - set(parts[0].classes))
            raise AuditInputError(
                f"{root}: {splits[0].name}/ and {part.name}/ hold different class folders (only in "
                f"{splits[0].name}/: {only_first}, only in {part.name}/: {only_this}); make them match, "
                "or point imagefolder: at one of them"
            )
    return [sample for folder in parts for sample in folder.samples], parts[0].classes


def _split_layout(root: Path) -> list[Path]:
    """The split folders of ``root`` in merge order when every folder under it is a split
    folder holding class folders; else an empty list (the folders are classes)."""
    folders = [child for child in root.iterdir() if child.is_dir() and not child.name.startswith(".")]
    if not folders or any(folder.name.lower() not in _SPLIT_FOLDERS for folder in folders):
        return []
    if not all(any(child.is_dir() for child in folder.iterdir()) for folder in folders):
        return []
    return sorted(folders, key=lambda folder: (_SPLIT_FOLDERS[folder.name.lower()], folder.name))


def _image_folder(root: Path) -> Any:  # torchvision.datasets.ImageFolder
    """torchvision's listing of an ImageFolder tree (it opens no image)."""
    import torchvision.datasets

    try:
        return torchvision.datasets.ImageFolder(root)
    except FileNotFoundError as err:
        raise AuditInputError(
            f"{root} is not an image folder tree (one folder of images per class): {one_line(err)}"
        ) from err


def _file_stats(samples: list[tuple[str, int]]) -> list[tuple[str, int, int, int]]:
    """``(path, label, size in bytes, modification time in ns)`` per file."""
    stats = []
    for path, label in samples:
        stat = os.stat(path)
        stats.append((path, label, stat.st_size, stat.st_mtime_ns))
    return stats


def _read_cached_images(path: Path) -> np.ndarray | None:
    """The decoded images cached at ``path``; None when absent or unreadable (decode again)."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return arrays["images"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def _write_cached_images(path: Path, images: np.ndarray) -> None:
    """Cache ``images`` atomically, uncompressed (loads fastest). A cache that cannot be
    written costs only time, so that warns instead of failing the load."""
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, images=images)
    except OSError as err:
        warnings.warn(f"could not cache decoded images in {path.parent}: {err}", stacklevel=2)


def _decode_files(paths: list[str], *, workers: int, chunk_size: int = 1000) -> np.ndarray:
    """Decode image files, in order -> uint8 ``[N, H, W]`` if all are grey, else ``[N, H, W, 3]``.

    With more than one chunk and ``workers > 1``, chunks are decoded in worker processes:
    small JPEGs cost mostly Python overhead, which threads would serialise on the GIL.
    """
    chunks = [paths[start : start + chunk_size] for start in range(0, len(paths), chunk_size)]
    if workers <= 1 or len(chunks) == 1:
        return _stack_same_size(itertools.chain.from_iterable(map(_decode_chunk, chunks)), paths)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        try:
            return _stack_same_size(itertools.chain.from_iterable(pool.map(_decode_chunk, chunks)), paths)
        except BaseException:
            pool.shutdown(cancel_futures=True)  # a bad file ends the work now, not after the last chunk
            raise


def _decode_chunk(paths: list[str]) -> list[np.ndarray]:
    return [_decode_image(path) for path in paths]


def _decode_image(path: str) -> np.ndarray:
    """One image file -> uint8 ``[H, W]`` (grey modes 1, L, LA) or ``[H, W, 3]`` (all others, as RGB)."""
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("L" if image.mode in ("1", "L", "LA") else "RGB"))
    except OSError as err:
        raise AuditInputError(
            f"cannot decode image {path}: {one_line(err)}; remove or replace that file (every file in a class folder must be an image)"
        ) from err


def _stack_same_size(images: Iterable[np.ndarray], paths: list[str]) -> np.ndarray:
    """Stack decoded images, refusing any whose size differs from the first; when any image
    is in colour, grey ones become RGB (the grey value in all three channels)."""
    decoded: list[np.ndarray] = []
    for path, image in zip(paths, images):
        if decoded and image.shape[:2] != decoded[0].shape[:2]:
            (height, width), (first_height, first_width) = image.shape[:2], decoded[0].shape[:2]
            raise AuditInputError(
                f"image {path} is {width}x{height} pixels but {paths[0]} is {first_width}x{first_height}; "
                f"all images must share one size: resize them (e.g. to {first_width}x{first_height}) first"
            )
        decoded.append(image)
    if all(image.ndim == 2 for image in decoded):
        return np.stack(decoded)
    return np.stack([np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image for image in decoded])


def _to_unit_float(images: np.ndarray) -> np.ndarray:
    """uint8 ``[N, H, W]`` or ``[N, H, W, C]`` -> float32 ``[N, C, H, W]`` in [0, 1]."""
    channels_first = images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)
    unit = np.ascontiguousarray(channels_first, dtype=np.float32)
    unit /= 255.0
    return unit


# ---------------------------------------------------------------- helpers


def _existing_path(text: str, *, spec: str, directory: bool) -> Path:
    """``text`` as a path that exists and is a directory (or a file)."""
    path = Path(text).expanduser()
    if not path.exists():
        raise AuditInputError(f"dataset {spec!r}: {path} does not exist; check the path in --dataset")
    if directory and not path.is_dir():
        raise AuditInputError(f"dataset {spec!r}: {path} is not a directory (imagefolder: needs a folder of class folders)")
    if not directory and not path.is_file():
        raise AuditInputError(f"dataset {spec!r}: {path} is not a file; npz: and csv: take a file: pass the file itself, not its folder")
    return path
