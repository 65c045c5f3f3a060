"""Progress bars (tqdm, only on a terminal, never with -q) and the library's log lines."""

import io

import cv2

from conftest import moving_square
from rrin.cli import main
from rrin.cli.progress import ProgressBar, wants_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_draws_on_a_terminal_only_and_counts_from_the_first_call():
    terminal = Terminal()
    assert wants_bar(terminal, quiet=False) and not wants_bar(terminal, quiet=True)
    assert not wants_bar(io.StringIO(), quiet=False)  # a pipe or a log file: no bar
    bar = ProgressBar(terminal, enabled=True, unit="frame")
    bar(5)  # e.g. a resumed run: five frames were done before
    bar.total = 20
    for done in range(6, 21):
        bar(done)
    bar.close()
    text = terminal.getvalue()
    assert "20/20" in text and "frame" in text
    silent = io.StringIO()
    off = ProgressBar(silent, enabled=False, total=3)
    off(1), off(3), off.close()
    assert silent.getvalue() == ""


def test_evaluate_progress_takes_done_and_total():
    terminal = Terminal()
    bar = ProgressBar(terminal, enabled=True, unit="sample", desc="evaluate")
    for done in range(1, 4):
        bar(done, 3)
    bar.close()
    assert "evaluate" in terminal.getvalue() and "3/3" in terminal.getvalue()


def test_library_log_lines_reach_stderr_unless_quiet(tmp_path, tiny_weights, capsys):
    for k in range(2):
        cv2.imwrite(str(tmp_path / f"{k}.png"), moving_square(shift=3 * k))
    argv = ["pair", str(tmp_path / "0.png"), str(tmp_path / "1.png"), "-o", str(tmp_path / "m.png"),
            "-m", str(tiny_weights), "--backend", "eager", "--device", "cpu", "--overwrite"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "rrin: memory: freed activations stay in the process" in err  # what the eager backend sets
    assert main([*argv, "-q"]) == 0
    assert capsys.readouterr().err == ""


def test_make_dataset_quiet_prints_no_per_source_lines(tmp_path, capsys):
    import av
    import numpy as np

    video = tmp_path / "v.mp4"
    with av.open(str(video), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 56, 40, "yuv420p"
        for k in range(9):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(moving_square(shift=2 * k)), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    assert main(["make-dataset", str(video), "--out", str(tmp_path / "ds"), "--segment-frames", "3",
                 "--val-fraction", "0.5", "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "training and" in captured.out
