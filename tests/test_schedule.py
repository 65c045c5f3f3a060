"""The output schedule: which frame at which t between which inputs (pure functions)."""

from fractions import Fraction

import pytest

from rrin.errors import InputError
from rrin.inference.schedule import fps_last, fps_pair, parse_rate, plan


def test_factor_counts_positions_and_times():
    times = [Fraction(k, 10) for k in range(5)]
    frames = plan(times, factor=3, time_base=Fraction(1, 10))
    assert len(frames) == (5 - 1) * 3 + 1
    assert [f.index for f in frames] == list(range(13))
    for k in range(5):  # input k at output k·N, unchanged
        assert frames[3 * k].is_copy and frames[3 * k].source == k
    assert [f.t for f in frames[:3]] == [0.0, 1 / 3, 2 / 3]
    assert [f.pts for f in frames] == list(range(13))  # ticks of (1/10 s) / 3


def test_factor_follows_variable_timestamps():
    times = [Fraction(0), Fraction(1, 10), Fraction(4, 10)]  # gaps 100 ms then 300 ms
    frames = plan(times, factor=2, time_base=Fraction(1, 100))
    assert [f.pts for f in frames] == [0, 10, 20, 50, 80]  # ticks of 5 ms
    assert [f.t for f in frames] == [0.0, 0.5, 0.0, 0.5, 0.0]


def test_fps_double_rate_interpolates_midpoints_and_reuses_inputs():
    times = [Fraction(k, 24) for k in range(4)]
    frames = plan(times, fps=Fraction(48))
    assert len(frames) == 7
    assert [f.t for f in frames] == [0.0, 0.5] * 3 + [0.0]
    assert [f.source for f in frames] == [0, 0, 1, 1, 2, 2, 3]


def test_fps_is_placed_by_real_timestamps_on_vfr_input():
    times = [Fraction(0), Fraction(1, 10), Fraction(4, 10)]
    frames = plan(times, fps=Fraction(20))  # slots every 50 ms up to 400 ms
    assert [f.index for f in frames] == list(range(9))
    by_index = {f.index: f for f in frames}
    assert by_index[1].source == 0 and by_index[1].t == pytest.approx(0.5)
    assert by_index[2].is_copy and by_index[2].source == 1
    assert by_index[3].source == 1 and by_index[3].t == pytest.approx(50 / 300)
    assert by_index[8].is_copy and by_index[8].source == 2


def test_fps_ntsc_to_60_covers_every_slot_once():
    times = [Fraction(k * 1001, 24000) for k in range(25)]
    frames = plan(times, fps=parse_rate("60"))
    assert [f.index for f in frames] == list(range(len(frames)))
    assert len(frames) == int(times[-1] * 60 + Fraction(1, 2)) + 1
    copies = [f for f in frames if f.is_copy]
    assert sorted({f.source for f in copies}) == list(range(25))  # each input shown
    for f in frames:  # every frame within its pair, at its own time
        assert 0.0 <= f.t < 1.0


def test_snap_zero_only_reuses_exact_coincidences():
    frames = fps_pair(0, Fraction(0), Fraction(1, 24), Fraction(0), Fraction(60), snap=Fraction(0))
    assert frames[0].is_copy and all(not f.is_copy for f in frames[1:])
    assert fps_last(3, Fraction(1, 8), Fraction(0), Fraction(24)) == [frames[0].__class__(3, 3, 3, 0.0)]


def test_parse_rate_and_errors():
    assert parse_rate("23.976") == Fraction(24000, 1001)
    assert parse_rate("24000/1001") == Fraction(24000, 1001)
    assert parse_rate("60") == 60
    for bad in ("0", "-5", "fast"):
        with pytest.raises(InputError):
            parse_rate(bad)
    with pytest.raises(InputError):
        plan([Fraction(0)], factor=2)
    with pytest.raises(InputError):
        plan([Fraction(0), Fraction(1)], factor=1)
