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


def test_bar_shows_a_note_and_writes_lines_above_itself():
    terminal = Terminal()
    bar = ProgressBar(terminal, enabled=True, unit="step", desc="train")
    bar(0, 4)
    bar(1, 4, "loss 0.5000")
    bar.write("step 1: val PSNR 30.00 dB")
    bar(4, 4)
    bar.close()
    text = terminal.getvalue()
    assert "loss 0.5000" in text and "4/4" in text and "step 1: val PSNR 30.00 dB\n" in text
    plain = io.StringIO()
    off = ProgressBar(plain, enabled=False)
    off(1, 2, "loss 1"), off.write("an event"), off.close()
    assert plain.getvalue() == "an event\n"  # no bar: the line as it is


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


def write_clip(video):
    import av
    import numpy as np

    with av.open(str(video), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 56, 40, "yuv420p"
        for k in range(9):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(moving_square(shift=2 * k)), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return video


def test_make_dataset_quiet_prints_no_per_source_lines(tmp_path, capsys):
    video = write_clip(tmp_path / "v.mp4")
    assert main(["make-dataset", str(video), "--out", str(tmp_path / "ds"), "--segment-frames", "3",
                 "--val-fraction", "0.5", "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "training and" in captured.out


def test_make_dataset_draws_a_bar_per_source_on_a_terminal_and_lines_in_a_log(tmp_path, capsys, monkeypatch):
    video = write_clip(tmp_path / "v.mp4")
    argv = ["make-dataset", str(video), "--segment-frames", "3", "--val-fraction", "0.5", "--out"]
    assert main([*argv, str(tmp_path / "log")]) == 0
    log = capsys.readouterr().err
    assert log.startswith("v: ") and "clips" in log and "\r" not in log  # a log file: the source's line, no bar
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main([*argv, str(tmp_path / "tty")]) == 0
    text = terminal.getvalue()
    assert "\r" in text and "9/9" in text and "frame" in text  # the source's frames, as they are read
    assert log.splitlines()[0] in text.splitlines()  # and its line once it is done
