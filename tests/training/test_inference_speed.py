"""The interleaved latency protocol: a fold's rows are timed in rounds, each round every row once."""

from __future__ import annotations

import time

import pytest

from distilbench.training import inference_speed as speed
from distilbench.training.inference_speed import TimedRow, measure_interleaved


def recording_row(name: str, calls: list, examples: int = 40, seconds: float = 0.0) -> TimedRow:
    def predict(batch: list) -> None:
        calls.append((name, len(batch)))
        time.sleep(seconds)

    return TimedRow(name, predict, list(range(examples)))


def test_each_round_times_every_row_once_starting_one_row_later_each_time():
    calls: list[tuple[str, int]] = []
    rows = [recording_row(name, calls) for name in "ABC"]
    measure_interleaved(rows, passes=4)

    warm_up = speed.WARMUP_CALLS + 1  # batch-1 warm-up calls and one full batch, untimed
    assert [n for n, _ in calls[: 3 * warm_up]] == ["A"] * warm_up + ["B"] * warm_up + ["C"] * warm_up
    # one row's turn in a round: its first LATENCY_EXAMPLES examples one by one, then its throughput pass
    # over its first THROUGHPUT_EXAMPLES (of its 40) in batches of THROUGHPUT_BATCH
    batches = [speed.THROUGHPUT_BATCH] * (speed.THROUGHPUT_EXAMPLES // speed.THROUGHPUT_BATCH)
    turn = [1] * speed.LATENCY_EXAMPLES + batches
    timed = calls[3 * warm_up :]
    turns = [timed[i : i + len(turn)] for i in range(0, len(timed), len(turn))]
    assert all([size for _, size in t] == turn and len({n for n, _ in t}) == 1 for t in turns)
    order = [t[0][0] for t in turns]
    assert order == list("ABCBCACABABC")  # 4 rounds, each starting one row later


def test_a_slower_row_measures_slower_and_every_row_gets_every_pass():
    calls: list[tuple[str, int]] = []
    rows = [recording_row("fast", calls), recording_row("slow", calls, seconds=0.002)]
    speeds = measure_interleaved(rows, passes=2)
    assert speeds["slow"].latency_p50_ms > speeds["fast"].latency_p50_ms + 1.5
    assert speeds["fast"].throughput_per_s > speeds["slow"].throughput_per_s
    counts = {name: sum(1 for n, size in calls if n == name and size == 1) for name in ("fast", "slow")}
    singles = speed.WARMUP_CALLS + 2 * speed.LATENCY_EXAMPLES  # warm-up, then 2 passes
    assert counts == {"fast": singles, "slow": singles}


@pytest.mark.parametrize("rows", [1, 2, 5])
def test_every_row_starts_a_round_as_often_as_any_other_over_a_whole_cycle(rows):
    calls: list[tuple[str, int]] = []
    names = [f"r{i}" for i in range(rows)]
    measure_interleaved([recording_row(n, calls, examples=4) for n in names], passes=rows)
    timed = calls[rows * (speed.WARMUP_CALLS + 1) :]  # 3 singles and a batch of 4 each, untimed
    turn = 5  # 4 singles, then the 4 as one batch
    assert len(timed) == rows * rows * turn
    firsts = [timed[i][0] for i in range(0, len(timed), turn * rows)]
    assert firsts == names  # round k starts with row k


def test_a_stop_request_ends_the_timing_at_the_next_row(monkeypatch):
    from distilbench.core import stop

    calls: list[tuple[str, int]] = []
    rows = [recording_row(name, calls) for name in "AB"]
    real = rows[0].predict

    def predict_then_stop(batch: list) -> None:  # Ctrl-C arrives while row A warms up
        real(batch)
        stop.request_stop()

    rows[0] = TimedRow("A", predict_then_stop, rows[0].examples)
    try:
        with pytest.raises(stop.StopRequested, match="timing B"):
            measure_interleaved(rows, passes=4)
    finally:
        stop.reset()
    assert {name for name, _ in calls} == {"A"}  # row B never ran: minutes saved on a real fold
