"""Data sets by spec: torchvision's classes on files written in their own on-disk formats,
image folders and their decode cache, npz and csv files, and every expected failure as an
AuditInputError. Nothing here downloads."""

import hashlib
import os
import pickle
import shutil
import struct
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torchvision.datasets
from PIL import Image

import audit.data.sources
from audit.data.sources import available_datasets, default_data_dir, load_dataset
from audit.errors import AuditInputError

SHARED_CIFAR10 = Path("/work/shared/datasets/cifar10")

# ---------------------------------------------------------------- torchvision formats


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def _write_cifar(monkeypatch, root, dataset_class, *, label_key, num_classes, per_file=3):
    """A tiny CIFAR in the official layout: pickled dicts of uint8 rows (1,024 red, green,
    then blue values each) and labels. Returns the expected images ``[N, 3, 32, 32]`` and
    labels, train files first."""
    folder = root / dataset_class.base_folder
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images, labels = [], []
    for filename, _ in dataset_class.train_list + dataset_class.test_list:
        rows = rng.integers(0, 256, (per_file, 3 * 32 * 32), dtype=np.uint8)
        file_labels = rng.integers(0, num_classes, per_file).tolist()
        # Pickle is CIFAR's own file format; the toolkit itself never writes pickle.
        (folder / filename).write_bytes(pickle.dumps({"data": rows, label_key: file_labels}))
        images.append(rows.reshape(-1, 3, 32, 32))
        labels += file_labels
    meta_path = folder / dataset_class.meta["filename"]
    meta_path.write_bytes(pickle.dumps({dataset_class.meta["key"]: [f"class {i}" for i in range(num_classes)]}))
    # torchvision checks every file against the MD5 sum of the official file. Point the
    # class's lists at the sums of the files written here: the real integrity check still
    # runs (and would fail on a missing or altered file), and so does the real loading code.
    monkeypatch.setattr(dataset_class, "train_list", [[name, _md5(folder / name)] for name, _ in dataset_class.train_list])
    monkeypatch.setattr(dataset_class, "test_list", [[name, _md5(folder / name)] for name, _ in dataset_class.test_list])
    monkeypatch.setattr(dataset_class, "meta", {**dataset_class.meta, "md5": _md5(meta_path)})
    return np.concatenate(images), np.array(labels)


def _write_idx(path, array):
    """IDX, MNIST's format: two zero bytes, type 0x08 (uint8), the number of dimensions, each
    dimension as a big-endian uint32, then the values."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", size) for size in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def _write_mnist(root, dataset_class, *, train=5, test=3):
    """A tiny MNIST where torchvision 0.29 looks for it: ``<root>/<ClassName>/raw/`` holding
    the unzipped ``train-*`` and ``t10k-*`` IDX files (it checks their presence, not MD5)."""
    raw = root / dataset_class.__name__ / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(1)
    images, labels = [], []
    for prefix, n in (("train", train), ("t10k", test)):
        part_images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        part_labels = rng.integers(0, 10, n).astype(np.uint8)
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", part_images)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", part_labels)
        images.append(part_images[:, None])
        labels.append(part_labels)
    return np.concatenate(images), np.concatenate(labels)


@pytest.mark.parametrize(
    "spec, class_name, label_key, num_classes",
    [("cifar10", "CIFAR10", "labels", 10), ("cifar100", "CIFAR100", "fine_labels", 100)],
)
def test_cifar_loads_train_then_test_through_torchvision(monkeypatch, tmp_path, spec, class_name, label_key, num_classes):
    dataset_class = getattr(torchvision.datasets, class_name)
    images, labels = _write_cifar(monkeypatch, tmp_path, dataset_class, label_key=label_key, num_classes=num_classes)
    data = load_dataset(spec, data_dir=tmp_path)
    assert data.x.shape == (len(labels), 3, 32, 32) and data.x.dtype == np.float32
    assert data.is_image and data.num_classes == num_classes and data.name == spec
    np.testing.assert_array_equal(data.x, images.astype(np.float32) / 255)
    np.testing.assert_array_equal(data.y, labels)


def test_cifar_with_a_file_that_fails_its_checksum_is_reported_not_raised(monkeypatch, tmp_path):
    _write_cifar(monkeypatch, tmp_path, torchvision.datasets.CIFAR10, label_key="labels", num_classes=10)
    with open(tmp_path / "cifar-10-batches-py" / "test_batch", "ab") as handle:
        handle.write(b"altered")
    with pytest.raises(AuditInputError, match="corrupted"):
        load_dataset("cifar10", data_dir=tmp_path)


@pytest.mark.parametrize("spec, class_name", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_mnist_idx_files_load_through_torchvision(tmp_path, spec, class_name):
    images, labels = _write_mnist(tmp_path, getattr(torchvision.datasets, class_name))
    data = load_dataset(spec, data_dir=tmp_path)
    assert data.x.shape == (8, 1, 28, 28) and data.num_classes == 10 and data.is_image
    np.testing.assert_array_equal(data.x, images.astype(np.float32) / 255)
    np.testing.assert_array_equal(data.y, labels)


@pytest.mark.parametrize("spec", ["cifar10", "cifar100", "mnist", "fashion-mnist"])
def test_absent_torchvision_files_name_the_directory_and_the_fix(tmp_path, spec):
    with pytest.raises(AuditInputError, match="pass --download to fetch it, or --data-dir") as caught:
        load_dataset(spec, data_dir=tmp_path / "empty")
    assert str(tmp_path / "empty") in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("spec, url", [("cifar10", "cs.toronto.edu"), ("mnist", "ossci-datasets")])
def test_offline_download_is_one_line_naming_the_source(monkeypatch, tmp_path, spec, url):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network (test)")

    # torchvision's downloads all go through urllib.request.urlopen: the real download code
    # runs and meets the error an offline machine gives.
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(AuditInputError, match="failed \\(offline\\?\\)") as caught:
        load_dataset(spec, data_dir=tmp_path, download=True)
    message = str(caught.value)
    assert url in message and "no network (test)" in message and "--data-dir" in message and "\n" not in message


def test_data_dir_defaults_to_the_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("FLOOD_AUDIT_DATA", str(tmp_path / "from-env"))
    assert default_data_dir() == tmp_path / "from-env"
    with pytest.raises(AuditInputError, match="from-env"):
        load_dataset("mnist")


# ---------------------------------------------------------------- image folders


def _write_images(folder, count, *, size=(6, 5), mode="RGB", seed=0):
    """``count`` random PNGs (lossless, so decoded values are checkable) of ``size`` (W, H)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    arrays = [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(count)]
    for i, array in enumerate(arrays):
        Image.fromarray(array, mode=mode).save(folder / f"{i:03d}.png")
    return arrays


@pytest.fixture
def count_decodes(monkeypatch):
    """Counts images decoded through ``audit.data.sources._decode_image``."""
    calls = []
    real = audit.data.sources._decode_image

    def counting(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(audit.data.sources, "_decode_image", counting)
    return calls


def test_image_folder_gives_sorted_class_labels_and_unit_range_images(tmp_path):
    cats = _write_images(tmp_path / "tree" / "cat", 3, seed=1)
    dogs = _write_images(tmp_path / "tree" / "dog", 2, seed=2)
    data = load_dataset(f"imagefolder:{tmp_path / 'tree'}", cache_dir=tmp_path / "cache")
    assert data.x.shape == (5, 3, 5, 6) and data.x.dtype == np.float32 and data.is_image
    assert data.num_classes == 2 and data.y.tolist() == [0, 0, 0, 1, 1]
    assert 0.0 <= data.x.min() and data.x.max() <= 1.0
    np.testing.assert_array_equal(data.x[3], dogs[0].transpose(2, 0, 1) / np.float32(255))
    np.testing.assert_array_equal(data.x[0], cats[0].transpose(2, 0, 1) / np.float32(255))


def test_train_and_test_folders_are_concatenated_train_first(tmp_path):
    for part, count in (("train", 4), ("test", 2)):
        for name in ("a", "b"):
            _write_images(tmp_path / part / name, count)
    data = load_dataset(f"imagefolder:{tmp_path}", cache_dir=tmp_path / "cache")
    assert len(data.y) == 12 and data.num_classes == 2
    assert data.y.tolist() == [0] * 4 + [1] * 4 + [0] * 2 + [1] * 2


def test_train_and_test_folders_with_different_classes_are_refused(tmp_path):
    _write_images(tmp_path / "train" / "a", 1)
    _write_images(tmp_path / "train" / "b", 1)
    _write_images(tmp_path / "test" / "a", 1)
    with pytest.raises(AuditInputError, match="only in train/: \\['b'\\]"):
        load_dataset(f"imagefolder:{tmp_path}", cache_dir=tmp_path / "cache")


def test_second_load_comes_from_the_cache_and_a_changed_file_decodes_again(tmp_path, count_decodes):
    _write_images(tmp_path / "tree" / "a", 3)
    _write_images(tmp_path / "tree" / "b", 3, seed=1)
    spec, cache = f"imagefolder:{tmp_path / 'tree'}", tmp_path / "cache"
    first = load_dataset(spec, cache_dir=cache)
    assert len(count_decodes) == 6
    assert [p.suffix for p in cache.iterdir()] == [".npz"]  # only the finished file, no temp left behind
    second = load_dataset(spec, cache_dir=cache)
    assert len(count_decodes) == 6, "the second load decoded images instead of reading the cache"
    np.testing.assert_array_equal(first.x, second.x)
    np.testing.assert_array_equal(first.y, second.y)

    _write_images(tmp_path / "tree" / "b", 1, seed=5)  # rewrites b/000.png: new size/mtime
    os.utime(tmp_path / "tree" / "b" / "000.png", ns=(1, 1))
    load_dataset(spec, cache_dir=cache)
    assert len(count_decodes) == 12


def test_an_unwritable_cache_warns_and_still_loads(tmp_path):
    _write_images(tmp_path / "tree" / "a", 2)
    _write_images(tmp_path / "tree" / "b", 2)
    (tmp_path / "not-a-dir").write_text("")
    with pytest.warns(UserWarning, match="could not cache"):
        data = load_dataset(f"imagefolder:{tmp_path / 'tree'}", cache_dir=tmp_path / "not-a-dir" / "cache")
    assert len(data.y) == 4


def test_grey_images_keep_one_channel_and_mixed_ones_become_rgb(tmp_path):
    grey = _write_images(tmp_path / "grey" / "a", 2, mode="L")
    _write_images(tmp_path / "grey" / "b", 2, mode="L")
    data = load_dataset(f"imagefolder:{tmp_path / 'grey'}", cache_dir=tmp_path / "cache")
    assert data.x.shape == (4, 1, 5, 6)
    np.testing.assert_array_equal(data.x[0, 0], grey[0] / np.float32(255))

    _write_images(tmp_path / "grey" / "c", 1, mode="RGB")
    mixed = load_dataset(f"imagefolder:{tmp_path / 'grey'}", cache_dir=tmp_path / "cache")
    assert mixed.x.shape == (5, 3, 5, 6)
    for channel in range(3):
        np.testing.assert_array_equal(mixed.x[0, channel], grey[0] / np.float32(255))


def test_images_of_different_sizes_name_the_odd_file_and_suggest_resizing(tmp_path):
    _write_images(tmp_path / "tree" / "a", 2, size=(6, 5))
    _write_images(tmp_path / "tree" / "b", 1, size=(7, 5))
    with pytest.raises(AuditInputError, match="b/000.png is 7x5 pixels but .*a/000.png is 6x5.*resize"):
        load_dataset(f"imagefolder:{tmp_path / 'tree'}", cache_dir=tmp_path / "cache")


def test_an_undecodable_image_is_named(tmp_path):
    _write_images(tmp_path / "tree" / "a", 1)
    _write_images(tmp_path / "tree" / "b", 1)
    (tmp_path / "tree" / "b" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(AuditInputError, match="cannot decode image .*broken.png"):
        load_dataset(f"imagefolder:{tmp_path / 'tree'}", cache_dir=tmp_path / "cache")


@pytest.mark.parametrize("layout", ["empty", "file"])
def test_a_path_that_is_no_image_folder_is_refused(tmp_path, layout):
    target = tmp_path / "target"
    if layout == "empty":
        target.mkdir()
    else:
        target.write_text("x")
    with pytest.raises(AuditInputError, match="not an image folder tree|not a directory"):
        load_dataset(f"imagefolder:{target}", cache_dir=tmp_path / "cache")


def test_parallel_decoding_matches_serial_decoding(tmp_path):
    for name, seed in (("a", 0), ("b", 1)):
        _write_images(tmp_path / name, 3, seed=seed)
    paths = sorted(str(p) for p in tmp_path.rglob("*.png"))
    serial = audit.data.sources._decode_files(paths, workers=1)
    parallel = audit.data.sources._decode_files(paths, workers=2, chunk_size=2)
    assert serial.shape == (6, 5, 6, 3)
    np.testing.assert_array_equal(parallel, serial)


@pytest.mark.skipif(not SHARED_CIFAR10.is_dir(), reason=f"{SHARED_CIFAR10} (the shared JPEG copy of CIFAR-10) is absent")
def test_a_sample_of_the_shared_cifar10_jpegs_loads(tmp_path):
    # Decoding all 60,000 images takes seconds; a copy of 20 keeps the real files in the suite.
    for part, per_class in (("train", 6), ("test", 4)):
        for name in ("airplane", "truck"):
            target = tmp_path / "cifar" / part / name
            target.mkdir(parents=True)
            for source in sorted((SHARED_CIFAR10 / part / name).glob("*.jpg"))[:per_class]:
                shutil.copy(source, target)
    data = load_dataset(f"imagefolder:{tmp_path / 'cifar'}", cache_dir=tmp_path / "cache")
    assert data.x.shape == (20, 3, 32, 32) and data.num_classes == 2
    assert np.bincount(data.y).tolist() == [10, 10]
    assert 0.0 <= data.x.min() < 0.2 and 0.8 < data.x.max() <= 1.0


# ---------------------------------------------------------------- npz and csv files


def test_npz_round_trip_remaps_labels_to_0_to_k_minus_1(tmp_path):
    x = np.random.default_rng(0).normal(size=(6, 4))
    np.savez(tmp_path / "d.npz", x=x, y=np.array([9, 3, 7, 3, 9, 7]))
    data = load_dataset(f"npz:{tmp_path / 'd.npz'}")
    assert data.x.dtype == np.float32 and data.x.shape == (6, 4) and not data.is_image
    np.testing.assert_allclose(data.x, x, rtol=1e-6)
    assert data.y.dtype == np.int64 and data.y.tolist() == [2, 0, 1, 0, 2, 1] and data.num_classes == 3


def test_npz_images_and_integral_float_labels(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.zeros((4, 1, 3, 3), np.float32), y=np.array([0.0, 1.0, 1.0, 0.0]))
    data = load_dataset(f"npz:{tmp_path / 'd.npz'}")
    assert data.is_image and data.input_shape == (1, 3, 3) and data.y.tolist() == [0, 1, 1, 0]


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"x": np.zeros((3, 2))}, "has no array y.*it has: x"),
        ({"x": np.zeros((3, 2)), "y": np.array([0, 1])}, "x has 3 rows but y has shape \\(2,\\)"),
        ({"x": np.array([[0.0], [np.nan], [1.0]]), "y": np.array([0, 1, 0])}, "NaN or infinity \\(first at x\\[1, 0\\]\\)"),
        ({"x": np.array([[0.0], [np.inf]]), "y": np.array([0, 1])}, "NaN or infinity"),
        ({"x": np.zeros((3, 2)), "y": np.array([0.0, 0.5, 1.0])}, "labels must be integers, but row 1 has 0.5"),
        ({"x": np.zeros((2, 2)), "y": np.array(["a", "b"])}, "labels have dtype <U1"),
        ({"x": np.zeros((2, 2)), "y": np.array([4, 4])}, "at least 2"),
        ({"x": np.zeros((2, 2, 2)), "y": np.array([0, 1])}, "x has shape \\(2, 2, 2\\)"),
        ({"x": np.array([[None], [1]], dtype=object), "y": np.array([0, 1])}, "without pickle"),
    ],
)
def test_bad_npz_files_are_refused_by_name(tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(AuditInputError, match=message) as caught:
        load_dataset(f"npz:{tmp_path / 'bad.npz'}")
    assert "bad.npz" in str(caught.value) and "\n" not in str(caught.value)


def test_a_file_that_is_no_npz_is_refused(tmp_path):
    (tmp_path / "d.npz").write_text("x,y\n")
    with pytest.raises(AuditInputError, match="not an .npz file"):
        load_dataset(f"npz:{tmp_path / 'd.npz'}")


def test_csv_round_trip_with_default_and_named_label_columns(tmp_path):
    (tmp_path / "d.csv").write_text("a,label,b\n1.5,10,2\n-1,20,0\n\n3,10,4e1\n")
    data = load_dataset(f"csv:{tmp_path / 'd.csv'}")
    np.testing.assert_array_equal(data.x, np.array([[1.5, 2], [-1, 0], [3, 40]], np.float32))
    assert data.y.tolist() == [0, 1, 0] and data.num_classes == 2 and not data.is_image

    named = load_dataset(f"csv:{tmp_path / 'd.csv'}:b")
    np.testing.assert_array_equal(named.x, np.array([[1.5, 10], [-1, 20], [3, 10]], np.float32))
    assert named.y.tolist() == [1, 0, 2] and named.num_classes == 3


@pytest.mark.parametrize(
    "text, spec_suffix, message",
    [
        ("a,label\n1,0\nred,1\n", "", "column 'a' is not numeric \\('red' in data row 2\\)"),
        ("a,label\n1,cat\n2,dog\n", "", "column 'label' is not numeric"),
        ("a,b\n1,0\n2,1\n", "", "no column 'label' \\(columns: a, b\\); the first line must be a header"),
        ("a,b\n1,0\n2,1\n", ":target", "no column 'target'"),
        ("a,label\n1,0\n2\n", "", "line 3: 1 fields but the header has 2"),
        ("a,label\n", "", "no data rows"),
        ("", "", "is empty"),
        ("label\n0\n1\n", "", "no feature columns"),
        ("a,label\n1,0\nnan,1\n", "", "NaN or infinity \\(first at row 1, column 'a'\\)"),
        ("a,label\n1,0\n2,1.5\n", "", "labels must be integers"),
    ],
)
def test_bad_csv_files_are_refused_by_name(tmp_path, text, spec_suffix, message):
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(AuditInputError, match=message) as caught:
        load_dataset(f"csv:{tmp_path / 'bad.csv'}{spec_suffix}")
    assert "bad.csv" in str(caught.value) and "\n" not in str(caught.value)


# ---------------------------------------------------------------- specs


def test_digits_dispatches_to_the_bundled_data_set():
    data = load_dataset("digits")
    assert data.x.shape == (1797, 1, 8, 8) and data.num_classes == 10


def test_unknown_spec_lists_the_valid_ones():
    with pytest.raises(AuditInputError, match="unknown dataset 'svhn'; choose one of: digits, cifar10, .*csv:PATH"):
        load_dataset("svhn")
    assert set(available_datasets()) >= {"digits", "cifar10", "cifar100", "mnist", "fashion-mnist", "imagefolder:PATH"}


@pytest.mark.parametrize("kind", ["imagefolder", "npz", "csv"])
def test_a_missing_path_is_named(tmp_path, kind):
    with pytest.raises(AuditInputError, match=f"{tmp_path / 'nowhere'} does not exist"):
        load_dataset(f"{kind}:{tmp_path / 'nowhere'}")


# ---------------------------------------------------------------- every refusal names its fix


def _npz(arrays):
    def make(path):
        np.savez(path / "bad.npz", **arrays)
        return f"npz:{path / 'bad.npz'}"

    return make


def _csv(content: bytes):
    def make(path):
        (path / "bad.csv").write_bytes(content)
        return f"csv:{path / 'bad.csv'}"

    return make


def _junk_npz(path):
    with zipfile.ZipFile(path / "bad.npz", "w") as archive:
        archive.writestr("x.npy", b"junk")
    return f"npz:{path / 'bad.npz'}"


def _broken_image(path):
    _write_images(path / "tree" / "a", 1)
    _write_images(path / "tree" / "b", 1)
    (path / "tree" / "b" / "broken.png").write_bytes(b"not a png")
    return f"imagefolder:{path / 'tree'}"


@pytest.mark.parametrize(
    "make, fix",
    [
        (_npz({"x": np.zeros((3, 2)), "y": np.array([0.0, 0.5, 1.0])}), "use whole-number class labels"),
        (_npz({"x": np.zeros((2, 2)), "y": np.array(["a", "b"])}), "encode the classes as numbers first"),
        (_npz({"x": np.zeros((2, 2)), "y": np.array([4, 4])}), "or add examples of another class"),
        (_npz({"x": np.array([[None], [1]], dtype=object), "y": np.array([0, 1])}), "save plain numeric arrays again with numpy.savez"),
        (_junk_npz, "has an unreadable header: EOF: reading magic string, expected 8 bytes got 4; the file is damaged: write it again"),
        (_csv(b"a,label\n1,0\n2\n"), "give every row one value per column"),
        (_csv(b"a,label\n"), "add one row per example below the header"),
        (_csv(b"label\n0\n1\n"), "add the feature columns"),
        (_csv(b"a,label\n\xff\xfe,0\n"), "save it as UTF-8 CSV"),
        (lambda path: f"csv:{path / 'nowhere.csv'}", "does not exist; check the path in --dataset"),
        (lambda path: f"npz:{path}", "is not a file; npz: and csv: take a file: pass the file itself, not its folder"),
        (_broken_image, "remove or replace that file"),
    ],
)
def test_each_refusal_names_the_fix(tmp_path, make, fix):
    spec = make(tmp_path)
    with pytest.raises(AuditInputError) as caught:
        load_dataset(spec, cache_dir=tmp_path / "cache") if spec.startswith("imagefolder:") else load_dataset(spec)
    assert fix in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("bundled", [True, False], ids=["read-directly", "through-load_digits"])
def test_the_digits_are_scikit_learns_whichever_way_they_are_read(monkeypatch, bundled):
    from sklearn.datasets import load_digits

    from audit.data import arrays

    if not bundled:
        monkeypatch.setattr(arrays, "_bundled_digits", lambda: None)
    digits, reference = arrays.load_digits_dataset(), load_digits()
    np.testing.assert_array_equal(digits.x, (reference.images / 16.0).astype(np.float32)[:, None])
    np.testing.assert_array_equal(digits.y, reference.target)
    assert digits.y.dtype == np.int64 and digits.class_names == tuple(str(c) for c in reference.target_names)
