"""fftconv.dask: lazy convolution of dask arrays equals the in-memory result."""

import itertools
import pickle
import subprocess
import sys

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

import fftconv  # noqa: E402
import fftconv.dask as fd  # noqa: E402
from fftconv._engine.plan import ConvPlan  # noqa: E402

RNG = np.random.default_rng(1234)

# NHWC chunkings of a (2, 19, 17, 3) input: one chunk, even, uneven with chunks of
# size 1 (smaller than any kernel here), channels split, and many tiny chunks.
CHUNKINGS = [
    (2, 19, 17, 3),
    (1, 5, 6, 3),
    (2, (3, 9, 1, 6), (2, 2, 2, 2, 2, 1, 1, 4, 1), (1, 2)),
    (1, 2, 3, 1),
]


def _data(shape, kernel, dtype=np.float64):
    x = RNG.standard_normal(shape).astype(dtype)
    w = RNG.standard_normal(kernel).astype(dtype)
    return x, w


def _to_nchw_chunks(chunks):
    return (chunks[0], chunks[3], chunks[1], chunks[2])


def _check(lazy, expected, rtol=1e-12):
    assert isinstance(lazy, da.Array)
    assert lazy.shape == expected.shape
    assert lazy.dtype == expected.dtype
    got = lazy.compute()
    assert got.shape == expected.shape and got.dtype == expected.dtype
    scale = max(np.linalg.norm(expected), 1e-300)
    assert np.linalg.norm(got.astype(np.float64) - expected) / scale <= rtol


@pytest.mark.parametrize("chunks", CHUNKINGS)
@pytest.mark.parametrize("padding", ["SAME", "VALID", ((2, 0), (1, 4))])
@pytest.mark.parametrize("strides", [1, 2, 3, (1, 3)])
@pytest.mark.parametrize("dilations", [1, 2])
def test_conv2d_matches_in_memory(chunks, padding, strides, dilations):
    x, w = _data((2, 19, 17, 3), (5, 4, 3, 4))
    expected = fftconv.conv2d(x, w, strides, padding, dilations=dilations)
    lazy = fd.conv2d(da.from_array(x, chunks=chunks), w, strides, padding,
                     dilations=dilations)
    _check(lazy, expected)


@pytest.mark.parametrize("chunks", CHUNKINGS[1:3])
@pytest.mark.parametrize("strides,padding", [(2, "SAME"), (3, "VALID"), (1, 2)])
def test_nchw_groups_and_flip(chunks, strides, padding):
    x, w = _data((2, 19, 17, 3), (3, 6, 1, 6))  # groups=3: one input channel per group
    x_nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    expected = fftconv.conv2d(x_nchw, w, strides, padding, "NCHW", flip=True)
    lazy = fd.conv2d(da.from_array(x_nchw, chunks=_to_nchw_chunks(chunks)), w, strides,
                     padding, "NCHW", flip=True)
    _check(lazy, expected)


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_depthwise(data_format):
    x, w = _data((1, 23, 20, 3), (7, 5, 3, 2))
    chunks = (1, (4, 15, 4), 3, 3)
    if data_format == "NCHW":
        x, chunks = np.ascontiguousarray(x.transpose(0, 3, 1, 2)), _to_nchw_chunks(chunks)
    expected = fftconv.depthwise_conv2d(x, w, 2, "SAME", data_format, flip=True)
    lazy = fd.depthwise_conv2d(da.from_array(x, chunks=chunks), w, 2, "SAME", data_format,
                               flip=True)
    _check(lazy, expected)


@pytest.mark.parametrize("chunks", [(1, 50, 2), (2, (7, 1, 3, 30, 9), 1)])
@pytest.mark.parametrize("strides,padding,dilations", [(1, "SAME", 1), (3, "VALID", 2),
                                                        (2, [[0, 0], [9, 1], [0, 0]], 1)])
def test_conv1d(chunks, strides, padding, dilations):
    x, w = _data((2, 50, 2), (11, 2, 3))
    expected = fftconv.conv1d(x, w, strides, padding, dilations=dilations)
    _check(fd.conv1d(da.from_array(x, chunks=chunks), w, strides, padding,
                     dilations=dilations), expected)


@pytest.mark.parametrize("strides,padding", [(1, "SAME"), ((2, 1, 3), "VALID")])
def test_conv3d(strides, padding):
    x, w = _data((1, 10, 12, 9, 2), (3, 5, 2, 2, 2))
    chunks = (1, (3, 7), 4, (2, 2, 5), 2)
    expected = fftconv.conv3d(x, w, strides, padding)
    _check(fd.conv3d(da.from_array(x, chunks=chunks), w, strides, padding), expected)
    expected = fftconv.conv3d(np.moveaxis(x, -1, 1), w, strides, padding, "NCDHW")
    lazy = fd.conv3d(da.moveaxis(da.from_array(x, chunks=chunks), -1, 1), w, strides, padding,
                     "NCDHW")
    _check(lazy, expected)


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_large_kernel_float32_both_methods(method):
    x, w = _data((1, 64, 48, 1), (15, 15, 1, 1), np.float32)
    expected = fftconv.conv2d(x, w, padding="SAME", method=method)
    lazy = fd.conv2d(da.from_array(x, chunks=(1, 16, 16, 1)), w, padding="SAME", method=method)
    _check(lazy, expected, rtol=1e-5)


def test_measure_and_workers_pass_through():
    x, w = _data((1, 40, 40, 2), (9, 9, 2, 2), np.float32)
    expected = fftconv.conv2d(x, w, padding="SAME")
    lazy = fd.conv2d(da.from_array(x, chunks=(1, 20, 20, 2)), w, padding="SAME", measure=True,
                     workers=2)
    _check(lazy, expected, rtol=1e-5)
    with pytest.raises(TypeError, match="`measure` must be True or False"):
        fd.conv2d(da.from_array(x), w, measure="yes")
    with pytest.raises(ValueError, match="`workers` must be a positive int"):
        fd.conv2d(da.from_array(x), w, workers=0)


@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.bool_])
def test_dtypes_follow_the_in_memory_rules(dtype):
    x = (RNG.standard_normal((1, 12, 12, 1)) * 3).astype(dtype)
    w = np.ones((3, 3, 1, 1), np.float16 if dtype == np.float16 else np.float64)
    expected = fftconv.conv2d(x, w, padding="SAME")
    lazy = fd.conv2d(da.from_array(x, chunks=(1, 5, 5, 1)), w, padding="SAME")
    _check(lazy, expected, rtol=1e-3 if dtype == np.float16 else 1e-12)


def test_padding_larger_than_image_and_empty_output():
    x, w = _data((1, 6, 6, 1), (3, 3, 1, 2))
    padding = ((9, 0), (0, 7))  # some output chunks read padding only
    expected = fftconv.conv2d(x, w, 2, padding)
    _check(fd.conv2d(da.from_array(x, chunks=(1, 2, 2, 1)), w, 2, padding), expected)
    empty = np.zeros((0, 6, 6, 1))
    _check(fd.conv2d(da.from_array(empty), w), fftconv.conv2d(empty, w))


def test_output_chunks_follow_input_chunks():
    x = da.zeros((2, 60, 40, 3), chunks=(1, 20, (10, 30), 3))
    w = np.zeros((5, 5, 3, 8))
    assert fd.conv2d(x, w, padding="SAME").chunks == ((1, 1), (20, 20, 20), (10, 30), (8,))
    assert fd.conv2d(x, w, 2, "SAME").chunks == ((1, 1), (10, 10, 10), (5, 15), (8,))
    assert fd.conv2d(x, w).chunks == ((1, 1), (20, 20, 16), (10, 26), (8,))
    nchw = fd.conv2d(x.transpose(0, 3, 1, 2), w, padding="SAME", data_format="NCHW")
    assert nchw.chunks == ((1, 1), (8,), (20, 20, 20), (10, 30))


def test_filters_are_in_the_graph_once():
    x, w = _data((1, 64, 64, 2), (21, 21, 2, 8))  # 56 kB of filters
    lazy = fd.conv2d(da.from_array(x, chunks=(1, 16, 16, 2)), w, padding="SAME")
    layer = dict(lazy.dask.layers[lazy.name])
    holders = [k for k, v in layer.items() if isinstance(v, fd._SharedFilters)]
    assert len(holders) == 1
    tasks = [v for k, v in layer.items() if k not in holders]
    assert len(tasks) == 16
    assert max(len(pickle.dumps(t)) for t in tasks) < w.nbytes / 10


def test_each_window_shape_is_planned_once(monkeypatch):
    x, w = _data((2, 64, 64, 1), (9, 9, 1, 1))
    expected = fftconv.conv2d(x, w, padding="SAME")
    binds = []
    original = ConvPlan.bind
    monkeypatch.setattr(ConvPlan, "bind", lambda self, f: binds.append(self) or original(self, f))
    even = fd.conv2d(da.from_array(x, chunks=(1, 16, 16, 1)), w, padding="SAME")
    _check(even, expected)
    assert [p.input_shape for p in binds] == [(1, 24, 24, 1)]  # 32 tasks, one plan
    binds.clear()
    uneven = fd.conv2d(da.from_array(x, chunks=(2, (16, 48), 64, 1)), w, padding="SAME")
    _check(uneven, expected)
    assert sorted(p.input_shape for p in binds) == [(2, 24, 72, 1), (2, 56, 72, 1)]


def test_errors_are_those_of_the_in_memory_checks():
    x = da.zeros((1, 8, 8, 3), chunks=4)
    with pytest.raises(TypeError, match="`input` must be a dask.array.Array; got ndarray"):
        fd.conv2d(np.zeros((1, 8, 8, 3)), np.zeros((3, 3, 3, 1)))
    with pytest.raises(ValueError, match=r"`filters` must be 4-D .*got ndim=3"):
        fd.conv2d(x, np.zeros((3, 3, 3)))
    with pytest.raises(ValueError, match="`padding` must be"):
        fd.conv2d(x, np.zeros((3, 3, 3, 1)), padding="FULL")
    with pytest.raises(ValueError, match="larger than the padded"):
        fd.conv2d(x, np.zeros((9, 9, 3, 1)))
    with pytest.raises(ValueError, match="`method` must be one of"):
        fd.conv2d(x, np.zeros((3, 3, 3, 1)), method="toom-cook")
    with pytest.raises(TypeError, match="`input` must hold numbers"):
        fd.conv2d(x.astype(object), np.zeros((3, 3, 3, 1)))
    with pytest.raises(ValueError, match="`padding_mode` must be one of"):
        fd.conv2d(x, np.zeros((3, 3, 3, 1)), padding="SAME", padding_mode="mirror")
    with pytest.raises(ValueError, match="`padding_mode` 'reflect' cannot pad `input`'s empty"):
        fd.conv2d(da.zeros((1, 0, 8, 3)), np.zeros((3, 3, 3, 1)), padding="SAME", padding_mode="reflect")
    with pytest.raises(ValueError, match="`filter` shape\\[-2\\] must equal the 3 input"):
        fd.depthwise_conv2d(x, np.zeros((3, 3, 2, 1)))
    unknown = x[x[:, 0, 0, 0] > 0]
    with pytest.raises(ValueError, match="known chunk sizes"):
        fd.conv2d(unknown, np.zeros((3, 3, 3, 1)))


def test_chunk_helpers():
    for chunks, stride, eff, lo in itertools.product(
            [(5,), (1, 1, 1, 1, 1), (2, 3), (4, 0, 1)], [1, 2, 3], [1, 3, 4], [0, 1, 3]):
        n = sum(chunks)
        out = (n + 2 * lo - eff) // stride + 1
        if out < 1:
            continue
        sizes = fd.output_chunks(chunks, out, stride)
        assert sum(sizes) == out and min(sizes) > 0
        padded = np.concatenate([np.zeros(lo), np.arange(1.0, n + 1), np.zeros(lo)])
        o0 = 0
        for size in sizes:
            length, pieces = fd.window_pieces(chunks, o0, o0 + size, stride, eff, lo)
            window = np.zeros(length)
            starts = np.cumsum((0,) + chunks)
            for k, dst, src in pieces:
                window[dst] = np.arange(starts[k] + 1.0, starts[k + 1] + 1)[src]
            np.testing.assert_array_equal(window, padded[o0 * stride:o0 * stride + length])
            o0 += size


@pytest.mark.parametrize("mode", ["reflect", "symmetric", "wrap", "edge"])
def test_chunk_helpers_follow_every_mode(mode):
    """Each window, assembled from its pieces, is the window of numpy.pad's padded axis."""
    for chunks, stride, eff, (lo, hi) in itertools.product(
            [(5,), (1, 1, 1, 1, 1), (2, 3), (4, 0, 1), (1,)], [1, 2, 3], [1, 3, 4, 9],
            [(0, 0), (1, 2), (3, 0), (7, 11)]):
        n = sum(chunks)
        out = (n + lo + hi - eff) // stride + 1
        if out < 1:
            continue
        padded = np.pad(np.arange(1.0, n + 1), (lo, hi), mode=mode)
        starts = np.cumsum((0,) + chunks)
        o0 = 0
        for size in fd.output_chunks(chunks, out, stride):
            length, pieces = fd.window_pieces(chunks, o0, o0 + size, stride, eff, lo, hi, mode)
            window = np.zeros(length)
            for k, dst, src in pieces:
                window[dst] = np.arange(starts[k] + 1.0, starts[k + 1] + 1)[src]
            np.testing.assert_array_equal(window, padded[o0 * stride:o0 * stride + length])
            o0 += size


@pytest.mark.parametrize("mode", ["reflect", "symmetric", "wrap", "edge", "circular"])
@pytest.mark.parametrize("chunks", CHUNKINGS)
@pytest.mark.parametrize("strides,padding", [(1, "SAME"), (3, "SAME"), (2, ((9, 30), (20, 3)))])
def test_modes_match_in_memory(chunks, mode, strides, padding):
    """Halos across chunk edges and the array's own edges (the opposite one for wrap), with
    chunks smaller than the kernel and pads larger than the image."""
    x, w = _data((2, 19, 17, 3), (5, 4, 3, 4))
    expected = fftconv.conv2d(x, w, strides, padding, padding_mode=mode)
    _check(fd.conv2d(da.from_array(x, chunks=chunks), w, strides, padding, padding_mode=mode), expected)


@pytest.mark.parametrize("mode", ["reflect", "wrap", "edge"])
def test_modes_in_1d_3d_nchw_and_depthwise(mode):
    x, w = _data((2, 50, 2), (11, 2, 3))
    expected = fftconv.conv1d(x, w, 2, [(60, 7)], padding_mode=mode)
    _check(fd.conv1d(da.from_array(x, chunks=(1, (7, 1, 3, 30, 9), 1)), w, 2, [(60, 7)], padding_mode=mode),
           expected)
    v, w3 = _data((1, 10, 12, 9, 2), (3, 5, 2, 2, 2))
    chunks = (1, (3, 7), 4, (2, 2, 5), 2)
    expected = fftconv.conv3d(np.moveaxis(v, -1, 1), w3, 1, "SAME", "NCDHW", padding_mode=mode)
    lazy = fd.conv3d(da.moveaxis(da.from_array(v, chunks=chunks), -1, 1), w3, 1, "SAME", "NCDHW",
                     padding_mode=mode)
    _check(lazy, expected)
    img, wd = _data((1, 23, 20, 3), (7, 5, 3, 2))
    expected = fftconv.depthwise_conv2d(img, wd, 2, "SAME", padding_mode=mode)
    _check(fd.depthwise_conv2d(da.from_array(img, chunks=(1, (4, 15, 4), 3, 3)), wd, 2, "SAME",
                               padding_mode=mode), expected)


@pytest.mark.parametrize("x_dtype, w_dtype", [(np.complex64, np.float32), (np.float64, np.complex128),
                                              (np.complex128, np.complex64)])
def test_complex(x_dtype, w_dtype):
    def draw(shape, dtype):
        values = RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)
        return (values if np.dtype(dtype).kind == "c" else values.real).astype(dtype)

    x, w = draw((2, 19, 17, 3), x_dtype), draw((5, 4, 3, 4), w_dtype)
    expected = fftconv.conv2d(x, w, 2, "SAME", padding_mode="reflect")
    lazy = fd.conv2d(da.from_array(x, chunks=(1, (3, 9, 1, 6), 5, 3)), w, 2, "SAME", padding_mode="reflect")
    assert lazy.dtype == expected.dtype
    got = lazy.compute()
    assert got.dtype == expected.dtype
    tol = 1e-5 if expected.dtype == np.complex64 else 1e-12
    assert np.linalg.norm(got - expected) / np.linalg.norm(expected) <= tol


def test_core_package_does_not_import_dask():
    code = ("import sys, fftconv\n"
            "print(sorted(m for m in sys.modules if m == 'dask' or m.startswith('dask.')"
            " or 'dask' in m.split('.')[-1]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]", f"`import fftconv` imported {result.stdout.strip()}"


def test_distributed_local_cluster():
    distributed = pytest.importorskip("distributed")
    x, w = _data((2, 40, 33, 2), (7, 5, 2, 3))
    expected = fftconv.conv2d(x, w, 2, "SAME")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        lazy = fd.conv2d(da.from_array(x, chunks=(1, (9, 20, 11), 11, 2)), w, 2, "SAME")
        got = client.compute(lazy).result()
        assert len(client.scheduler_info()["workers"]) == 2
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12 * np.abs(expected).max())
