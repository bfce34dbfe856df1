"""Inference speed the way a deployment would see it: warm, repeated, at batch 1 and at batch 32.

One un-warmed pass over a fold moved a student's speed-up from 1.84x to 2.53x between two identical
runs: the first calls pay for lazy initialisation and cold caches. So every model is measured the same
way on the same examples: warm-up calls first (not timed), then `passes` timed passes; batch-1 latency
is reported as the p50 and p95 of every single-example call, throughput as the median pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

LATENCY_EXAMPLES = 32  # batch-1 calls per pass
THROUGHPUT_BATCH = 32
THROUGHPUT_EXAMPLES = 128  # 4 batches of 32 per pass
PASSES = 5
WARMUP_CALLS = 3


@dataclass(frozen=True)
class SpeedResult:
    latency_p50_ms: float  # one example at a time
    latency_p95_ms: float
    throughput_per_s: float  # examples per second at batch THROUGHPUT_BATCH, median pass
    threads: int  # torch intra-op threads during the measurement


def measure_speed(
    predict: Callable[[list], object],
    examples: list,
    *,
    passes: int = PASSES,
    synchronize: Callable[[], None] = lambda: None,
) -> SpeedResult:
    """Time `predict(batch_of_examples)` on the first examples of `examples` (the same ones every model
    sees). `synchronize` waits for asynchronous devices (CUDA) before a clock is read."""
    single = examples[:LATENCY_EXAMPLES]
    batches = [
        examples[i : i + THROUGHPUT_BATCH]
        for i in range(0, min(len(examples), THROUGHPUT_EXAMPLES), THROUGHPUT_BATCH)
    ]
    with torch.inference_mode():
        for example in single[:WARMUP_CALLS]:
            predict([example])
        predict(batches[0])
        synchronize()
        latencies = [_timed(predict, [e], synchronize) for _ in range(passes) for e in single]
        pass_seconds = [sum(_timed(predict, b, synchronize) for b in batches) for _ in range(passes)]
    examples_per_pass = sum(len(b) for b in batches)
    return SpeedResult(
        latency_p50_ms=float(np.percentile(latencies, 50) * 1000),
        latency_p95_ms=float(np.percentile(latencies, 95) * 1000),
        throughput_per_s=float(examples_per_pass / np.median(pass_seconds)),
        threads=torch.get_num_threads(),
    )


def _timed(predict: Callable[[list], object], batch: list, synchronize: Callable[[], None]) -> float:
    start = time.perf_counter()
    predict(batch)
    synchronize()
    return time.perf_counter() - start
