import io

import numpy as np
import pytest
import torch

import otcore
from otcore import SampleLoadError, load_samples


def test_csv_with_and_without_header(tmp_path):
    (tmp_path / "h.csv").write_text("x,y\n1,2\n3,4.5\n")
    (tmp_path / "n.csv").write_text("1;2\n3;4.5\n")
    expected = torch.tensor([[1.0, 2.0], [3.0, 4.5]])
    assert torch.equal(load_samples(tmp_path / "h.csv"), expected)
    assert torch.equal(load_samples(tmp_path / "n.csv"), expected)


def test_npy_npz_bytes_and_file_objects(tmp_path):
    arr = np.random.default_rng(0).normal(size=(30, 3))
    np.save(tmp_path / "a.npy", arr)
    np.savez(tmp_path / "b.npz", samples=arr, labels=np.arange(30))
    assert np.allclose(load_samples(tmp_path / "a.npy").numpy(), arr, atol=1e-6)
    assert np.allclose(load_samples(tmp_path / "b.npz").numpy(), arr, atol=1e-6)
    raw = (tmp_path / "a.npy").read_bytes()
    assert load_samples(raw, name="up.npy").shape == (30, 3)
    assert load_samples(io.BytesIO(raw), name="up.npy").shape == (30, 3)
    one_d = tmp_path / "c.npy"
    np.save(one_d, np.arange(5.0))
    assert load_samples(one_d).shape == (5, 1)


def _save_npy(path, arr, **kw):
    np.save(path, arr, **kw)
    return path


@pytest.mark.parametrize("content,match", [
    ("", "empty"),
    ("a,b\n", "header but no data"),
    ("1,2\n3,abc\n", r"row 2, column 2 is not a number: 'abc'"),
    ("x,y\n1,2\n3,4\n5,oops\n", r"row 4, column 2 is not a number"),
    ("1,2\n3,4,5\n", "row 2 has 3 columns but the first row has 2"),
    ("1,2\n3,nan\n", "row 2, column 2 is NaN"),
    ("1,2\n3,inf\n", "row 2, column 2 is infinite"),
    ("1,2\n", "at least 2 samples"),
])
def test_bad_csv_gets_an_actionable_message(tmp_path, content, match):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(SampleLoadError, match=match):
        load_samples(path)


def test_bad_arrays_and_files(tmp_path):
    with pytest.raises(SampleLoadError, match="shape"):
        load_samples(_save_npy(tmp_path / "3d.npy", np.zeros((4, 3, 2))))
    with pytest.raises(SampleLoadError, match="pickle"):
        load_samples(_save_npy(tmp_path / "obj.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True))
    with pytest.raises(SampleLoadError, match="numbers"):
        load_samples(_save_npy(tmp_path / "str.npy", np.array([["a", "b"], ["c", "d"]])))
    with pytest.raises(SampleLoadError, match="not a valid .npy"):
        load_samples(b"definitely not numpy", name="x.npy")
    with pytest.raises(SampleLoadError, match="not a zip"):
        load_samples(b"PK nope", name="x.npz")
    np.savez(tmp_path / "two.npz", a=np.zeros((3, 2)), b=np.ones((3, 2)))
    with pytest.raises(SampleLoadError, match="several arrays"):
        load_samples(tmp_path / "two.npz")
    assert load_samples(tmp_path / "two.npz", key="b").sum() == 6
    with pytest.raises(SampleLoadError, match="limit"):
        load_samples(b"1,2\n3,4\n", name="big.csv", max_bytes=4)
    with pytest.raises(SampleLoadError, match="unsupported file type"):
        load_samples(b"1,2", name="x.xlsx")
    with pytest.raises(SampleLoadError, match="UTF-8"):
        load_samples(b"\xff\xfe\x00\x81\x82", name="x.csv")
    with pytest.raises(SampleLoadError, match="does not exist"):
        load_samples(tmp_path / "missing.csv")


def test_npz_bomb_is_refused_before_unpacking(tmp_path):
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, samples=np.zeros((3000, 1000)))  # 24 MB unpacked, tiny on disk
    assert path.stat().st_size < 1_000_000
    with pytest.raises(SampleLoadError, match="unpacks to"):
        load_samples(path, max_bytes=2_000_000)


def test_standardizer_round_trip_keeps_geometry():
    x = otcore.sample("moons", 100, seed=0) * 7 + 3
    s = otcore.Standardizer.fit(x)
    z = s.forward(x)
    assert torch.allclose(s.inverse(z), x, atol=1e-5)
    assert abs(float(z.var(0).mean()) - 1) < 0.02
    d_x, d_z = torch.cdist(x.double(), x.double()), torch.cdist(z.double(), z.double()) * s.scale  # isotropic: distances scale uniformly
    assert torch.allclose(d_x, d_z, rtol=1e-4, atol=1e-3)
