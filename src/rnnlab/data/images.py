"""Images as sequences (the image-classification scheme of the seeds; Le et al. 2015):
an image (H, W) is read row by row (T = H steps of W values) or pixel by pixel (T = H·W
steps of one value), optionally in a fixed random pixel order (`permute`, the
"permuted pixel-by-pixel" task). Pixels are scaled to [0, 1] by the largest value.

Sources: IDX files (the MNIST format, optionally gzipped), .npz files with `X` or
`images` (N, H, W) and `y` or `labels` (N,), and scikit-learn's bundled 8×8 digits
(1797 images, no download; scikit-learn is an optional extra).

IDX: bytes 0-1 zero, byte 2 the element type (0x08 uint8, 0x09 int8, 0x0B int16,
0x0C int32, 0x0D float32, 0x0E float64), byte 3 the number of dimensions d, then d
big-endian uint32 sizes, then the elements, big-endian, row-major.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from rnnlab.data.sequences import Sequences
from rnnlab.errors import reader

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
READS = ("rows", "pixels")


def read_idx(path) -> np.ndarray:
    """The array of an IDX file (.gz read as gzip)."""
    path = Path(path)
    raw = (gzip.open if path.suffix == ".gz" else open)(path, "rb").read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES:
        raise ValueError(f"{path}: not an IDX file (expected 0x00 0x00, a type byte in "
                         f"{[hex(t) for t in IDX_TYPES]} and the number of dimensions)")
    dtype, d = np.dtype(IDX_TYPES[raw[2]]), raw[3]
    shape = tuple(int(v) for v in np.frombuffer(raw, ">u4", d, 4))
    expected = 4 + 4 * d + dtype.itemsize * int(np.prod(shape))
    if len(raw) != expected:
        raise ValueError(f"{path}: IDX header says shape {shape} ({expected} bytes), the file "
                         f"has {len(raw)} bytes")
    return np.frombuffer(raw, dtype, offset=4 + 4 * d).reshape(shape).astype(dtype.newbyteorder("="))


def _npz(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    with np.load(path, allow_pickle=False) as z:
        images = next((z[k] for k in ("X", "images") if k in z), None)
        if images is None:
            raise ValueError(f"{path}: expected an array named 'X' or 'images', got "
                             f"{sorted(z.files)}")
        labels = next((z[k] for k in ("y", "labels") if k in z), None)
    return images, labels


@reader("image")
def read_images(path, labels=None) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, H, W), labels (N,)) from an IDX file (labels: the IDX labels file)
    or an .npz file (labels inside, or in `labels`)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    images, y = _npz(path) if path.suffix == ".npz" else (read_idx(path), None)
    if labels is not None:
        y = read_idx(labels) if Path(labels).suffix != ".npz" else _npz(Path(labels))[1]
    if y is None:
        raise ValueError(f"{path}: no labels (give the labels file, e.g. --labels "
                         "train-labels-idx1-ubyte)")
    if images.ndim != 3 or len(y) != len(images):
        raise ValueError(f"{path}: expected images (N, H, W) and N labels, got images "
                         f"{images.shape} and {len(y)} labels")
    return images, np.asarray(y)


def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8×8 digits: (images (1797, 8, 8) in 0..16, labels (1797,))."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ValueError("digits: the built-in digits need scikit-learn "
                         "(pip install 'rnnlab[images]'), or give an IDX or .npz file") from None
    d = load_digits()
    return d.images, d.target


def as_sequences(images: np.ndarray, labels: np.ndarray, read: str = "rows",
                 permute: int | None = None, scale: float | None = None) -> Sequences:
    """images (N, H, W) -> Sequences: rows X (N, H, W), or pixels X (N, H·W, 1) in the
    order of np.random.default_rng(permute).permutation(H·W) when permute is given.
    Pixels are divided by `scale` (default: the largest pixel of these images)."""
    from rnnlab._checks import check_option

    check_option("read", read, READS)
    if permute is not None and read != "pixels":
        raise ValueError("permute: a pixel order needs --read pixels")
    N, H, W = images.shape
    X = images.astype(np.float64) / (scale or max(float(images.max()), 1e-12))
    if read == "pixels":
        X = X.reshape(N, H * W, 1)
        if permute is not None:
            X = X[:, np.random.default_rng(permute).permutation(H * W)]
    return Sequences(X, np.full(N, X.shape[1], np.int64), labels.astype(str))
