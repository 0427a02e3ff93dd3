"""The .ts reader reads what aeon's load_from_ts_file reads: '%' comments, any case and
spacing in the header, no @classLabel (labels last), @targetLabel; and the same arrays
as aeon on every file in ../shared/data/ucr."""

from pathlib import Path

import numpy as np
import pytest

from rnnlab.data.ts_format import read_ts

UCR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "ucr"


def _write(tmp_path, text):
    path = tmp_path / "x.ts"
    path.write_text(text)
    return path


def test_percent_comments_case_and_spacing(tmp_path):
    text = ("% a UEA-style comment first\n#another\n@PROBLEMNAME  toy\n@univariate   TRUE\n"
            "%\n@ClassLabel  true   a  b\n@DATA\n1,2,3:a\n% between series\n4,5,?:b\n")
    s = read_ts(_write(tmp_path, text))
    assert s.classes == ("a", "b") and s.y.tolist() == ["a", "b"]
    np.testing.assert_array_equal(s.X[0, :, 0], [1, 2, 3])
    assert np.isnan(s.X[1, 2, 0])


def test_without_class_label_header_the_label_is_last(tmp_path):
    s = read_ts(_write(tmp_path, "@data\n1,2:x\n3,4,5:y\n"))
    assert s.classes is None and s.y.tolist() == ["x", "y"]
    assert s.lengths.tolist() == [2, 3]


def test_target_label_is_read_as_the_last_field(tmp_path):
    s = read_ts(_write(tmp_path, "@targetLabel true\n@data\n1,2:0.5\n3,4:1.5\n"))
    assert s.y.tolist() == ["0.5", "1.5"] and s.X.shape == (2, 2, 1) and s.target
    assert not read_ts(_write(tmp_path, "@classLabel true a b\n@data\n1,2:a\n")).target


@pytest.mark.parametrize("name", ["GunPoint", "JapaneseVowels", "OSULeaf", "ACSF1"])
def test_same_arrays_as_aeon(name):
    pytest.importorskip("aeon")
    from aeon.datasets import load_from_ts_file

    if not (UCR / f"{name}_TRAIN.ts").is_file():
        pytest.skip(f"no data at {UCR}")
    for split in ("TRAIN", "TEST"):
        s = read_ts(UCR / f"{name}_{split}.ts")
        X, y = load_from_ts_file(str(UCR / f"{name}_{split}.ts"))
        assert [c.lower() for c in s.y] == [str(c).lower() for c in y]
        series = X if isinstance(X, list) else list(X)  # (F, T_n) each
        assert len(series) == len(s.y)
        for n, x in enumerate(series):
            np.testing.assert_array_equal(s.X[n, : s.lengths[n]].T, x)
