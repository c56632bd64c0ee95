"""``augkit preprocess`` against a plain single-process loop over the same small JPEGs, at 500 and
2,000 images: images/s and peak memory, both in one run.

    python -m benchmarks.preprocess_scaling --out runs/preprocess     # about 2 minutes on 2 cores
    python -m benchmarks.preprocess_scaling --docs docs/preprocessing.md   # also update the docs table
    python benchmarks/run.py --only nothing --preprocess-scaling        # the same, from run.py

Each job runs in a fresh Python process; the job times itself from its first file to its last
shard (the interpreter's start and imports are left out, the same for both), and this process
samples the proportional set size (PSS: shared pages counted once across the processes that
share them) of the job's process tree (every 10 ms, or four times as long as a reading takes), so that a pool of forked workers
is charged for the memory it really adds; the job also reports its CPU time (its own and its
workers') per image, which the machine's other load changes less than images/s. Linux only
(``/proc``). Both jobs run the stored part
of the vit-224 eval pipeline (resize and centre crop to 224) and write zstd Parquet with the
same schema; the plain loop is ``read_image`` -> pipeline -> ``ParquetWriter``, with torch's
and OpenCV's default threads.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if not __package__:  # run as a script: import this folder as a package
    sys.path[0] = str(Path(__file__).resolve().parents[1])

SIZES = (500, 2000)
PRESET = "vit-224"
JOBS = ("plain loop", "augkit preprocess")
_SAMPLE_SECONDS = 0.01
_DOCS_BLOCK = re.compile(r"(<!-- preprocess-benchmark -->\n).*?(<!-- /preprocess-benchmark -->)", re.S)


def small_photos(root: Path, n: int) -> Path:
    """``n`` JPEGs in four class folders, 64x48 to 320x240 pixels."""
    import cv2

    from benchmarks.inputs import photo

    for i in range(n):
        height, width = 48 + 12 * (i % 17), 64 + 16 * (i % 17)
        folder = root / f"class{i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        rgb = photo(height, width, i)
        cv2.imwrite(str(folder / f"{i:05d}.jpg"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    return root


def plain_loop(src: Path, dst: Path) -> int:
    """The plain loop: every file read, transformed and appended to one Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from augkit.data.parquet import ROWS_PER_GROUP, shard_schema
    from augkit.distributed import split_pipeline
    from augkit.io import read_image
    from augkit.presets import eval_transform

    stored, _ = split_pipeline(eval_transform(model=PRESET))
    dst.mkdir(parents=True)
    paths = sorted(p for p in src.rglob("*.jpg"))
    classes = sorted({p.parent.name for p in paths})
    rows = []
    with pq.ParquetWriter(dst / "images.parquet", shard_schema(), compression="zstd") as writer:
        for path in paths:
            image = read_image(path)
            out = stored(image)
            label = classes.index(path.parent.name)
            rows.append({"image": out.tobytes(), "height": out.shape[0], "width": out.shape[1],
                         "channels": out.shape[2], "label": label, "class_name": classes[label],
                         "path": path.relative_to(src).as_posix(), "original_height": image.shape[0],
                         "original_width": image.shape[1]})
            if len(rows) == ROWS_PER_GROUP:
                writer.write_table(pa.Table.from_pylist(rows, schema=shard_schema()))
                rows = []
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=shard_schema()))
    return len(paths)


def augkit_preprocess(src: Path, dst: Path) -> int:
    """``augkit preprocess SRC DST --preset vit-224`` with its defaults."""
    from augkit.distributed import preprocess

    return preprocess(src, dst, preset=PRESET)["counts"]["written"]


def _run_job(job: str, src: Path, dst: Path) -> None:
    """In the job's own process: import what both jobs use, then run the job and print its
    seconds and images as JSON."""
    import pyarrow.parquet  # noqa: F401

    import augkit.distributed  # noqa: F401
    import augkit.presets  # noqa: F401

    function = plain_loop if job == JOBS[0] else augkit_preprocess
    start, cpu = time.perf_counter(), _cpu_seconds()
    written = function(src, dst)
    print(json.dumps({"seconds": time.perf_counter() - start, "cpu_seconds": _cpu_seconds() - cpu, "images": written}))


def _cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (the forked workers)."""
    import resource

    return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                  resource.getrusage(resource.RUSAGE_CHILDREN)))


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as file:
                    parent = int(file.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack += children.get(current, [])
    return found


def _pss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as file:
                total += next(int(line.split()[1]) for line in file if line.startswith("Pss:"))
        except (OSError, StopIteration):
            continue
    return total / 1024


def measure(job: str, src: Path, dst: Path) -> dict[str, float]:
    """Run ``job`` in a fresh process: its images/s and the peak PSS of its process tree (MiB)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]),
                                                                       os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.preprocess_scaling", "--job", job, str(src), str(dst)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = 0.0
    while process.poll() is None:
        started = time.perf_counter()
        peak = max(peak, _pss_mib(_tree(process.pid)))
        # reading PSS walks the page tables (about 20 ms per process with torch mapped): wait four
        # times as long as the read took, so the sampler takes at most a fifth of one core from
        # the job (a job with more processes would otherwise lose more of the machine to it)
        time.sleep(max(_SAMPLE_SECONDS, 4 * (time.perf_counter() - started)))
    out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{job} failed ({process.returncode}): {err[-2000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    return {"images_per_s": result["images"] / result["seconds"], "peak_mib": peak, "images": result["images"],
            "cpu_ms_per_image": 1000 * result["cpu_seconds"] / result["images"]}


def run(sizes: tuple[int, ...] = SIZES) -> list[dict]:
    """The rows: for each size, both jobs on the same folder."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="augkit-preprocess-bench-") as tmp:
        for i, n in enumerate(sizes):
            src = small_photos(Path(tmp) / f"photos{i}", n)
            results = {job: measure(job, src, Path(tmp) / f"out{i}-{k}") for k, job in enumerate(JOBS)}
            loop, augkit = results[JOBS[0]], results[JOBS[1]]
            assert loop["images"] == augkit["images"] == n, results
            rows.append({"images": n, "cpus": len(os.sched_getaffinity(0)),
                         "loop_images_per_s": loop["images_per_s"], "augkit_images_per_s": augkit["images_per_s"],
                         "loop_peak_mib": loop["peak_mib"], "augkit_peak_mib": augkit["peak_mib"],
                         "loop_cpu_ms_per_image": loop["cpu_ms_per_image"],
                         "augkit_cpu_ms_per_image": augkit["cpu_ms_per_image"]})
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| images | CPUs | plain loop images/s | augkit preprocess images/s | speed-up | "
             "plain loop peak MiB | augkit peak MiB | memory ratio | plain loop CPU ms/image | augkit CPU ms/image |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['images']:,} | {r['cpus']} | {r['loop_images_per_s']:,.1f} | "
                     f"{r['augkit_images_per_s']:,.1f} | {r['augkit_images_per_s'] / r['loop_images_per_s']:.2f}x | "
                     f"{r['loop_peak_mib']:,.0f} | {r['augkit_peak_mib']:,.0f} | "
                     f"{r['augkit_peak_mib'] / r['loop_peak_mib']:.2f}x | {r['loop_cpu_ms_per_image']:.2f} | "
                     f"{r['augkit_cpu_ms_per_image']:.2f} |")
    return "\n".join(lines)


def report(out: Path | None = None, docs: Path | None = None, sizes: tuple[int, ...] = SIZES) -> str:
    """Run, and write ``preprocess.md`` and ``preprocess.json`` to ``out`` and the table into the
    marked block of ``docs``; return the table."""
    from benchmarks.harness import machine

    load = os.getloadavg()[0]
    rows = run(sizes)
    table = markdown(rows) + (f"\n\nLoad average at the start: {load:.1f} on {len(os.sched_getaffinity(0))} CPUs "
                              f"(other work on the machine takes CPU time from both jobs).")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "preprocess.md").write_text(f"Machine: {machine()}\n\n{table}\n")
        (out / "preprocess.json").write_text(json.dumps({"machine": machine(), "load_average": load, "rows": rows},
                                                        indent=2) + "\n")
    if docs is not None:
        text = docs.read_text()
        if not _DOCS_BLOCK.search(text):
            raise ValueError(f"{docs} has no <!-- preprocess-benchmark --> ... <!-- /preprocess-benchmark --> block")
        docs.write_text(_DOCS_BLOCK.sub(lambda m: f"{m.group(1)}Machine: {machine()}\n\n{table}\n{m.group(2)}", text))
    return table


def main(argv: list[str] | None = None) -> str | None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="folder for preprocess.md and preprocess.json")
    parser.add_argument("--docs", type=Path, help="a Markdown page whose marked block gets the table")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma list of image counts")
    parser.add_argument("--job", choices=JOBS, help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.job:
        _run_job(args.job, *args.paths)
        return None
    table = report(args.out, args.docs, tuple(int(s) for s in args.sizes.split(",")))
    print(table)
    return table


if __name__ == "__main__":
    main()
