"""ONNX export: dynamic sizes, t as an input, parity with PyTorch, and ``rrin export``."""

import pytest
import torch

from rrin.cli import main
from rrin.export import export_onnx, onnx_parity

from conftest import make_tiny_model

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model = make_tiny_model(5)
    path = tmp_path_factory.mktemp("onnx") / "tiny.onnx"
    return model, export_onnx(model, path)


def test_export_parity_at_export(exported):
    _, result = exported
    assert result.path.is_file() and result.check_size == (37, 53)
    assert result.max_abs_diff is not None and result.max_abs_diff <= 1e-3


@pytest.mark.parametrize("batch,height,width", [(1, 24, 24), (3, 19, 70), (1, 64, 40)])
def test_dynamic_size_batch_and_time(exported, batch, height, width):
    model, result = exported
    assert onnx_parity(model, result.path, height=height, width=width, batch=batch) <= 1e-3


def test_time_is_an_input(exported):
    _, result = exported
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["img0", "img1", "t"]
    generator = torch.Generator().manual_seed(0)
    img0, img1 = (torch.rand(1, 3, 24, 32, generator=generator).numpy() for _ in range(2))
    early, late = (session.run(None, {"img0": img0, "img1": img1, "t": torch.tensor([t]).numpy()})[0] for t in (0.2, 0.8))
    assert early.shape == (1, 3, 24, 32)
    assert abs(early - late).max() > 1e-3


def test_blend_model_exports_the_t_weighted_blend(tmp_path):
    model = make_tiny_model()
    model.zero_init_residues()
    path = export_onnx(model, tmp_path / "blend.onnx").path
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    img0, img1 = torch.rand(1, 3, 20, 28).numpy(), torch.rand(1, 3, 20, 28).numpy()
    out = session.run(None, {"img0": img0, "img1": img1, "t": torch.tensor([0.25]).numpy()})[0]
    assert abs(out - (0.75 * img0 + 0.25 * img1)).max() < 1e-5


def test_cli_export_prints_parity(tmp_path, tiny_weights, capsys):
    out = tmp_path / "model.onnx"
    assert main(["export", "--format", "onnx", str(tiny_weights), str(out)]) == 0
    printed = capsys.readouterr().out
    assert out.is_file() and "max abs difference" in printed
    difference = float(printed.split("max abs difference ")[1].split()[0])
    assert difference <= 1e-3


@pytest.mark.parametrize("case", ["exists", "suffix", "missing-model", "no-folder", "bad-tolerance", "levels"])
def test_cli_export_bad_inputs(case, tmp_path, tiny_weights, capsys):
    out = tmp_path / "model.onnx"
    model = str(tiny_weights)
    extra = []
    if case == "exists":
        out.write_bytes(b"keep me")
    elif case == "suffix":
        out = tmp_path / "model.pt"
    elif case == "missing-model":
        model = str(tmp_path / "absent.safetensors")
    elif case == "no-folder":
        out = tmp_path / "absent" / "model.onnx"
    elif case == "levels":
        extra = ["--refine-levels", "5"]  # more halvings than the tiny model's multiple allows
    else:
        extra = ["--tolerance", "0"]
    assert main(["export", model, str(out), *extra]) == 2
    error = capsys.readouterr().err
    assert error.startswith(("rrin: error:", "rrin export: error:")) and error.count("\n") == 1
    if case == "exists":
        assert out.read_bytes() == b"keep me"
    else:
        assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]


def test_a_dis_model_exports_a_graph_that_takes_the_flows(tmp_path):
    from rrin.model import RRIN
    from rrin.model.config import PRESETS, RRINConfig

    torch.manual_seed(0)
    model = RRIN(RRINConfig(base_width=4, depth=3, flow="dis", padding="border")).eval()
    result = export_onnx(model, tmp_path / "dis.onnx")
    assert result.max_abs_diff is not None and result.max_abs_diff <= 1e-3
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["img0", "img1", "flow_01", "flow_10", "t"]
    assert onnx_parity(model, result.path, height=30, width=50, batch=1) <= 1e-3
    with pytest.raises(Exception, match="no flows graph"):
        export_onnx(RRIN(PRESETS["dis-lite"]), tmp_path / "flows.onnx", graph="flows")


def test_cli_export_at_half_size_refinement(tmp_path):
    """``--refine-levels 1``: the graph refines at half size, checked against PyTorch there."""
    from rrin.model import RRIN
    from rrin.model.checkpoint import save_weights
    from rrin.model.config import RRINConfig

    torch.manual_seed(0)
    weights = save_weights(RRIN(RRINConfig(base_width=4, depth=3, flow="dis", padding="border")).eval(),
                           tmp_path / "dis.safetensors", half=False)
    out = tmp_path / "half.onnx"
    assert main(["export", str(weights), str(out), "--graph", "synthesize", "--refine-levels", "1", "-q"]) == 0
    assert out.is_file()
