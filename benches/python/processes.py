#!/usr/bin/env python3
"""Python's ProcessPoolExecutor and multiprocessing.Pool on the figures of `benches/compare/processes.rs`.

Run by that benchmark (which puts the numbers in its tables), or alone:

    python3 benches/python/processes.py [--workers N] [--quick] [p1 p2 p3 p4 p5]

Every pool uses the platform's default start method (fork on Linux). Prints one
`name value unit` line per figure, each the median of several samples:

- p1 ppe_tiny, mp_tiny: 10,000 tasks returning their argument, submitted one by one
  (`submit` / `apply_async`), then every result taken; µs per task. ppe_map, mp_map: `map`
  over the same items, chunksize as `multiprocessing.Pool.map` picks it; µs per item.
- p2 ppe_round_trip, mp_round_trip: one task at a time (`submit(..).result()` / `apply`);
  µs per round trip.
- p3 ppe_startup, mp_startup: a new 2-worker pool, from creation to the first result; ms.
- p4 ppe_8mb, mp_8mb: an `array('d')` of 1,000,000 floats (8 MB) sent to a worker, which
  sums it; ms. py_sum_8mb: the same sum in this process, ms (Python's sum is slow: the
  benchmark takes it out to compare the transfer).
- p5 ppe_speedup, mp_speedup: 8 CPU-bound tasks of about 25 ms on 2 workers; speedup over
  running them in turn in this process.
"""

import argparse
import multiprocessing as mp
import statistics
import sys
import time
from array import array
from concurrent.futures import ProcessPoolExecutor

TASKS = 10_000
ROUND_TRIPS = 1_000
FLOATS = 1_000_000
CPU_TASKS = 8
CPU_TASK_SECONDS = 0.025


def identity(i):
    return i


def total(values):
    return sum(values)


def work(seed, rounds):
    x = seed
    for _ in range(rounds):
        x = (x * 0x9E3779B97F4A7C15 + seed) & 0xFFFFFFFFFFFFFFFF
    return x


def median_of(run, samples):
    run()  # warm-up
    return statistics.median(run() for _ in range(samples))


def timed(f):
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def chunksize(items, workers):
    # multiprocessing.Pool.map's default.
    size, extra = divmod(items, workers * 4)
    return size + 1 if extra else size


def tiny_tasks(workers, tasks, samples):
    expected = tasks * (tasks - 1) // 2
    size = chunksize(tasks, workers)
    with ProcessPoolExecutor(workers) as ppe, mp.Pool(workers) as pool:
        def ppe_submit():
            futures = [ppe.submit(identity, i) for i in range(tasks)]
            assert sum(f.result() for f in futures) == expected

        def mp_apply():
            results = [pool.apply_async(identity, (i,)) for i in range(tasks)]
            assert sum(r.get() for r in results) == expected

        def ppe_map():
            assert sum(ppe.map(identity, range(tasks), chunksize=size)) == expected

        def mp_map():
            assert sum(pool.map(identity, range(tasks))) == expected

        for name, run in [("ppe_tiny", ppe_submit), ("mp_tiny", mp_apply),
                          ("ppe_map", ppe_map), ("mp_map", mp_map)]:
            seconds = median_of(lambda: timed(run), samples)
            print(f"{name} {seconds / tasks * 1e6:.2f} us/task", flush=True)


def round_trip(workers, trips, samples):
    with ProcessPoolExecutor(workers) as ppe, mp.Pool(workers) as pool:
        def ppe_one():
            for i in range(trips):
                assert ppe.submit(identity, i).result() == i

        def mp_one():
            for i in range(trips):
                assert pool.apply(identity, (i,)) == i

        for name, run in [("ppe_round_trip", ppe_one), ("mp_round_trip", mp_one)]:
            seconds = median_of(lambda: timed(run), samples)
            print(f"{name} {seconds / trips * 1e6:.1f} us", flush=True)


def start_up(workers, samples):
    def ppe_first():
        start = time.perf_counter()
        ppe = ProcessPoolExecutor(workers)
        assert ppe.submit(identity, 7).result() == 7
        elapsed = time.perf_counter() - start
        ppe.shutdown()
        return elapsed

    def mp_first():
        start = time.perf_counter()
        pool = mp.Pool(workers)
        assert pool.apply(identity, (7,)) == 7
        elapsed = time.perf_counter() - start
        pool.close()
        pool.join()
        return elapsed

    for name, run in [("ppe_startup", ppe_first), ("mp_startup", mp_first)]:
        seconds = median_of(run, samples)
        print(f"{name} {seconds * 1e3:.2f} ms", flush=True)


def payload(workers, samples):
    values = array("d", (i * 0.5 for i in range(FLOATS)))
    expected = sum(values)
    seconds = median_of(lambda: timed(lambda: total(values)), samples)
    print(f"py_sum_8mb {seconds * 1e3:.2f} ms", flush=True)
    with ProcessPoolExecutor(workers) as ppe, mp.Pool(workers) as pool:
        def ppe_send():
            assert ppe.submit(total, values).result() == expected

        def mp_send():
            assert pool.apply(total, (values,)) == expected

        for name, run in [("ppe_8mb", ppe_send), ("mp_8mb", mp_send)]:
            seconds = median_of(lambda: timed(run), samples)
            print(f"{name} {seconds * 1e3:.2f} ms", flush=True)


def calibrate(seconds):
    probe = 100_000
    per_round = min(timed(lambda: work(1, probe)) for _ in range(3)) / probe
    return max(1, round(seconds / per_round))


def cpu_bound(workers, samples):
    rounds = calibrate(CPU_TASK_SECONDS)
    seeds = range(CPU_TASKS)
    expected = [work(seed, rounds) for seed in seeds]

    def sequential():
        assert [work(seed, rounds) for seed in seeds] == expected

    sequential_seconds = median_of(lambda: timed(sequential), samples)
    with ProcessPoolExecutor(workers) as ppe, mp.Pool(workers) as pool:
        def ppe_run():
            futures = [ppe.submit(work, seed, rounds) for seed in seeds]
            assert [f.result() for f in futures] == expected

        def mp_run():
            results = [pool.apply_async(work, (seed, rounds)) for seed in seeds]
            assert [r.get() for r in results] == expected

        for name, run in [("ppe_speedup", ppe_run), ("mp_speedup", mp_run)]:
            seconds = median_of(lambda: timed(run), samples)
            print(f"{name} {sequential_seconds / seconds:.3f} x", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="fewer samples and tasks")
    parser.add_argument("figures", nargs="*", help="p1 to p5; all if none")
    args = parser.parse_args()
    figures = set(args.figures) or {"p1", "p2", "p3", "p4", "p5"}
    samples = 3 if args.quick else 5
    tasks = 2_000 if args.quick else TASKS
    trips = 200 if args.quick else ROUND_TRIPS

    print(f"python {sys.version.split()[0]}", flush=True)
    if "p1" in figures:
        tiny_tasks(args.workers, tasks, samples)
    if "p2" in figures:
        round_trip(args.workers, trips, samples)
    if "p3" in figures:
        start_up(args.workers, samples * 2 + 1)
    if "p4" in figures:
        payload(args.workers, samples)
    if "p5" in figures:
        cpu_bound(args.workers, samples)


if __name__ == "__main__":
    main()
