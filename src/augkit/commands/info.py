"""``augkit info IMAGE``: size, mode, dtype and bit depth of an image file."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from PIL import Image

from ..io import read_image

__all__ = ["configure", "run", "image_info"]


def configure(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "info", help="show size, mode, dtype and bit depth of an image",
        description="Decode IMAGE as augkit reads it (EXIF orientation applied, channels as stored) "
                    "and show its size, mode, channels, dtype and bit depth.")
    parser.add_argument("image", metavar="IMAGE", help="the image file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def image_info(path: str) -> dict[str, Any]:
    """What ``augkit info`` shows about the image file ``path``."""
    array = read_image(path, mode="unchanged")
    try:
        with Image.open(path) as header:
            file_format, pil_mode = header.format, header.mode
    except Exception:  # noqa: BLE001 - some files only OpenCV decodes; describe them from the pixels
        file_format, pil_mode = None, None
    channels = 1 if array.ndim == 2 else array.shape[2]
    fallback_mode = {1: "L", 3: "RGB", 4: "RGBA"}.get(channels, f"{channels} channels")
    return {
        "file": path,
        "bytes": os.path.getsize(path),
        "format": file_format,
        "width": array.shape[1],
        "height": array.shape[0],
        "mode": pil_mode or fallback_mode,
        "channels": channels,
        "dtype": str(array.dtype),
        "bit_depth": 1 if pil_mode == "1" else array.dtype.itemsize * 8,
    }


def run(args: argparse.Namespace) -> int:
    info = image_info(args.image)
    if args.json:
        print(json.dumps(info))
        return 0
    info["size"] = f"{info.pop('width')} x {info.pop('height')} (width x height)"
    for key in ("file", "format", "size", "mode", "channels", "dtype", "bit_depth", "bytes"):
        print(f"{key.replace('_', ' ') + ':':<11}{info[key] if info[key] is not None else 'unknown'}")
    return 0
