"""Synthetic agent logs with ground truth: raw trajectory, feedback and consent files whose
every planted fault, duplicate, personal datum and label is recorded under `<out>/_truth/`.

Pure Python and deterministic per seed, so the demo, the tests and the benchmarks can score the
pipeline against known answers. Entry points: `generate(config, out)` and `cli.main(argv)`.
"""

from benchmarks.synthetic.config import GeneratorConfig
from benchmarks.synthetic.generator import GENERATOR_VERSION, GenerationSummary, generate

__all__ = ["GENERATOR_VERSION", "GenerationSummary", "GeneratorConfig", "generate"]
