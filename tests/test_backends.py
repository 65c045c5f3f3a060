"""Inference backends: parity with the reference eager path, flows once per pair, reuse."""

import numpy as np
import pytest
import torch

from rrin import InputError, Interpolator
from rrin.export import require
from rrin.inference.backends import BACKENDS, available_backends, resolve_backend_name, select_backend
from rrin.inference.interpolator import PreparedFrames

from conftest import make_tiny_model, moving_square

CPU = torch.device("cpu")
TIMES = [0.25, 0.5, 0.75]


def frames(batch=2, height=40, width=56, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, height, width, generator=generator), torch.rand(batch, 3, height, width, generator=generator)


@pytest.fixture(scope="module")
def reference():
    """Outputs of the NCHW eager path, one time step per call (the plain model)."""
    model = make_tiny_model(3)
    img0, img1 = frames()
    with torch.inference_mode():
        return [model(img0, img1, t) for t in TIMES]


@pytest.mark.parametrize("name,package", [("eager", None), ("onnxruntime", "onnxruntime"), ("openvino", "openvino")])
def test_backend_matches_reference(name, package, reference, tmp_path):
    if package:
        pytest.importorskip(package)
    interp = Interpolator(make_tiny_model(3), device="cpu", precision="fp32", backend=name, max_batch=4,
                          cache_root=tmp_path)
    img0, img1 = frames()
    outputs = interp.run(img0, img1, TIMES)
    assert len(outputs) == len(TIMES)
    for output, expected in zip(outputs, reference):
        for field, value in vars(expected).items():
            got = getattr(output, field)
            assert got.shape == value.shape and got.dtype == torch.float32, field
            torch.testing.assert_close(got, value, atol=1e-4, rtol=1e-4, msg=f"{name}: {field}")


def count_calls(monkeypatch, module):
    calls = []
    original = module.forward
    monkeypatch.setattr(module, "forward", lambda x: calls.append(x.shape[0]) or original(x))
    return calls


@pytest.mark.parametrize("max_batch,synth_calls", [(6, 1), (4, 2), (1, 3), (None, 3)])
def test_eager_flows_once_and_times_batched(monkeypatch, max_batch, synth_calls):
    backend = select_backend("eager", make_tiny_model(), CPU, max_batch=max_batch)
    flow_calls = count_calls(monkeypatch, backend.model.flow_unet)
    mask_calls = count_calls(monkeypatch, backend.model.mask_unet)
    img0, img1 = frames(batch=2, height=32, width=48)
    outputs = backend.run(backend.prepare(img0), backend.prepare(img1), TIMES)
    assert len(outputs) == 3 and all(o.img_t.shape == (2, 3, 32, 48) for o in outputs)
    assert flow_calls == [2]  # once, for the batch of two pairs
    assert len(mask_calls) == synth_calls and sum(mask_calls) == 2 * len(TIMES)


def test_exported_backend_runs_flows_once_per_pair(monkeypatch, tmp_path):
    pytest.importorskip("onnxruntime")
    backend = select_backend("onnxruntime", make_tiny_model(), CPU, cache_root=tmp_path)
    calls = []
    original = backend._flows
    monkeypatch.setattr(backend, "_flows", lambda a, b: calls.append(a.shape) or original(a, b))
    img0, img1 = frames(batch=1, height=32, width=48)
    outputs = backend.run(img0, img1, TIMES)
    assert len(outputs) == 3 and len(calls) == 1
    assert not torch.equal(outputs[0].img_t, outputs[2].img_t)


def test_channels_last_layout_and_prepared_frames_are_reused():
    interp = Interpolator(make_tiny_model(), device="cpu", backend="eager")
    a, b, c = (torch.from_numpy(moving_square(shift=s)).permute(2, 0, 1)[None].float() / 255 for s in (0, 2, 4))
    prepared_b = interp.prepare(b)
    assert isinstance(prepared_b, PreparedFrames) and (prepared_b.height, prepared_b.width) == (40, 56)
    assert prepared_b.tensor.shape[-2:] == (40, 56) and prepared_b.tensor.is_contiguous(memory_format=torch.channels_last)
    assert interp.prepare(prepared_b) is prepared_b
    first = interp.run(interp.prepare(a), prepared_b, [0.5])[0].img_t
    second = interp.run(prepared_b, interp.prepare(c), [0.5])[0].img_t
    torch.testing.assert_close(first, interp.run(a, b, [0.5])[0].img_t)
    torch.testing.assert_close(second, interp.run(b, c, [0.5])[0].img_t)


def test_padding_is_cropped_for_odd_sizes():
    interp = Interpolator(make_tiny_model(), device="cpu", backend="eager")
    img0, img1 = frames(batch=1, height=37, width=53)
    prepared = interp.prepare(img0)
    assert prepared.tensor.shape[-2:] == (40, 56) and (prepared.height, prepared.width) == (37, 53)
    output = interp.run(prepared, img1, [0.4])[0]
    assert output.img_t.shape == (1, 3, 37, 53)
    with pytest.raises(InputError, match="differ in size"):
        interp.run(prepared, frames(batch=1, height=32, width=53)[1], [0.5])


def test_auto_rule_and_unknown_names():
    bf16 = "openvino" if "openvino" in available_backends(CPU) else "eager"  # OpenVINO's bf16 kernels, else autocast
    assert resolve_backend_name("auto", CPU, torch.bfloat16) == bf16
    assert resolve_backend_name("auto", CPU, torch.float16) == "eager"
    auto = resolve_backend_name("auto", CPU)
    assert auto in available_backends(CPU)
    expected = "openvino" if "openvino" in available_backends(CPU) else "onnxruntime" if "onnxruntime" in available_backends(CPU) else "eager"
    assert auto == expected
    with pytest.raises(InputError, match="unknown backend"):
        select_backend("tensorrt", make_tiny_model(), CPU)
    with pytest.raises(InputError, match="CPU only"):
        resolve_backend_name("openvino", torch.device("cuda"))
    assert set(available_backends(CPU)) <= set(BACKENDS)


def test_missing_optional_package_names_the_extra():
    with pytest.raises(InputError, match=r"pip install 'rrin\[fast\]'"):
        require("rrin_no_such_module", "fast")


def test_bfloat16_autocast_on_cpu_is_close_to_fp32():
    model = make_tiny_model()
    img0, img1 = frames(batch=1, height=32, width=48)
    fp32 = Interpolator(model, device="cpu", backend="eager").run(img0, img1, [0.5])[0].img_t
    bf16 = Interpolator(model, device="cpu", precision="bf16", backend="eager").run(img0, img1, [0.5])[0].img_t
    assert bf16.dtype == torch.float32
    assert float((bf16 - fp32).abs().mean()) < 0.02
    assert np.isfinite(bf16.numpy()).all()


def test_graph_cache_is_keyed_on_rrin_and_graph_versions(monkeypatch, tmp_path):
    """A change to the exported computation (warp, blend) bumps GRAPH_VERSION; a new rrin
    version also misses: the CPU backends never serve a graph another code exported."""
    import rrin
    from rrin import export
    from rrin.inference.backends.cache import model_fingerprint
    from rrin.inference.backends.exported import exported_graphs

    pytest.importorskip("onnxruntime")
    model = make_tiny_model()
    first = exported_graphs(model, tmp_path)
    assert exported_graphs(model, tmp_path) == first  # the same code: a cache hit
    monkeypatch.setattr(export, "GRAPH_VERSION", export.GRAPH_VERSION + 1)
    second = exported_graphs(model, tmp_path)
    assert second[1] != first[1] and second[1].is_file()
    before = model_fingerprint(model)
    monkeypatch.setattr(rrin, "__version__", rrin.__version__ + ".post1")
    assert model_fingerprint(model) != before


@pytest.mark.parametrize("native", [True, False])
def test_auto_precision_is_bf16_through_openvino_only_where_the_cpu_has_it(monkeypatch, native):
    from rrin.inference import backends
    from rrin.model import RRIN
    from rrin.model.config import PRESETS

    monkeypatch.setattr(backends, "native_bf16", lambda: native)
    model = RRIN(PRESETS["dis-lite"])
    expected = torch.bfloat16 if native else torch.float32
    assert backends.auto_precision("auto", model, CPU) == expected
    assert backends.auto_precision("openvino", model, CPU) == expected
    assert backends.auto_precision("eager", model, CPU) == torch.float32  # PyTorch's CPU autocast is slower
    assert backends.auto_precision("auto", RRIN(PRESETS["dis-synthesis"]), CPU) == torch.float32  # no U-Nets
    assert backends.auto_precision("auto", make_tiny_model(), CPU) == torch.float32  # flow U-Net: flows stay fp32
    assert backends.auto_precision("auto", model, torch.device("cuda")) == torch.float16


def test_openvino_in_bf16_is_close_to_fp32(tmp_path):
    pytest.importorskip("openvino")
    img0, img1 = frames()
    model = make_tiny_model(3)
    fp32 = Interpolator(model, device="cpu", precision="fp32", backend="openvino", cache_root=tmp_path)
    bf16 = Interpolator(model, device="cpu", precision="bf16", cache_root=tmp_path)
    assert bf16.backend.name == "openvino" and "bf16" in bf16.backend.describe()
    for got, expected in zip(bf16.run(img0, img1, TIMES), fp32.run(img0, img1, TIMES)):
        assert got.img_t.dtype == torch.float32
        torch.testing.assert_close(got.img_t, expected.img_t, atol=3e-2, rtol=0)
