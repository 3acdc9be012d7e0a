"""A seeded `random.Random` whose integer draws cost one `random()` call.

`randrange`, `randint`, `choice` and `sample` of the standard class go through exact rejection
sampling written in Python (about 1 us each), the generator's hottest path. Scaling one float
instead has a bias below 2**-40 for the small ranges used here, irrelevant for synthetic data,
and stays deterministic per seed.
"""

from __future__ import annotations

import random
from bisect import bisect
from math import isfinite


class FastRandom(random.Random):
    def _randbelow(self, n: int) -> int:  # used by sample and shuffle
        return int(self.random() * n)

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if step != 1:
            return super().randrange(start, stop, step)
        if stop is None:
            return int(self.random() * start)
        return start + int(self.random() * (stop - start))

    def choices(self, population, weights=None, *, cum_weights=None, k=1):
        """random.Random.choices (the same draws), without its general set-up for the common
        call: one pick by cumulative weights."""
        if cum_weights is None or weights is not None or k != 1:
            return super().choices(population, weights, cum_weights=cum_weights, k=k)
        n = len(population)
        if len(cum_weights) != n:
            raise ValueError("The number of weights does not match the population")
        total = cum_weights[-1] + 0.0
        if total <= 0.0:
            raise ValueError("Total of weights must be greater than zero")
        if not isfinite(total):
            raise ValueError("Total of weights must be finite")
        return [population[bisect(cum_weights, self.random() * total, 0, n - 1)]]
