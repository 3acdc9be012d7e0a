"""A seeded `random.Random` whose integer draws cost one `random()` call.

`randrange`, `randint`, `choice` and `sample` of the standard class go through exact rejection
sampling written in Python (about 1 us each), the generator's hottest path. Scaling one float
instead has a bias below 2**-40 for the small ranges used here, irrelevant for synthetic data,
and stays deterministic per seed.
"""

from __future__ import annotations

import random


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
