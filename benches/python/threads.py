#!/usr/bin/env python3
"""Python's ThreadPoolExecutor on the figures of `benches/compare/threads.rs`.

Run by that benchmark (which puts the numbers in its table), or alone:

    python3 benches/python/threads.py [--workers N] [--quick]

Prints one `name value unit` line per figure, each the median of several samples:

- submit_result: submit a task returning its index, then `result()` each future; ns per task.
- map_square: `executor.map(square, range(n))` summed; ns per item (Python's thread pool has no
  batching, so this is per-item overhead, measured on fewer items than the Rust figure).
- sleep_100x10ms: 100 tasks sleeping 10 ms on 10 workers; ms for all of them (ideal 100).
"""

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor, wait


def identity(i):
    return i


def square(x):
    return x * x


def sample(run, samples):
    run()  # warm-up: starts the pool's threads, fills caches
    return statistics.median(run() for _ in range(samples))


def submit_result(executor, tasks):
    def run():
        start = time.perf_counter()
        futures = [executor.submit(identity, i) for i in range(tasks)]
        total = sum(future.result() for future in futures)
        elapsed = time.perf_counter() - start
        assert total == tasks * (tasks - 1) // 2
        return elapsed

    return run


def map_square(executor, items):
    def run():
        start = time.perf_counter()
        total = sum(executor.map(square, range(items)))
        elapsed = time.perf_counter() - start
        assert total == sum(x * x for x in range(items))
        return elapsed

    return run


def sleep_tasks(executor):
    def run():
        start = time.perf_counter()
        done, not_done = wait([executor.submit(time.sleep, 0.010) for _ in range(100)])
        elapsed = time.perf_counter() - start
        assert not not_done and all(f.exception() is None for f in done)
        return elapsed

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--quick", action="store_true", help="fewer samples and tasks")
    args = parser.parse_args()
    samples = 3 if args.quick else 7
    tasks = 5_000 if args.quick else 20_000

    print(f"python {sys.version.split()[0]}")
    with ThreadPoolExecutor(max_workers=args.workers) as executor:
        seconds = sample(submit_result(executor, tasks), samples)
        print(f"submit_result {seconds / tasks * 1e9:.1f} ns/task")
        seconds = sample(map_square(executor, tasks), samples)
        print(f"map_square {seconds / tasks * 1e9:.1f} ns/item")
    with ThreadPoolExecutor(max_workers=10) as executor:
        seconds = sample(sleep_tasks(executor), samples)
        print(f"sleep_100x10ms {seconds * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
