"""The ``augkit preprocess`` subcommand.

``configure(subparsers)`` adds it to the ``augkit`` command (:mod:`augkit.cli`):

    augkit preprocess photos/ out/ --transform eval.json
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .executors import EXECUTORS
from .preprocess import preprocess

__all__ = ["configure", "run", "too_many_failed"]

_FAILURES_SHOWN = 20

_EPILOG = """\
On this machine the run uses one process per CPU. With --address, RAY_ADDRESS (set inside
`ray job submit`) or --executor ray it runs on Ray; on a cluster, submit it as a job so that it
runs next to the data:

  ray job submit --address http://HEAD:8265 --runtime-env-json '{"pip": ["augkit[ray]"]}' -- \\
      augkit preprocess s3://bucket/images s3://bucket/images-vit224 --preset vit-224

S3 credentials and region come from the AWS environment variables (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_PROFILE); --endpoint-url (or AWS_ENDPOINT_URL) points at an
S3-compatible store.

Exit status: 0 when the run finished (failed files are listed), 1 when it could not run or when
the failed fraction passes --max-failed (by default: when every file failed), 2 for bad
arguments, 130 when interrupted (the finished shards are kept: rerun with --resume).
"""


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


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1], e.g. 0.01; got {text!r}")
    return value


def configure(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``preprocess`` subcommand to an ``argparse`` subparsers object."""
    parser = subparsers.add_parser(
        "preprocess", help="run a deterministic pipeline over a folder of images into Parquet shards",
        description="Decode, transform (deterministically) and store a folder of images, flat or in "
                    "class sub-folders, as Parquet shards of uint8 images with a _manifest.json: a "
                    "plain Parquet dataset. Read it back with augkit.data.ParquetImageDataset.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("src", help="folder of images: a local path or s3://bucket/prefix")
    parser.add_argument("dst", help="output folder for the shards and _manifest.json (local or s3://)")
    pipeline = parser.add_mutually_exclusive_group(required=True)
    pipeline.add_argument("--preset", metavar="NAME", help="eval pipeline of a model preset, e.g. vit-224")
    pipeline.add_argument("--transform", metavar="CONFIG",
                          help="JSON file of a deterministic pipeline (Transform.to_config())")
    parser.add_argument("--executor", choices=EXECUTORS, default="auto",
                        help="local processes or a Ray actor pool (auto: Ray with --address or RAY_ADDRESS)")
    parser.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS)")
    parser.add_argument("--batch-size", type=_positive(int), default=64, help="images per shard (64)")
    parser.add_argument("--workers", type=_positive(int), metavar="N",
                        help="processes or actors (default: CPUs / --cpus-per-worker)")
    parser.add_argument("--cpus-per-worker", type=_positive(float), default=1.0,
                        help="CPUs each worker takes, fractions allowed (1)")
    again = parser.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue the interrupted run in DST from the shards it finished")
    again.add_argument("--overwrite", action="store_true",
                       help="remove the earlier run in DST first (only its own files)")
    parser.add_argument("--max-failed", type=_fraction, metavar="FRACTION",
                        help="exit with status 1 when more than this fraction of the files failed "
                             "(default: only when all failed)")
    parser.add_argument("--endpoint-url", help="S3-compatible endpoint, e.g. http://127.0.0.1:9000")
    parser.set_defaults(run=run)
    return parser


def _show_progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        print(f"\raugkit preprocess: {done} of {total} shards", end="\n" if done == total else "",
              file=sys.stderr, flush=True)


def too_many_failed(counts: dict[str, int], max_failed: float | None) -> bool:
    """Whether the failed share of ``counts`` passes ``max_failed`` (``None``: all failed).

    >>> too_many_failed({"read": 4, "failed": 1}, 0.2), too_many_failed({"read": 4, "failed": 1}, None)
    (True, False)
    """
    if max_failed is None:
        return counts["failed"] == counts["read"]
    return counts["failed"] > max_failed * counts["read"]


def run(args: argparse.Namespace) -> int:
    """Run ``preprocess`` from parsed arguments; print the counts and failures on stderr; return
    the exit status."""
    try:
        manifest = preprocess(
            args.src, args.dst, preset=args.preset, transform=args.transform, executor=args.executor,
            address=args.address, batch_size=args.batch_size, workers=args.workers,
            cpus_per_worker=args.cpus_per_worker, resume=args.resume, overwrite=args.overwrite,
            endpoint_url=args.endpoint_url, progress=_show_progress,
        )
    except KeyboardInterrupt:
        print(f"\naugkit preprocess: interrupted; the finished shards stay in {args.dst}: rerun with "
              f"--resume to continue", file=sys.stderr)
        return 130
    except (ValueError, TypeError, ImportError, OSError, RuntimeError) as error:
        print(f"augkit preprocess: error: {error}", file=sys.stderr)
        return 1
    counts = manifest["counts"]
    print(f"augkit preprocess: {counts['written']} of {counts['read']} images written to {args.dst} "
          f"in {len(manifest['shards'])} shards, {counts['failed']} failed, "
          f"{counts['ignored_files']} other files ignored", file=sys.stderr)
    for failure in manifest["failed"][:_FAILURES_SHOWN]:
        print(f"  failed: {failure['path']}: {failure['error']}: {failure['message']}", file=sys.stderr)
    if counts["failed"] > _FAILURES_SHOWN:
        print(f"  ... and {counts['failed'] - _FAILURES_SHOWN} more, listed in the manifest", file=sys.stderr)
    if too_many_failed(counts, args.max_failed):
        limit = "all" if args.max_failed is None else f"more than {args.max_failed:g} of the files"
        print(f"augkit preprocess: error: {limit} failed", file=sys.stderr)
        return 1
    return 0
