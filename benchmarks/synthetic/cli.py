"""`trajlake generate --trajectories N --seed S --out DIR [--<setting> V ...]`

Every GeneratorConfig field is an option (underscores become dashes); map settings take
`name=weight` pairs, e.g. `--formats native=2,langfuse=1`. Prints one summary line.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence

from benchmarks.synthetic.config import GeneratorConfig, GeneratorError

_DEFAULTS = GeneratorConfig()


def _weights(text: str) -> dict[str, float]:
    weights = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"expected name=weight, got {item!r}")
        try:
            weights[name.strip()] = float(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"weight of {name!r} is not a number: {value!r}") from exc
    return weights


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trajlake generate",
        description="Generate synthetic agent logs (trajectories, feedback, consent) with ground truth under <out>/_truth.",
    )
    parser.add_argument("--out", required=True, help="output folder (becomes storage.raw for the pipeline)")
    for f in dataclasses.fields(GeneratorConfig):
        default = getattr(_DEFAULTS, f.name)
        if isinstance(default, dict) or f.name == "formats":
            kind = _weights
            shown = ",".join(f"{k}={v:g}" for k, v in default.items()) if default else "all registered"
        else:
            kind = type(default)
            shown = default
        parser.add_argument(
            f"--{f.name.replace('_', '-')}", dest=f.name, type=kind, default=None,
            help=f"{f.metadata.get('help', '')} (default: {shown})",
        )
    return parser


def config_from_args(args: argparse.Namespace) -> GeneratorConfig:
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(GeneratorConfig) if getattr(args, f.name) is not None}
    return GeneratorConfig(**given)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    from benchmarks.synthetic.generator import generate

    try:
        summary = generate(config_from_args(args), args.out)
    except GeneratorError as exc:
        print(f"trajlake generate: {exc}", file=sys.stderr)
        return 2
    print(summary.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
