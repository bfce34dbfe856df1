"""Inference speed the way a deployment would see it: warm, repeated, at batch 1 and at batch 32.

One un-warmed pass over a fold moved a student's speed-up from 1.84x to 2.53x between two identical
runs: the first calls pay for lazy initialisation and cold caches. So every model is measured the same
way on the same examples: warm-up calls first (not timed), then `passes` timed passes; batch-1 latency
is reported as the p50 and p95 of every single-example call, throughput as the median pass. The rows of
one fold are timed together, interleaved pass by pass (:func:`measure_interleaved`,
crossval.timing): ratios between them then compare measurements taken in the same minutes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from distilbench.core.stop import check_stop

# the 20-minute budget: 16 batch-1 calls and one batch of 32 a pass, 3 passes (a fold's timing took 31 s
# at 32 calls, two batches and 5 passes; docs/development.md "The quickstart's time")
LATENCY_EXAMPLES = 16  # batch-1 calls per pass
THROUGHPUT_BATCH = 32
THROUGHPUT_EXAMPLES = 32  # examples per pass at batch THROUGHPUT_BATCH
PASSES = 3
WARMUP_CALLS = 3


@dataclass(frozen=True)
class SpeedResult:
    latency_p50_ms: float  # one example at a time
    latency_p95_ms: float
    throughput_per_s: float  # examples per second at batch THROUGHPUT_BATCH, median pass
    threads: int  # torch intra-op threads during the measurement


SPEED_METRICS = ("latency_p50_ms", "latency_p95_ms", "throughput_per_s")  # SpeedResult's measured fields

# a row not (yet) timed: a fold task leaves its speed to crossval.timing, which times the fold's rows together
NOT_TIMED = SpeedResult(math.nan, math.nan, math.nan, threads=0)


@dataclass(frozen=True)
class TimedRow:
    """One row to time: `predict(batch_of_examples)` on its own held-out `examples` (the first
    THROUGHPUT_EXAMPLES are used; every row of a fold gets the same ones, in its own input form).
    `synchronize` waits for asynchronous devices (CUDA) before a clock is read."""

    name: str
    predict: Callable[[list], object]
    examples: list
    synchronize: Callable[[], None] = lambda: None

    @property
    def singles(self) -> list:
        return self.examples[:LATENCY_EXAMPLES]

    @property
    def batches(self) -> list[list]:
        end = min(len(self.examples), THROUGHPUT_EXAMPLES)
        return [self.examples[i : i + THROUGHPUT_BATCH] for i in range(0, end, THROUGHPUT_BATCH)]


def measure_interleaved(rows: list[TimedRow], *, passes: int = PASSES) -> dict[str, SpeedResult]:
    """Time several rows in rounds: each round times every row once (its batch-1 calls, then one
    throughput pass), starting one row later than the round before, so a drift of the machine during
    the measurement falls on every row alike instead of on the rows timed last. Warm-up first, untimed."""
    latencies: dict[str, list[float]] = {row.name: [] for row in rows}
    pass_seconds: dict[str, list[float]] = {row.name: [] for row in rows}
    with torch.inference_mode():
        for row in rows:
            check_stop(f"timing {row.name}")  # a fold's timing runs for minutes on a CPU: Ctrl-C stops it
            for example in row.singles[:WARMUP_CALLS]:
                row.predict([example])
            row.predict(row.batches[0])
            row.synchronize()
        for round_number in range(passes):
            start = round_number % len(rows)
            for row in rows[start:] + rows[:start]:
                check_stop(f"timing {row.name}")
                latencies[row.name] += [_timed(row.predict, [e], row.synchronize) for e in row.singles]
                pass_seconds[row.name].append(
                    sum(_timed(row.predict, b, row.synchronize) for b in row.batches)
                )
    return {
        row.name: SpeedResult(
            latency_p50_ms=float(np.percentile(latencies[row.name], 50) * 1000),
            latency_p95_ms=float(np.percentile(latencies[row.name], 95) * 1000),
            throughput_per_s=float(sum(len(b) for b in row.batches) / np.median(pass_seconds[row.name])),
            threads=torch.get_num_threads(),
        )
        for row in rows
    }


def measure_speed(
    predict: Callable[[list], object],
    examples: list,
    *,
    passes: int = PASSES,
    synchronize: Callable[[], None] = lambda: None,
) -> SpeedResult:
    """One model alone, by the same protocol (:func:`measure_interleaved` with one row)."""
    return measure_interleaved([TimedRow("", predict, examples, synchronize)], passes=passes)[""]


def _timed(predict: Callable[[list], object], batch: list, synchronize: Callable[[], None]) -> float:
    start = time.perf_counter()
    predict(batch)
    synchronize()
    return time.perf_counter() - start
