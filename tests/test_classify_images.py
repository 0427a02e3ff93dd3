"""Images as sequences: the IDX reader on hand-written bytes, .npz images, rows, pixels
and the permuted pixel order, the built-in digits and the command's errors."""

import gzip
import struct

import numpy as np
import pytest

from rnnlab.data.images import as_sequences, read_idx, read_images


def _idx(path, type_byte: int, shape, payload: bytes):
    head = bytes([0, 0, type_byte, len(shape)]) + b"".join(struct.pack(">I", n) for n in shape)
    path.write_bytes(head + payload)
    return path


def test_idx_reader_on_hand_written_files(tmp_path):
    # two 2x3 uint8 images, written byte by byte
    imgs = _idx(tmp_path / "img", 0x08, (2, 2, 3), bytes(range(12)))
    np.testing.assert_array_equal(read_idx(imgs), np.arange(12).reshape(2, 2, 3))
    # big-endian int16 labels 258 and -1
    labels = _idx(tmp_path / "lab", 0x0B, (2,), b"\x01\x02\xff\xff")
    assert read_idx(labels).tolist() == [258, -1]
    # float64 and gzip
    gz = tmp_path / "f.gz"
    gz.write_bytes(gzip.compress(bytes([0, 0, 0x0E, 1]) + struct.pack(">I", 2)
                                 + struct.pack(">2d", 0.5, -2.0)))
    assert read_idx(gz).tolist() == [0.5, -2.0]
    images, y = read_images(imgs, _idx(tmp_path / "y", 0x08, (2,), b"\x07\x03"))
    assert images.shape == (2, 2, 3) and y.tolist() == [7, 3]


@pytest.mark.parametrize("payload, message", [
    (b"\x01\x00\x08\x01", "not an IDX file"),
    (bytes([0, 0, 0x08, 1]) + struct.pack(">I", 5) + b"abc",
     r"shape \(5,\) \(13 bytes\), the file has 11"),
])
def test_idx_errors(tmp_path, payload, message):
    (tmp_path / "bad").write_bytes(payload)
    with pytest.raises(ValueError, match=message):
        read_idx(tmp_path / "bad")


def test_npz_images_and_missing_labels(tmp_path):
    np.savez(tmp_path / "a.npz", images=np.ones((3, 4, 5)), labels=np.array([1, 2, 1]))
    images, y = read_images(tmp_path / "a.npz")
    assert images.shape == (3, 4, 5) and y.tolist() == [1, 2, 1]
    np.savez(tmp_path / "b.npz", X=np.ones((3, 4, 5)))
    with pytest.raises(ValueError, match="no labels"):
        read_images(tmp_path / "b.npz")


def test_rows_pixels_and_permuted_pixels():
    images = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    y = np.array([0, 1])
    rows = as_sequences(images, y, "rows", scale=1.0)
    assert rows.X.shape == (2, 3, 4) and rows.lengths.tolist() == [3, 3]
    np.testing.assert_array_equal(rows.X[1, 2], images[1, 2])
    pixels = as_sequences(images, y, "pixels", scale=1.0)
    np.testing.assert_array_equal(pixels.X[:, :, 0], images.reshape(2, 12))
    order = np.random.default_rng(5).permutation(12)
    perm = as_sequences(images, y, "pixels", permute=5, scale=1.0)
    np.testing.assert_array_equal(perm.X[:, :, 0], images.reshape(2, 12)[:, order])
    assert not np.array_equal(perm.X, pixels.X)
    assert as_sequences(images, y, "rows").X.max() == 1.0  # scaled by the largest pixel
    with pytest.raises(ValueError, match="permute"):
        as_sequences(images, y, "rows", permute=1)


def test_digits_command_row_by_row(tmp_path):
    pytest.importorskip("sklearn")
    import json

    from typer.testing import CliRunner

    from rnnlab.cli import app

    r = CliRunner().invoke(app, ["classify", "train", "digits", "--images", "rows",
                                 "--members", "1", "--hidden-size", "100", "--no-baselines",
                                 "--out", str(tmp_path / "d")])
    assert r.exit_code == 0, r.output
    report = json.loads((tmp_path / "d" / "report.json").read_text())
    assert report["test"]["n"] == 450 and report["test"]["accuracy"] > 0.9
    r = CliRunner().invoke(app, ["classify", "train", str(tmp_path / "none.idx"), "--images",
                                 "rows", "--out", str(tmp_path / "e")])
    assert r.exit_code == 2 and "no such file" in r.output
