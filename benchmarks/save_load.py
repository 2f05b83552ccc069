"""Saving and loading a model of about a million parameters: `model.save(path)` and `nn.load(path)`.

nn.load reads and checks the whole file, builds the model and assigns every weight; it should
take no more than three times as long as the save that wrote the file. Rounds are interleaved
and each starts from a collected heap; the table shows each one's best and median round.
Run: python benchmarks/save_load.py [rounds]
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import tempfile
import time

import nn

SIZES = (2, [1000, 997, 1])   # 1,001,995 parameters
ROUNDS = 3


def timed(action) -> float:
    gc.collect()
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main(rounds: int = ROUNDS) -> dict[str, list[float]]:
    """Print the save and load times of the model and the load/save ratio; return the rounds."""
    model = nn.MLP(*SIZES)
    count = len(model.parameters())
    times: dict[str, list[float]] = {"save": [], "nn.load": []}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.json")
        for _ in range(rounds):
            times["save"].append(timed(lambda: model.save(path)))
            times["nn.load"].append(timed(lambda: nn.load(path)))
        size = os.path.getsize(path)
    print(f"MLP{SIZES}: {count:,} parameters, a file of {size / 1e6:.1f} MB; {rounds} rounds")
    print(f"{'':10} {'best s':>8} {'median s':>9}")
    for name, seconds in times.items():
        print(f"{name:10} {min(seconds):8.2f} {statistics.median(seconds):9.2f}")
    ratio = statistics.median(times["nn.load"]) / statistics.median(times["save"])
    print(f"load / save (medians): {ratio:.2f} (the bar: at most 3)")
    return times


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS)
