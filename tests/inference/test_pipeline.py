"""What overlaps the network's work: frames read ahead, masks written in the background; and the stage clock
that shows where a frame's time goes."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from llb_core.inference.read_ahead import ReadAhead
from llb_core.inference.stages import NO_CLOCK, STAGES, StageClock
from llb_core.io.background import BackgroundWriter
from tests.inference.conftest import ArrayFrames


def test_stage_time_is_exclusive_and_adds_up_to_the_frame():
    clock = StageClock()
    with clock("backbone"):
        time.sleep(0.05)  # before any frame: not counted
    for _ in range(2):
        clock.begin_frame()
        with clock("input"):
            time.sleep(0.02)
            with clock("backbone"):
                time.sleep(0.03)
        time.sleep(0.01)  # no stage: "other"
        clock.frame_done()
    ms = clock.ms_per_frame()
    assert clock.frames == 2 and list(ms) == list(STAGES)
    assert 18 <= ms["input"] < 28 and 28 <= ms["backbone"] < 45 and 8 <= ms["other"] < 20
    assert abs(sum(ms.values()) - 1000 * clock.total / 2) < 1
    with NO_CLOCK("backbone"):
        NO_CLOCK.begin_frame()
        NO_CLOCK.frame_done()
    assert NO_CLOCK.frames == 0


def test_a_session_reports_its_stages_and_runtime(dog):
    from llb_core.inference import SessionSettings
    from llb_core.model import create_model
    from tests.inference.test_session import Clip

    frames, masks = dog
    model = create_model("lwl", decoder_widths=(32, 16, 16, 8)).eval()
    clip = Clip(frames, model, SessionSettings(resolution=128, memory_interval=3, precision="fp32", runtime="torch"))
    clip.key(0, masks[0])
    session = clip.new_session()
    session.clock = StageClock()
    written = []
    session.propagate(0, "forward", stop_at=5, on_frame=lambda r: written.append(r.frame) or time.sleep(0.01))
    ms = session.clock.ms_per_frame()
    assert session.clock.frames == 5 and written == [1, 2, 3, 4, 5] and session.runtime == "torch"
    for stage in ("input", "backbone", "target", "decoder", "merge", "memory", "store"):
        assert ms[stage] > 0, stage
    assert ms["write"] >= 9  # the caller's work on each frame is its own stage


def test_read_ahead_reads_in_order_and_hands_back_each_frame():
    frames = ArrayFrames([np.full((4, 4, 3), i, np.uint8) for i in range(10)])
    order = [5, 4, 3, 2, 1, 0]
    reader = ReadAhead(frames, order, depth=2)
    try:
        for index in order:
            assert reader.read(index)[0, 0, 0] == index
        assert reader.read(9)[0, 0, 0] == 9  # not planned: read directly
    finally:
        reader.close()
    assert sorted(frames.reads) == sorted([*order, 9]) and frames.reads[:6] == order


def test_a_read_error_comes_out_for_that_frame():
    class Broken(ArrayFrames):
        def read(self, index: int) -> np.ndarray:
            if index == 2:
                raise OSError("frame 2 is damaged")
            return super().read(index)

    reader = ReadAhead(Broken([np.zeros((2, 2, 3), np.uint8)] * 4), range(4))
    try:
        reader.read(0)
        reader.read(1)
        with pytest.raises(OSError, match="frame 2"):
            reader.read(2)
    finally:
        reader.close()


def test_the_writer_runs_writes_in_order_off_the_calling_thread():
    done, threads = [], set()
    with BackgroundWriter(depth=2) as writer:
        for i in range(20):
            writer.submit(lambda k: (threads.add(threading.current_thread().name), done.append(k)), i)
    assert done == list(range(20)) and threads == {"llb-writer"}


def test_a_failed_write_is_raised_and_stops_later_writes(tmp_path):
    done = []

    def write(k: int) -> None:
        if k == 3:
            raise OSError(f"{tmp_path}/00003.png: no space left on device")
        done.append(k)

    writer = BackgroundWriter(depth=1)
    with pytest.raises(OSError, match="no space left"):
        for i in range(50):
            writer.submit(write, i)
            time.sleep(0.002)
        writer.close()
    writer.close()
    assert done == [0, 1, 2]  # nothing after the failure, nothing silently dropped before it
    with pytest.raises(RuntimeError, match="closed"):
        writer.submit(write, 99)
