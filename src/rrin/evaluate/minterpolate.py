"""FFmpeg's motion-compensated ``minterpolate`` filter as an interpolation baseline.

The filter is reached through PyAV's filter graph (the FFmpeg bundled in PyAV's wheels), so
no external ``ffmpeg`` binary is needed: ``buffer → format → minterpolate → format →
buffersink``.

How frames are fed: the kept frames of a sequence are pushed with timestamps 0, 1, 2, … in a
time base of one second (an input rate of 1 fps) and the filter is asked for ``fps=k``. Its
output number ``n`` then lies at time ``n / k``: for the pair (frame ``i``, frame ``i + 1``)
the outputs ``i·k + j`` (``j = 1 … k-1``) are the frames at ``t = j / k``. Running the filter
once over the whole sequence (rather than per pair) is much faster and gives the filter the
motion history it uses, as a user's ``ffmpeg -vf minterpolate`` run would. The filter only
emits the frames of a pair once the frame after the pair has arrived, so the last kept frame
is pushed twice (the repeat only serves as look-ahead for the last pair).

Colour: the RGB frames are converted to ``yuv444p`` (BT.601, limited range, no chroma
subsampling — the format FFmpeg negotiates by itself for RGB input) before the filter, and
back to RGB after it, by FFmpeg's ``format`` filter (swscale). ``pix_fmt="yuv420p"`` would
subsample the chroma once more and costs about 0.6 dB on bikes.mp4; ``None`` lets FFmpeg
negotiate. Options (FFmpeg's own defaults, see
https://ffmpeg.org/ffmpeg-filters.html#minterpolate): ``mi_mode=mci`` (motion-compensated
interpolation), ``mc_mode=obmc`` (overlapped block motion compensation), ``me_mode=bilat``
(bilateral motion estimation), ``me=epzs``, ``vsbmc=0`` (no variable-size block MC),
``scd=fgdiff`` (scene-change detection by frame difference; on a detected cut the filter
repeats a frame instead of interpolating).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import av
import numpy as np

from ..errors import InputError

__all__ = ["MinterpolateOptions", "minterpolate_sequence"]


#: ``scd`` is passed as its numeric value: the FFmpeg bundled with PyAV rejects the name
#: ``fgdiff`` when parsing the option string (``none`` = 0, ``fgdiff`` = 1).
_SCD_CODES = {"none": 0, "fgdiff": 1}

#: The smallest frame side the filter accepts (FFmpeg refuses smaller frames with EINVAL).
MIN_SIDE = 32


@dataclass(frozen=True)
class MinterpolateOptions:
    """Options passed to FFmpeg's ``minterpolate`` filter (defaults: FFmpeg's own)."""

    mi_mode: str = "mci"
    mc_mode: str = "obmc"
    me_mode: str = "bilat"
    me: str = "epzs"
    vsbmc: int = 0
    scd: str = "fgdiff"
    pix_fmt: str | None = "yuv444p"

    def filter_args(self, factor: int) -> str:
        return (f"fps={factor}:mi_mode={self.mi_mode}:mc_mode={self.mc_mode}:me_mode={self.me_mode}"
                f":me={self.me}:vsbmc={self.vsbmc}:scd={_SCD_CODES[self.scd]}")


def minterpolate_sequence(frames: Sequence[np.ndarray], factor: int,
                          options: MinterpolateOptions = MinterpolateOptions()) -> list[list[np.ndarray]]:
    """Rebuild the frames between consecutive ``frames`` with ``minterpolate``.

    Args:
        frames: ≥ 2 kept frames, each (H, W, 3) uint8 RGB, all the same size.
        factor: k ≥ 2; the rebuilt frames of each pair lie at t = 1/k … (k-1)/k.

    Returns:
        For each consecutive pair, the k-1 frames (H, W, 3) uint8 RGB in time order.
    """
    if factor < 2:
        raise InputError(f"the interpolation factor must be at least 2, got {factor}")
    if len(frames) < 2:
        raise InputError("minterpolate needs at least two frames")
    height, width = frames[0].shape[:2]
    if any(f.shape != frames[0].shape for f in frames):
        raise InputError("all frames given to minterpolate must have the same size")
    if min(height, width) < MIN_SIDE:
        raise InputError(f"minterpolate needs frames of at least {MIN_SIDE}x{MIN_SIDE} pixels, got {width}x{height}")
    time_base = Fraction(1, 1)
    graph = av.filter.Graph()
    source = graph.add_buffer(width=width, height=height, format="rgb24", time_base=time_base)
    chain = [
        source,
        *([graph.add("format", options.pix_fmt)] if options.pix_fmt else []),
        graph.add("minterpolate", options.filter_args(factor)),
        graph.add("format", "rgb24"),
        graph.add("buffersink"),
    ]
    for a, b in zip(chain, chain[1:]):
        a.link_to(b)
    graph.configure()

    outputs: dict[int, np.ndarray] = {}
    out_rate = Fraction(factor)

    def drain() -> None:
        while True:
            try:
                frame = graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            index = round(frame.pts * frame.time_base * out_rate)
            outputs[index] = frame.to_ndarray(format="rgb24")

    # The filter interpolates between the middle frames of a 4-frame window, so it emits the
    # last pair's frames only once a frame after it has arrived: the last frame is repeated.
    for i, array in enumerate([*frames, frames[-1]]):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(array, dtype=np.uint8), format="rgb24")
        frame.pts = i
        frame.time_base = time_base
        graph.push(frame)
        drain()
    graph.push(None)
    drain()

    result = []
    for i in range(len(frames) - 1):
        pair = []
        for j in range(1, factor):
            index = i * factor + j
            if index not in outputs:
                raise InputError(f"minterpolate produced no frame at output {index}")
            pair.append(outputs[index])
        result.append(pair)
    return result
