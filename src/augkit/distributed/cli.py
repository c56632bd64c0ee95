"""The ``augkit preprocess`` subcommand.

``configure(subparsers)`` adds it to the ``augkit`` command (:mod:`augkit.cli`):

    augkit preprocess photos/ out/ --transform eval.json
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .preprocess import preprocess

__all__ = ["configure", "main"]

_FAILURES_SHOWN = 20

_EPILOG = """\
Without --address, Ray runs on this machine (or on the cluster named by RAY_ADDRESS). On a cluster,
submit the command as a job so that it runs next to the data:

  ray job submit --address http://HEAD:8265 --runtime-env-json '{"pip": ["augkit[ray]"]}' -- \\
      augkit preprocess s3://bucket/images s3://bucket/images-vit224 --preset vit-224

S3 credentials and region come from the AWS environment variables (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_PROFILE); --endpoint-url (or AWS_ENDPOINT_URL) points at an
S3-compatible store.
"""


def _workers(text: str) -> tuple[int, int]:
    low, _, high = text.partition(":")
    try:
        pair = (int(low), int(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN:MAX (or N) actors, e.g. 1:4; got {text!r}") from None
    if not 1 <= pair[0] <= pair[1]:
        raise argparse.ArgumentTypeError(f"expected 1 <= MIN <= MAX; got {text!r}")
    return pair


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}; got {text!r}")
        return value
    return parse


def configure(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``preprocess`` subcommand to an ``argparse`` subparsers object."""
    parser = subparsers.add_parser(
        "preprocess", help="run a deterministic pipeline over a folder of images into Parquet shards",
        description="Decode, transform (deterministically) and store a folder of images, flat or in "
                    "class sub-folders, as Parquet shards of uint8 images with a manifest.json, on "
                    "Ray Data. Read them back with augkit.data.ParquetImageDataset.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("src", help="folder of images: a local path or s3://bucket/prefix")
    parser.add_argument("dst", help="output folder for the shards and manifest.json (local or s3://)")
    pipeline = parser.add_mutually_exclusive_group(required=True)
    pipeline.add_argument("--preset", metavar="NAME", help="eval pipeline of a model preset, e.g. vit-224")
    pipeline.add_argument("--transform", metavar="CONFIG",
                          help="JSON file of a deterministic pipeline (Transform.to_config())")
    parser.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, else a local Ray)")
    parser.add_argument("--batch-size", type=_positive(int), default=128, help="images per batch (128)")
    parser.add_argument("--workers", type=_workers, metavar="MIN:MAX",
                        help="actors in the pool (default 1:CPUs)")
    parser.add_argument("--cpus-per-worker", type=_positive(float), default=1.0,
                        help="CPUs each actor reserves, fractions allowed (1)")
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier run's output in DST")
    parser.add_argument("--endpoint-url", help="S3-compatible endpoint, e.g. http://127.0.0.1:9000")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``preprocess`` from parsed arguments; print a summary; 1 for bad inputs."""
    try:
        manifest = preprocess(
            args.src, args.dst, preset=args.preset, transform=args.transform, address=args.address,
            batch_size=args.batch_size, workers=args.workers, cpus_per_worker=args.cpus_per_worker,
            overwrite=args.overwrite, endpoint_url=args.endpoint_url,
        )
    except (ValueError, TypeError, ImportError, OSError, RuntimeError) as error:
        print(f"augkit preprocess: error: {error}", file=sys.stderr)
        return 1
    counts = manifest["counts"]
    print(f"augkit preprocess: {counts['written']} of {counts['read']} images written to {args.dst} "
          f"in {len(manifest['shards'])} shards, {counts['failed']} failed")
    for failure in manifest["failed"][:_FAILURES_SHOWN]:
        print(f"  failed: {failure['path']}: {failure['reason']}")
    if counts["failed"] > _FAILURES_SHOWN:
        print(f"  ... and {counts['failed'] - _FAILURES_SHOWN} more, listed in the manifest")
    return 0
