"""How faithful and how fast the fused decode (``augkit.data.fused``) is, written to a results file.

    python -m benchmarks.fused_decode --out benchmarks/fused_decode.json   # about two minutes on 2 cores

* **Faithfulness**: for the bundled colour photos (``augkit.data.sample_image``) encoded as JPEG
  quality 90 at their own size and upscaled to 2000x1500, the fused decode + crop + resize against
  full decode + the same crop + the antialiased resize, for ``RandomResizedCrop`` (224 and 112
  px, 24 seeds per photo) and ``ResizedCenterCrop(224)``; per DCT scale the fused path picked:
  how many crops, the mean absolute difference (grey levels, the mean over crops and the worst
  crop) and the largest difference at any pixel.
* **Bindings**: the candidate JPEG decoders side by side, one thread, decoding the 2000x1500
  and 500x375 photos at full scale and at each DCT scale (images/s; "-" where a binding cannot
  decode at that scale or is not installed): OpenCV's ``IMREAD_REDUCED_*``, PIL's ``draft``,
  simplejpeg (``min_factor``) and ``torchvision.io.decode_jpeg`` (full scale only).
* **Decode paths**: decode + ``RandomResizedCrop(224)`` and decode + the eval preset, one thread,
  on the astronaut photo upscaled to 500x375, 2000x1500 and 4000x3000 (JPEG quality 90), images/s
  (best of 5 repeats of 0.5 s, the paths taking turns, a new seed per image): full decode + crop +
  resize (``fused=False``), the fused decode with OpenCV's reduced decode of the whole file (the
  fallback), and with the region decode of ``augkit._jpeg`` ("-" where it is not built).

``docs/benchmarks.md`` shows the file at every docs build (``docs/hooks.py``).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
import warnings
from pathlib import Path

if not __package__:  # run as a script: import this folder as a package
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import cv2
import numpy as np
import torch

import augkit
from augkit.core.random import make_generator
from augkit.data import SAMPLE_IMAGES, sample_image
from augkit.data import fused
from augkit.data.fused import crop_plan, dct_scale, decode_transformed, jpeg_header
from augkit.io import decode_image

SIZES = ((375, 500), (1500, 2000))
PATH_SIZES = (*SIZES, (3000, 4000))
SEEDS = 24


def encode(rgb: np.ndarray, size_hw: tuple[int, int] | None = None) -> bytes:
    """``rgb`` as JPEG quality 90, resized (bicubic) to ``size_hw`` first if given."""
    if size_hw is not None:
        rgb = cv2.resize(rgb, size_hw[::-1], interpolation=cv2.INTER_CUBIC)
    return cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def photos() -> dict[str, bytes]:
    """The colour sample photos at their own size and at 2000x1500."""
    out = {}
    for name in SAMPLE_IMAGES:
        rgb = sample_image(name)
        if rgb.ndim == 3:
            h, w = rgb.shape[:2]
            out[f"{name} {w}x{h}"] = encode(rgb)
            out[f"{name} 2000x1500"] = encode(rgb, (1500, 2000))
    return out


def faithfulness(files: dict[str, bytes]) -> list[dict]:
    """Per (photo size, DCT scale): crops, mean and worst mean difference, max difference."""
    pipelines = [augkit.RandomResizedCrop(224), augkit.RandomResizedCrop(112)]
    found: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for name, data in files.items():
        full = decode_image(data)
        size = name.split()[-1]
        runs = [(t, seed) for t in pipelines for seed in range(SEEDS)] + [(augkit.ResizedCenterCrop(224), 0)]
        for t, seed in runs:
            plan = crop_plan(t, t.sample_params(full, generator=make_generator(seed)), jpeg_header(data).size)
            scale = dct_scale(plan.box[2:], plan.size)
            fused = decode_transformed(data, t, make_generator(seed)).astype(np.float64)
            diff = np.abs(fused - t(full, generator=make_generator(seed)).astype(np.float64))
            found.setdefault((size, scale), []).append((float(diff.mean()), float(diff.max())))
    rows = []
    for (size, scale), diffs in sorted(found.items(), key=lambda kv: (int(kv[0][0].split("x")[0]), kv[0][1])):
        means = [m for m, _ in diffs]
        rows.append({"photos": size, "scale": f"1/{scale}", "crops": len(diffs),
                     "mean": float(np.mean(means)), "worst_mean": max(means),
                     "max": max(mx for _, mx in diffs)})
    return rows


def _rate(fn, seconds: float = 0.4) -> float:
    fn()
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        fn()
        calls += 1
    return calls / (time.perf_counter() - start)


def _decoders(data: bytes, scale: int) -> dict:
    """Each binding decoding ``data`` to RGB at 1/``scale``, or None where it cannot."""
    from PIL import Image

    flags = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
             8: cv2.IMREAD_REDUCED_COLOR_8}
    buffer = np.frombuffer(data, np.uint8)
    with Image.open(io.BytesIO(data)) as probe:
        width, height = probe.size

    def pil():
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (width // scale, height // scale))
            return np.asarray(image)

    out = {"OpenCV imdecode": lambda: cv2.imdecode(buffer, flags[scale]), "PIL draft": pil}
    try:
        import simplejpeg
    except ImportError:
        out["simplejpeg"] = None
    else:
        out["simplejpeg"] = lambda: simplejpeg.decode_jpeg(data, min_factor=scale, min_height=height // scale,
                                                           min_width=width // scale)
    from torchvision.io import decode_jpeg

    tensor = torch.frombuffer(bytearray(data), dtype=torch.uint8)
    out["torchvision decode_jpeg"] = (lambda: decode_jpeg(tensor)) if scale == 1 else None
    return out


def bindings() -> list[dict]:
    """images/s of each binding per photo size and scale, one thread."""
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    data = {size: encode(sample_image("astronaut"), size) for size in SIZES}
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torchvision 0.29's decoder notice
        for (h, w), blob in data.items():
            for scale in (1, 2, 4, 8):
                for name, fn in _decoders(blob, scale).items():
                    rows.append({"photos": f"{w}x{h}", "scale": f"1/{scale}", "binding": name,
                                 "images_per_s": None if fn is None else _rate(fn)})
    return rows


def _best_rates(fns: dict, repeats: int = 5, seconds: float = 0.5) -> dict[str, float]:
    """The best of ``repeats`` rates of each ``fn(seed)`` over seeds 0, 1, ... (calls per
    second), the functions taking turns in every repeat so that a busy spell hits them alike."""
    best = dict.fromkeys(fns, 0.0)
    for _ in range(repeats):
        for name, fn in fns.items():
            fn(0)
            start, calls = time.perf_counter(), 0
            while time.perf_counter() - start < seconds:
                fn(calls)
                calls += 1
            best[name] = max(best[name], calls / (time.perf_counter() - start))
    return best


def _fallback(fn):
    """``fn`` with the fused decode's fallback forced: OpenCV's reduced decode of the whole file."""
    def run(seed):
        region, fused._jpeg = fused._jpeg, None
        try:
            return fn(seed)
        finally:
            fused._jpeg = region
    return run


def decode_paths() -> list[dict]:
    """images/s of each decode path per photo size and pipeline, one thread."""
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    pipelines = {"RandomResizedCrop(224)": augkit.RandomResizedCrop(224),
                 "eval preset": augkit.presets.eval_transform(size=224)}
    rows = []
    for h, w in PATH_SIZES:
        data = encode(sample_image("astronaut"), (h, w))
        for name, t in pipelines.items():
            def run(seed, on=True, t=t):
                return decode_transformed(data, t, make_generator(seed), fused=on)

            paths = {"full": lambda s: run(s, False), "opencv_reduced": _fallback(run)}
            if fused._jpeg is not None:
                paths["region"] = run
            rows.append({"photos": f"{w}x{h}", "pipeline": name, "region": None, **_best_rates(paths)})
    return rows


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/fused_decode.json"))
    args = parser.parse_args(argv)
    from benchmarks.harness import machine

    payload = {"machine": machine(), "faithfulness": faithfulness(photos()), "bindings": bindings(),
               "decode_paths": decode_paths()}
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(markdown(payload))
    return payload


def markdown(payload: dict) -> str:
    """The tables of a results file written by :func:`main`."""
    lines = ["| photos | DCT scale | crops | mean difference | worst crop's mean | max difference |",
             "|---|---|---:|---:|---:|---:|"]
    lines += [f"| {r['photos']} | {r['scale']} | {r['crops']} | {r['mean']:.2f} | {r['worst_mean']:.2f} | {r['max']:.0f} |"
              for r in payload["faithfulness"]]
    table: dict[tuple[str, str], dict[str, float | None]] = {}
    for r in payload["bindings"]:
        table.setdefault((r["photos"], r["scale"]), {})[r["binding"]] = r["images_per_s"]
    names = list(dict.fromkeys(r["binding"] for r in payload["bindings"]))
    lines += ["", f"Decoders, one thread, images/s (machine: {payload['machine']}):", "",
              "| photo | scale | " + " | ".join(names) + " |", "|---|---|" + "---:|" * len(names)]
    for (photo, scale), speeds in table.items():
        cells = ["-" if speeds.get(n) is None else f"{speeds[n]:,.0f}" for n in names]
        lines.append(f"| {photo} | {scale} | " + " | ".join(cells) + " |")
    lines += ["", "Decode + crop + resize, one thread, images/s (best of 5 repeats, the paths taking turns):", "",
              "| photo | pipeline | full decode | fused, OpenCV reduced decode | fused, region decode | region / full |",
              "|---|---|---:|---:|---:|---:|"]
    for r in payload["decode_paths"]:
        region = "-" if r["region"] is None else f"{r['region']:,.0f}"
        ratio = "-" if r["region"] is None else f"{r['region'] / r['full']:.1f}x"
        lines.append(f"| {r['photos']} | {r['pipeline']} | {r['full']:,.0f} | {r['opencv_reduced']:,.0f} | {region} | {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
