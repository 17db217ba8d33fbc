"""Wrong solutions to the exercises of notebooks/01-cupy-basics.ipynb.

Each is a full replacement for an exercise cell, a mistake learners make; the exercise's check
must refuse every one with an AssertionError that says what is wrong.
"""

WRONG: dict[str, list[str]] = {
    "xp-standardise": [
        # the wrong axis: standardises each row (keepdims makes it broadcast, so no error points at it)
        """\
def standardise(x):
    xp = array_module(x)
    mean = xp.mean(x, axis=1, keepdims=True)
    std = xp.std(x, axis=1, ddof=1, keepdims=True)
    return (x - mean) / std
""",
        # population instead of sample standard deviation: xp.std's default is ddof=0
        """\
def standardise(x):
    xp = array_module(x)
    return (x - xp.mean(x, axis=0)) / xp.std(x, axis=0)
""",
        # "more precise" in float64: float32 in, float64 out
        """\
def standardise(x):
    x = x.astype("float64")
    xp = array_module(x)
    return (x - xp.mean(x, axis=0)) / xp.std(x, axis=0, ddof=1)
""",
        # NumPy habit: np.asarray pulls a CuPy array to the host (CuPy raises TypeError)
        """\
import numpy as np


def standardise(x):
    x = np.asarray(x)
    return (x - np.mean(x, axis=0)) / np.std(x, axis=0, ddof=1)
""",
        # in place, to save memory: overwrites the caller's data
        """\
def standardise(x):
    xp = array_module(x)
    x -= xp.mean(x, axis=0)
    x /= xp.std(x, axis=0, ddof=1)
    return x
""",
    ],
    "timing-sync": [
        # naive timing: measures the launches, not the work
        """\
def measure(fn, synchronize, repeat):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times
""",
        # synchronises after the call only: the first timing also waits for earlier work and the warm-up
        """\
def measure(fn, synchronize, repeat):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        synchronize()
        times.append(time.perf_counter() - start)
    return times
""",
        # no warm-up: the first timed call would include compilation
        """\
def measure(fn, synchronize, repeat):
    times = []
    for _ in range(repeat):
        synchronize()
        start = time.perf_counter()
        fn()
        synchronize()
        times.append(time.perf_counter() - start)
    return times
""",
        # the warm-up is timed too: one duration too many
        """\
def measure(fn, synchronize, repeat):
    times = []
    for _ in range(repeat + 1):
        synchronize()
        start = time.perf_counter()
        fn()
        synchronize()
        times.append(time.perf_counter() - start)
    return times
""",
        # milliseconds instead of seconds
        """\
def measure(fn, synchronize, repeat):
    fn()
    times = []
    for _ in range(repeat):
        synchronize()
        start = time.perf_counter()
        fn()
        synchronize()
        times.append((time.perf_counter() - start) * 1000)
    return times
""",
        # one average instead of one duration per call
        """\
def measure(fn, synchronize, repeat):
    fn()
    synchronize()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    synchronize()
    return (time.perf_counter() - start) / repeat
""",
    ],
    "softplus-stable": [
        # the formula as written: exp overflows, and log(1 + tiny) is 0
        """\
def softplus(x):
    xp = array_module(x)
    return xp.log(1 + xp.exp(x))
""",
        # stable split, but log instead of log1p
        """\
def softplus(x):
    xp = array_module(x)
    return xp.maximum(x, 0) + xp.log(1 + xp.exp(-xp.abs(x)))
""",
        # forgot the abs: exp(-x) overflows for very negative x
        """\
def softplus(x):
    xp = array_module(x)
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-x))
""",
        # exact per element with math, but a Python loop: float64 out, and off the device
        """\
import math

import numpy as np


def softplus(x):
    return np.array([max(v, 0.0) + math.log1p(math.exp(-abs(v))) for v in x.tolist()])
""",
    ],
    "grid-size": [
        # rounds down: the last partial block is missing
        """\
def blocks_for(n, threads_per_block):
    return n // threads_per_block
""",
        # always one more: an idle block whenever n is a multiple of the block size
        """\
def blocks_for(n, threads_per_block):
    return n // threads_per_block + 1
""",
        # true division: a float is not a grid
        """\
def blocks_for(n, threads_per_block):
    return n / threads_per_block
""",
        # rounds to nearest: drops the tail when it is less than half a block
        """\
def blocks_for(n, threads_per_block):
    return round(n / threads_per_block)
""",
        # the classic off-by-one: adds the whole block size, not one less
        """\
def blocks_for(n, threads_per_block):
    return (n + threads_per_block) // threads_per_block
""",
    ],
}
