"""Wall-clock stamps in MLflow's unit."""

import time


def wall_clock_ms() -> int:
    """Milliseconds since the epoch: the time axis MLflow draws metrics and run spans on."""
    return int(time.time() * 1000)
