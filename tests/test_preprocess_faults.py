"""Preprocessing never loses a run: bad files among good ones, transient read errors, SIGINT and
SIGKILL followed by ``--resume``, two runs into one folder, ``--overwrite`` beside other files,
and the output read as plain Parquet (pyarrow, pandas, DuckDB, Hugging Face ``datasets``). Local
processes (the Ray path, read back by Ray Data, is in test_distributed.py)."""

from __future__ import annotations

import importlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

import augkit
from augkit.data import ParquetImageDataset, sample_image
from augkit.io import read_image

pd = pytest.importorskip("pandas")
pq = pytest.importorskip("pyarrow.parquet")
ds = pytest.importorskip("pyarrow.dataset")

from augkit.cli import main  # noqa: E402
from augkit.distributed import LeaseHeldError, preprocess  # noqa: E402
from augkit.distributed.lease import LEASE, Lease  # noqa: E402
from augkit.distributed.shards import Chunk  # noqa: E402
from augkit.distributed.storage import resolve  # noqa: E402
from augkit.distributed.worker import ShardJob, ShardWriter  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STORED = augkit.Compose([augkit.Resize(32), augkit.CenterCrop(32)])
BAD = {  # path: the exception type recorded for it
    "cat/bomb.jpg": "ImageReadError", "cat/truncated.jpg": "ImageReadError", "cat/empty.jpg": "ImageReadError",
    "dog/hot.tiff": "ValueError", "dog/folder.png": "OSError",
}


def _jpeg(rgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return data.tobytes()


def _bomb() -> bytes:
    """A valid small JPEG whose header claims 20000 x 20000 pixels."""
    data = bytearray(_jpeg(np.zeros((8, 8, 3), np.uint8)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = (20000).to_bytes(2, "big") * 2
    return bytes(data)


def faulty_folder(root: Path, good: int = 12) -> Path:
    """``good`` JPEGs in two classes, a float TIFF in [0, 1], and the BAD files, a hidden file
    and a text file."""
    for name in ("cat", "dog"):
        (root / name).mkdir(parents=True)
    photos = ["chelsea", "coffee", "astronaut", "rocket"]
    for i in range(good):
        image = cv2.resize(sample_image(photos[i % 4]), (40 + 3 * i, 30 + 2 * i), interpolation=cv2.INTER_AREA)
        (root / ("cat", "dog")[i % 2] / f"{i:03d}.jpg").write_bytes(_jpeg(image))
    ramp = np.linspace(0, 1, 24 * 36, dtype=np.float32).reshape(24, 36)
    assert cv2.imwrite(str(root / "dog" / "ramp.tiff"), np.dstack([ramp, ramp[::-1], ramp.T.reshape(24, 36)]))
    assert cv2.imwrite(str(root / "dog" / "hot.tiff"), ramp * 4)  # float, but not in [0, 1]
    (root / "cat" / "bomb.jpg").write_bytes(_bomb())
    (root / "cat" / "truncated.jpg").write_bytes((root / "cat" / "000.jpg").read_bytes()[:300])
    (root / "cat" / "empty.jpg").write_bytes(b"")
    (root / "dog" / "folder.png").mkdir()
    (root / "dog" / ".hidden.jpg").write_bytes(b"x")
    (root / "dog" / "notes.txt").write_text("not an image")
    return root


def rows(out: Path) -> dict[str, dict]:
    """The output folder read by pandas: path -> row."""
    frame = pd.read_parquet(out)
    assert frame["path"].is_unique
    return {row["path"]: row for row in frame.to_dict("records")}


def same_run(manifest: dict, reference: dict) -> bool:
    """Whether two manifests describe the same result (run ids and times aside)."""
    def comparable(m: dict) -> dict:
        return {**{k: v for k, v in m.items() if k not in ("run_id", "created", "shards")},
                "shards": [s["rows"] for s in m["shards"]]}
    return comparable(manifest) == comparable(reference)


def test_every_bad_file_is_listed_and_every_good_one_written_once(tmp_path):
    src = faulty_folder(tmp_path / "src")
    manifest = preprocess(src, tmp_path / "out", transform=STORED, batch_size=3, workers=2, executor="local")
    assert manifest["counts"] == {"read": 18, "written": 13, "failed": 5, "ignored_files": 2}
    assert {f["path"]: f["error"] for f in manifest["failed"]} == BAD
    messages = {f["path"]: f["message"] for f in manifest["failed"]}
    assert "decompression bomb" in messages["cat/bomb.jpg"] and "empty" in messages["cat/empty.jpg"]
    assert "values in [0, 4]" in messages["dog/hot.tiff"]
    written = rows(tmp_path / "out")
    good = [p.relative_to(src).as_posix() for p in src.rglob("[0-9]*.jpg")]
    assert len(good) == 12 and sorted(written) == sorted([*good, "dog/ramp.tiff"])
    ramp = read_image(src / "dog" / "ramp.tiff")  # float32 in [0, 1]: stored scaled, not black
    expected = STORED(np.clip(np.rint(ramp * 255), 0, 255).astype(np.uint8))
    stored = np.frombuffer(written["dog/ramp.tiff"]["image"], np.uint8).reshape(32, 32, 3)
    assert np.array_equal(stored, expected) and stored.max() > 200
    assert ds.dataset(tmp_path / "out").count_rows() == pq.read_table(tmp_path / "out").num_rows == 13
    assert len(ParquetImageDataset(tmp_path / "out")) == 13


def test_the_output_folder_reads_as_plain_parquet_with_duckdb(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    src = faulty_folder(tmp_path / "src", good=4)
    preprocess(src, tmp_path / "out", transform=STORED, executor="local")
    relation = duckdb.sql(f"select count(*) from read_parquet('{tmp_path / 'out'}/*.parquet')")
    assert relation.fetchall() == [(5,)]


def test_the_output_folder_loads_as_a_hugging_face_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")  # local files only (read when datasets is imported)
    datasets = pytest.importorskip("datasets")
    datasets.disable_progress_bars()
    src = faulty_folder(tmp_path / "src", good=4)
    manifest = preprocess(src, tmp_path / "out", transform=STORED, batch_size=3, executor="local")
    # the folder as it is, manifest beside the shards, and the shards named
    folder = datasets.load_dataset(str(tmp_path / "out"), split="train", cache_dir=str(tmp_path / "cache"))
    files = datasets.Dataset.from_parquet([str(tmp_path / "out" / s["file"]) for s in manifest["shards"]],
                                          cache_dir=str(tmp_path / "cache"))
    expected = rows(tmp_path / "out")
    for dataset in (folder, files):
        assert dataset.num_rows == manifest["counts"]["written"] == 5
        assert dataset.features["image"] == datasets.Value("binary")
        got = {row["path"]: row for row in dataset}
        assert sorted(got) == sorted(expected)
        for path, row in got.items():
            assert row["image"] == expected[path]["image"] and row["class_name"] == expected[path]["class_name"]
            assert len(row["image"]) == row["height"] * row["width"] * row["channels"] == 32 * 32 * 3


class FlakyFileSystem:
    """A filesystem whose first ``failures`` opens of each existing file raise a transient
    OSError; ``type_name`` picks the worker's reads: read ahead on threads (an object store) or
    in turn (local)."""

    def __init__(self, inner, failures: int, type_name: str) -> None:
        self.inner, self.failures, self.type_name, self.opens = inner, failures, type_name, {}

    def open_input_file(self, path: str):
        self.opens[path] = self.opens.get(path, 0) + 1
        if self.opens[path] <= self.failures and os.path.exists(path):
            raise OSError(f"When reading {path}: AWS Error SLOW_DOWN (transient)")
        return self.inner.open_input_file(path)


@pytest.mark.parametrize("type_name", ["s3", "local"])
@pytest.mark.parametrize("failures, written", [(2, 1), (3, 0)])
def test_transient_read_errors_are_retried_a_bounded_number_of_times(tmp_path, failures, written, type_name):
    src = faulty_folder(tmp_path / "src", good=1)
    fs, root = resolve(src)
    (tmp_path / "out").mkdir()
    flaky = FlakyFileSystem(fs, failures, type_name)
    job = ShardJob(STORED.to_config(), ["cat", "dog"], flaky, root, fs, str(tmp_path / "out"), "ab12",
                   retries=2, retry_delay=0.001)
    record = ShardWriter(job).write(Chunk(0, ["cat/000.jpg", "cat/missing.jpg"], [0, 0]))
    assert record.rows == written
    assert [(f.path, f.error) for f in record.failed] == [("cat/000.jpg", "OSError")] * (1 - written) + [
        ("cat/missing.jpg", "FileNotFoundError")]
    assert flaky.opens[f"{root}/cat/000.jpg"] == 3 and flaky.opens[f"{root}/cat/missing.jpg"] == 1


def test_exit_status_follows_max_failed_and_all_failed_is_an_error(tmp_path, capsys):
    src = faulty_folder(tmp_path / "src", good=3)
    args = ["preprocess", str(src), "--transform", str(tmp_path / "t.json")]
    (tmp_path / "t.json").write_text(json.dumps(STORED.to_config()))
    assert main([*args[:2], str(tmp_path / "a"), *args[2:]]) == 0  # 5 of 9 failed, reported
    assert "4 of 9 images written" in capsys.readouterr().err
    assert main([*args[:2], str(tmp_path / "b"), *args[2:], "--max-failed", "0.5"]) == 1
    assert "error: more than 0.5 of the files failed" in capsys.readouterr().err
    assert main([*args[:2], str(tmp_path / "c"), *args[2:], "--max-failed", "0.6"]) == 0
    capsys.readouterr()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.jpg").write_bytes(b"")
    assert main(["preprocess", str(bad), str(tmp_path / "d"), *args[2:]]) == 1
    err = capsys.readouterr().err
    assert "0 of 1 images written" in err and "error: all failed" in err
    assert (tmp_path / "d" / "_manifest.json").is_file()  # the run finished all the same


def test_a_run_holding_the_lease_refuses_a_second_one(tmp_path, capsys):
    src = faulty_folder(tmp_path / "src", good=2)
    fs, out = resolve(tmp_path / "out")
    (tmp_path / "out").mkdir()
    holder = Lease(fs, out, "0123456789ab", {})
    holder.acquire()  # this process is alive: the lease is held
    try:
        for flags in ([], ["--resume"], ["--overwrite"]):
            with pytest.raises(LeaseHeldError, match=f"being written by run 0123456789ab .pid {os.getpid()}"):
                preprocess(src, tmp_path / "out", transform=STORED, resume="--resume" in flags,
                           overwrite="--overwrite" in flags)
        assert main(["preprocess", str(src), str(tmp_path / "out"), "--preset", "vit-224"]) == 1
        assert "is being written by run 0123456789ab" in capsys.readouterr().err
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [LEASE]
    finally:
        holder.release(finished=True)


@pytest.mark.parametrize("finished", [False, True])
def test_a_run_started_or_finished_during_the_checks_is_named_not_taken_for_foreign_files(
        tmp_path, monkeypatch, finished):
    """The first look finds no lease and no manifest; by the look at the folder's files another
    run holds it (or has finished): the refusal says so, as it would have a moment later."""
    module = importlib.import_module("augkit.distributed.preprocess")
    src = faulty_folder(tmp_path / "src", good=2)
    out = tmp_path / "out"
    preprocess(src, out, transform=STORED)  # a finished run: its shards and manifest
    fs, root = resolve(out)
    holder = Lease(fs, root, "0123456789ab", {})
    if not finished:
        holder.acquire()
    first_looks = iter([None])
    real_read = module.read_lease
    monkeypatch.setattr(module, "read_lease", lambda *args: next(first_looks, None) or real_read(*args))
    monkeypatch.setattr(module, "_finished_manifest",
                        lambda *args, real=module._finished_manifest: real(*args) if finished else None)
    try:
        expected = "already holds a finished" if finished else "is being written by run 0123456789ab"
        with pytest.raises(FileExistsError, match=expected):
            module._claim(fs, root, {}, None, resume=False, overwrite=False)
    finally:
        if not finished:
            holder.release(finished=True)


class Interrupt:
    """A progress callback that presses Ctrl-C once ``after`` shards are finished."""

    def __init__(self, after: int) -> None:
        self.after = after

    def __call__(self, done: int, total: int) -> None:
        if done >= self.after:
            raise KeyboardInterrupt


def test_resume_after_an_interruption_redoes_only_missing_or_truncated_shards(tmp_path):
    src, out = faulty_folder(tmp_path / "src"), tmp_path / "out"
    reference = preprocess(src, tmp_path / "ref", transform=STORED, batch_size=2, executor="local")
    with pytest.raises(KeyboardInterrupt):
        preprocess(src, out, transform=STORED, batch_size=2, executor="local", workers=1, progress=Interrupt(3))
    lease = json.loads((out / LEASE).read_text())
    assert lease["released"] and not (out / "_manifest.json").exists()
    shards = sorted(p.name for p in out.glob("*.parquet"))
    assert 3 <= len(shards) < len(reference["shards"])
    (out / shards[0]).write_bytes((out / shards[0]).read_bytes()[:100])  # truncated
    (out / f".{shards[1]}.1234abcd.tmp").write_bytes(b"partial")  # a shard being written
    untouched = {name: (out / name).stat().st_mtime_ns for name in shards[1:]}
    with pytest.raises(FileExistsError, match="holds the unfinished run .* pass resume=True"):
        preprocess(src, out, transform=STORED, batch_size=2)
    with pytest.raises(ValueError, match="cannot resume .*: its batch_size differ"):
        preprocess(src, out, transform=STORED, batch_size=3, resume=True)
    resumed = preprocess(src, out, transform=STORED, batch_size=2, resume=True)
    assert resumed["run_id"] == lease["run_id"] and same_run(resumed, reference)
    assert {name: (out / name).stat().st_mtime_ns for name in untouched} == untouched
    assert sorted(p.name for p in out.iterdir()) == sorted(["_manifest.json", *(s["file"] for s in resumed["shards"])])
    assert rows(out).keys() == rows(tmp_path / "ref").keys()
    assert preprocess(src, out, transform=STORED, batch_size=2, resume=True) == resumed  # finished: as it is


def test_overwrite_beside_foreign_parquet_files_leaves_them_untouched(tmp_path):
    src = faulty_folder(tmp_path / "src", good=4)
    out = tmp_path / "out"
    (out / "year=2024").mkdir(parents=True)
    foreign = {"other_table.parquet": pd.DataFrame({"a": [1, 2]}), "year=2024/sales.parquet": pd.DataFrame({"b": [3]})}
    for name, frame in foreign.items():
        frame.to_parquet(out / name)
    before = {name: (out / name).read_bytes() for name in foreign}
    with pytest.raises(FileExistsError, match="not preprocessing output"):
        preprocess(src, out, transform=STORED)
    first = preprocess(src, out, transform=STORED, overwrite=True, batch_size=2)
    second = preprocess(src, out, transform=STORED, overwrite=True, batch_size=3)
    assert {name: (out / name).read_bytes() for name in foreign} == before
    ours = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and
                  p.relative_to(out).as_posix() not in foreign)
    assert ours == sorted(["_manifest.json", *(s["file"] for s in second["shards"])])
    assert not set(s["file"] for s in first["shards"]) & set(ours)


def test_a_legacy_manifest_json_run_is_read_and_replaced_by_overwrite(tmp_path):
    src = faulty_folder(tmp_path / "src", good=3)
    out = tmp_path / "out"
    manifest = preprocess(src, out, transform=STORED)
    (out / "_manifest.json").rename(out / "manifest.json")  # as earlier versions named it
    assert len(ParquetImageDataset(out)) == manifest["counts"]["written"]
    with pytest.raises(FileExistsError, match="already holds a finished preprocessing run"):
        preprocess(src, out, transform=STORED)
    again = preprocess(src, out, transform=STORED, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == sorted(["_manifest.json", *(s["file"] for s in again["shards"])])


# -- interruptions and concurrent runs, in subprocesses ---------------------------------------


def _cli(src: Path, out: Path, *flags: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [sys.executable, "-m", "augkit.cli", "preprocess", str(src), str(out), "--preset", "vit-224",
         "--batch-size", "3", "--workers", "2", *flags],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_for_shards(out: Path, process: subprocess.Popen, count: int) -> None:
    """Wait until ``process`` holds the lease on ``out`` and has written ``count`` shards there
    (or has ended)."""
    while not (out / LEASE).exists() and process.poll() is None:
        time.sleep(0.002)
    while len(list(out.glob("part-*.parquet"))) < count and process.poll() is None:
        time.sleep(0.002)


@pytest.mark.slow
def test_sigint_and_sigkill_at_random_points_then_resume_give_the_uninterrupted_result(tmp_path):
    src = faulty_folder(tmp_path / "src", good=30)
    reference_out = tmp_path / "reference"
    process = _cli(src, reference_out)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    reference = json.loads((reference_out / "_manifest.json").read_text())
    expected = rows(reference_out)
    shards = len(reference["shards"])
    chance = random.Random(21)
    unfinished = []
    for trial, sig in enumerate([signal.SIGINT, signal.SIGKILL, signal.SIGINT, signal.SIGKILL]):
        out = tmp_path / f"run{trial}"
        process = _cli(src, out)
        _wait_for_shards(out, process, chance.randrange(0, shards - 1))  # a random point of the run
        time.sleep(chance.uniform(0, 0.01))
        os.killpg(process.pid, sig)
        _, stderr = process.communicate(timeout=300)
        status = process.returncode
        unfinished.append(not (out / "_manifest.json").exists())
        if sig == signal.SIGINT and unfinished[-1]:  # (a signal after the manifest may end the exit itself)
            assert status == 130, stderr
            assert stderr.strip().splitlines()[-1].startswith("augkit preprocess: interrupted;"), stderr
            assert "Traceback" not in stderr
        assert main(["preprocess", str(src), str(out), "--preset", "vit-224", "--batch-size", "3", "--resume"]) == 0
        manifest = json.loads((out / "_manifest.json").read_text())
        assert same_run(manifest, reference), (trial, status)
        assert rows(out).keys() == expected.keys()
        assert all(rows(out)[p]["image"] == expected[p]["image"] for p in expected)
        assert sorted(p.name for p in out.iterdir()) == sorted(["_manifest.json", *(s["file"] for s in manifest["shards"])])
    assert sum(unfinished) >= 2, unfinished  # most signals land while the run is going


@pytest.mark.slow
def test_two_runs_started_together_into_one_folder_one_is_refused(tmp_path):
    src = faulty_folder(tmp_path / "src", good=30)
    out = tmp_path / "out"
    runs = [_cli(src, out), _cli(src, out)]
    errors = [r.communicate(timeout=300)[1] for r in runs]
    statuses = [r.returncode for r in runs]
    assert sorted(statuses) == [0, 1], errors
    refused = errors[statuses.index(1)]
    assert "is being written by run" in refused or "already holds a finished preprocessing run" in refused
    manifest = json.loads((out / "_manifest.json").read_text())
    assert len(rows(out)) == manifest["counts"]["written"] == 31
