#!/usr/bin/env python3
"""mpi4py.futures on the figures of `benches/compare/mpi.rs`, at mpi4py's defaults.

Run by that benchmark under its own MPI job (which puts the numbers in its tables), or alone:

    mpirun -n 3 python3 -m mpi4py.futures benches/python/mpi.py [--quick] [m1 m2 m3]

Under `python -m mpi4py.futures`, rank 0 runs this script and the other ranks are the
workers of every `MPIPoolExecutor` it makes. Prints one `name value unit` line per figure,
each the median of several samples:

- m1 mpi4py_round_trip: one tiny task at a time, `submit(identity, i).result()`; µs per task.
- m2 mpi4py_map: `list(map(identity, range(n)))` at the default chunksize (1); µs per item.
  mpi4py_map_256: the same with `chunksize=256`; µs per item.
- m3 mpi4py_8mb: an `array('d')` of 1,000,000 floats (8 MB) to a worker, its length back; ms.
"""

import argparse
import os
import sys
from array import array

from mpi4py.futures import MPIPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from processes import median_of, timed  # noqa: E402 (the same sampling as the other peers)

FLOATS = 1_000_000


def identity(i):
    return i


def size(values):
    return len(values)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("figures", nargs="*")
    args = parser.parse_args()
    runs = lambda figure: not args.figures or figure in args.figures
    samples = 2 if args.quick else 5
    print("python", sys.version.split()[0])
    print("mpi4py", __import__("mpi4py").__version__)
    with MPIPoolExecutor() as executor:
        print("workers", executor.num_workers)
        if runs("m1"):
            tasks = 100 if args.quick else 500

            def round_trips():
                return timed(lambda: [executor.submit(identity, i).result() for i in range(tasks)])

            print("mpi4py_round_trip", median_of(round_trips, samples) / tasks * 1e6, "us")
        if runs("m2"):
            items = 500 if args.quick else 2_000

            def default_map():
                return timed(lambda: list(executor.map(identity, range(items))))

            print("mpi4py_map", median_of(default_map, samples) / items * 1e6, "us")
            many = 20_000

            def chunked_map():
                return timed(lambda: list(executor.map(identity, range(many), chunksize=256)))

            print("mpi4py_map_256", median_of(chunked_map, samples) / many * 1e6, "us")
        if runs("m3"):
            values = array("d", (i * 0.5 for i in range(FLOATS)))

            def payload():
                return timed(lambda: executor.submit(size, values).result())

            print("mpi4py_8mb", median_of(payload, samples) * 1e3, "ms")


if __name__ == "__main__":
    main()
