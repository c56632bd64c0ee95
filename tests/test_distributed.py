"""augkit.distributed: preprocessing folders of images to Parquet with local processes, on a
local Ray (2 CPUs), and on an S3 protocol server (moto) on 127.0.0.1. The fault tests (bad
files, interruptions, concurrent runs) are in test_preprocess_faults.py.

The test that runs Ray has one xdist worker for the module.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import augkit
from augkit.data import ParquetImageDataset, sample_image
from augkit.io import read_image

pq = pytest.importorskip("pyarrow.parquet")

from augkit.distributed import (  # noqa: E402
    check_deterministic, list_images, preprocess, resolve_transform, split_pipeline,
)
from augkit.cli import main  # noqa: E402
from augkit.distributed.storage import resolve  # noqa: E402
from augkit.distributed.shards import Chunk, read_shard_record  # noqa: E402
from augkit.distributed.worker import ShardJob, ShardWriter  # noqa: E402

pytestmark = pytest.mark.xdist_group("ray")  # one xdist worker for the module: Ray's CPUs

PIPELINE = augkit.Compose([augkit.HorizontalFlip(p=1.0), augkit.VerticalFlip(p=1.0), augkit.ToDtype("float32")])
STORED = augkit.Compose([augkit.HorizontalFlip(p=1.0), augkit.VerticalFlip(p=1.0)])


def _photo(name: str, width: int, height: int) -> np.ndarray:
    return cv2.resize(sample_image(name), (width, height), interpolation=cv2.INTER_AREA)


def _write(path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    code = cv2.COLOR_RGBA2BGRA if rgb.ndim == 3 and rgb.shape[2] == 4 else cv2.COLOR_RGB2BGR
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, code) if rgb.ndim == 3 else rgb)


def make_class_folders(root):
    """Two classes: JPEGs, a PNG with alpha, a 16-bit grey PNG, a corrupt JPEG, a text file."""
    _write(root / "cat" / "chelsea.jpg", _photo("chelsea", 40, 30))
    _write(root / "cat" / "coffee.jpg", _photo("coffee", 36, 28))
    (root / "cat" / "broken.jpg").write_bytes((root / "cat" / "chelsea.jpg").read_bytes()[:200])
    alpha = np.dstack([_photo("astronaut", 50, 40), np.linspace(0, 255, 40 * 50).reshape(40, 50).astype(np.uint8)])
    _write(root / "space" / "alpha.png", alpha)
    _write(root / "space" / "rocket.jpg", _photo("rocket", 30, 44))
    _write(root / "space" / "deep" / "grey16.png", (_photo("camera", 24, 20).astype(np.uint16) * 257))
    (root / "space" / "notes.txt").write_text("not an image")
    return root


def expected_pixels(path) -> torch.Tensor:
    """The pipeline applied directly to the decoded file (16-bit files scaled to uint8 first)."""
    image = read_image(path)
    if image.dtype == np.uint16:
        image = augkit.ToDtype("uint8")(image)
    return PIPELINE(torch.from_numpy(image).permute(2, 0, 1))


# -- without a Ray session --------------------------------------------------------------------


def test_listing_class_folders_flat_and_mixed(tmp_path):
    fs, root = resolve(make_class_folders(tmp_path / "src"))
    listing = list_images(fs, root)
    assert listing.classes == ["cat", "space"] and listing.ignored == 1
    assert listing.paths == ["cat/broken.jpg", "cat/chelsea.jpg", "cat/coffee.jpg", "space/alpha.png",
                             "space/deep/grey16.png", "space/rocket.jpg"]
    assert listing.labels == [0, 0, 0, 1, 1, 1]
    flat = list_images(fs, f"{root}/cat")
    assert flat.classes == [] and flat.labels == [-1, -1, -1]
    _write(tmp_path / "src" / "top.jpg", _photo("coffee", 8, 8))
    with pytest.raises(ValueError, match="mixes images at the top"):
        list_images(fs, root)
    (tmp_path / "none").mkdir()
    with pytest.raises(ValueError, match="holds no images"):
        list_images(fs, str(tmp_path / "none"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list_images(fs, str(tmp_path / "missing"))


def test_random_pipelines_are_refused():
    check_deterministic(PIPELINE)
    with pytest.raises(ValueError, match=r"probability p=0.5; use p=1"):
        check_deterministic(augkit.Compose([augkit.VerticalFlip(p=1.0), augkit.HorizontalFlip(p=0.5)]))
    with pytest.raises(ValueError, match="draws random parameters"):
        check_deterministic(augkit.OneOf([augkit.HorizontalFlip(p=1.0), augkit.VerticalFlip(p=1.0)]))


def test_trailing_dtype_and_normalize_steps_are_deferred():
    stored, deferred = split_pipeline(augkit.Compose([augkit.HorizontalFlip(p=1.0), augkit.ToDtype("float32"),
                                                      augkit.Normalize()]))
    assert stored == augkit.Compose([augkit.HorizontalFlip(p=1.0)])
    assert deferred == augkit.Compose([augkit.ToDtype("float32"), augkit.Normalize()])
    assert split_pipeline(augkit.HorizontalFlip(p=1.0))[1] is None
    with pytest.raises(ValueError, match="must turn HWC uint8 arrays into HWC uint8 arrays, but it returns float32"):
        split_pipeline(augkit.Compose([augkit.Normalize(), augkit.HorizontalFlip(p=1.0)]))


def test_preset_is_the_eval_transform_with_normalize_deferred():
    transform = resolve_transform(preset="vit-224")
    assert transform == augkit.presets.eval_transform(model="vit-224")
    stored, deferred = split_pipeline(transform)
    assert stored == augkit.Compose([transform[0]]) and deferred == augkit.Compose([transform[1]])
    with pytest.raises(ValueError, match="model must be one of"):
        resolve_transform(preset="no-such-model")
    with pytest.raises(ValueError, match="exactly one of preset"):
        resolve_transform(preset="vit-224", transform=PIPELINE)


def test_transform_from_a_json_config_file(tmp_path):
    path = tmp_path / "eval.json"
    path.write_text(json.dumps(PIPELINE.to_config()))
    assert resolve_transform(transform=str(path)) == PIPELINE
    path.write_text("{")
    with pytest.raises(ValueError, match="is not valid JSON"):
        resolve_transform(transform=str(path))


def test_worker_writes_the_rows_of_a_chunk_and_its_failures_in_the_footer(tmp_path):
    fs, root = resolve(make_class_folders(tmp_path / "src"))
    (tmp_path / "out").mkdir()
    job = ShardJob(STORED.to_config(), ["cat", "space"], fs, root, fs, str(tmp_path / "out"), "ab12")
    chunk = Chunk(7, ["cat/broken.jpg", "space/alpha.png", "cat/missing.jpg"], [0, 1, 0])
    record = ShardWriter(job).write(chunk)
    assert record.file == "part-00007-ab12.parquet" and record.rows == 1 and record.inputs == chunk.paths
    assert read_shard_record(fs, f"{tmp_path}/out/{record.file}") == record
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [record.file]  # no temporary left
    row = pq.read_table(tmp_path / "out" / record.file).to_pylist()[0]
    assert (row["height"], row["width"], row["channels"], row["label"], row["class_name"]) == (40, 50, 3, 1, "space")
    assert (row["original_height"], row["original_width"], row["path"]) == (40, 50, "space/alpha.png")
    stored = np.frombuffer(row["image"], np.uint8).reshape(40, 50, 3)
    assert np.array_equal(stored, STORED(read_image(tmp_path / "src" / "space" / "alpha.png")))
    failed = {f.path: f for f in record.failed}
    assert list(failed) == ["cat/broken.jpg", "cat/missing.jpg"]
    assert failed["cat/broken.jpg"].error == "ImageReadError" and "corrupt or truncated" in failed["cat/broken.jpg"].message
    assert failed["cat/missing.jpg"].error == "FileNotFoundError"


def test_missing_ray_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"pip install 'augkit\[ray\]'"):
        preprocess(tmp_path, tmp_path / "out", transform=PIPELINE, executor="ray")


def test_the_ray_extra_installs_what_ray_job_submit_needs():
    tomllib = pytest.importorskip("tomllib")
    extras = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())[
        "project"]["optional-dependencies"]
    ray_requirement = next(r for r in extras["ray"] if r.startswith("ray["))
    assert {"data", "default"} <= set(ray_requirement[4:ray_requirement.index("]")].split(","))


def test_import_augkit_does_not_import_ray():
    code = "import sys, augkit, augkit.distributed, augkit.data; print('ray' in sys.modules, 'pyarrow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.split() == ["False", "False"]


def test_destination_with_other_files_or_an_earlier_run_is_refused(tmp_path):
    src = make_class_folders(tmp_path / "src")
    (tmp_path / "dst").mkdir()
    (tmp_path / "dst" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not preprocessing output .e.g. keep.txt.; choose an empty"):
        preprocess(src, tmp_path / "dst", transform=PIPELINE)
    with pytest.raises(ValueError, match=r"workers must be a positive int or None; got \(2, 1\)"):
        preprocess(src, tmp_path / "dst", transform=PIPELINE, workers=(2, 1))
    with pytest.raises(ValueError, match="executor must be one of 'auto', 'local', 'ray'; got 'spark'"):
        preprocess(src, tmp_path / "dst", transform=PIPELINE, executor="spark")
    with pytest.raises(ValueError, match="at most one of resume and overwrite"):
        preprocess(src, tmp_path / "dst", transform=PIPELINE, resume=True, overwrite=True)
    with pytest.raises(ValueError, match="endpoint_url is for s3:// locations, but neither side is one"):
        preprocess(src, tmp_path / "dst", transform=PIPELINE, endpoint_url="http://127.0.0.1:9")
    assert sorted(p.name for p in (tmp_path / "dst").iterdir()) == ["keep.txt"]


def test_cli_help_and_bad_inputs(tmp_path, capsys):
    assert main(["preprocess", "--help"]) == 0 and "--workers N" in capsys.readouterr().out
    config = tmp_path / "random.json"
    config.write_text(json.dumps(augkit.HorizontalFlip(p=0.5).to_config()))
    src = make_class_folders(tmp_path / "src")
    assert main(["preprocess", str(src), str(tmp_path / "out"), "--transform", str(config)]) == 1
    assert "augkit preprocess: error: preprocessing needs a deterministic pipeline" in capsys.readouterr().err
    good = tmp_path / "good.json"
    good.write_text(json.dumps(PIPELINE.to_config()))
    assert main(["preprocess", str(tmp_path / "nowhere"), str(tmp_path / "out"), "--transform", str(good)]) == 1
    assert "source" in capsys.readouterr().err
    assert main(["preprocess", str(src), str(tmp_path / "out"), "--transform", str(good), "--workers", "0"]) == 2
    assert "expected a positive int; got '0'" in capsys.readouterr().err
    assert main(["preprocess", str(src), str(tmp_path / "out"), "--transform", str(good), "--max-failed", "2"]) == 2
    assert "expected a fraction in [0, 1]" in capsys.readouterr().err
    assert main(["preprocess", str(src), str(tmp_path / "out"), "--transform", str(good), "--resume",
                 "--overwrite"]) == 2


# -- local processes and a local Ray -----------------------------------------------------------


def check_class_folders_output(src, out, manifest) -> None:
    """The output of PIPELINE over make_class_folders: counts, manifest, pixels."""
    assert manifest["counts"] == {"read": 6, "written": 5, "failed": 1, "ignored_files": 1}
    assert [(f["path"], f["error"]) for f in manifest["failed"]] == [("cat/broken.jpg", "ImageReadError")]
    assert "corrupt or truncated" in manifest["failed"][0]["message"]
    assert manifest["classes"] == ["cat", "space"] and manifest["class_counts"] == {"cat": 2, "space": 3}
    assert manifest["deferred_transform"] == augkit.Compose([augkit.ToDtype("float32")]).to_config()
    assert manifest["transform"] == PIPELINE.to_config() and manifest["augkit_version"] == augkit.__version__
    assert json.loads((out / "_manifest.json").read_text()) == manifest
    assert sorted(p.name for p in out.iterdir()) == sorted(["_manifest.json", *(s["file"] for s in manifest["shards"])])

    ds = ParquetImageDataset(out)
    assert sorted(ds.paths) == ["cat/chelsea.jpg", "cat/coffee.jpg", "space/alpha.png",
                                "space/deep/grey16.png", "space/rocket.jpg"]
    for i, path in enumerate(ds.paths):
        image, label = ds[i]
        assert label == ds.classes.index(path.split("/")[0])
        assert image.dtype == torch.float32 and torch.equal(image, expected_pixels(src / path)), path
    assert ds[ds.paths.index("space/alpha.png")][0].shape == (3, 40, 50)
    raw = ParquetImageDataset(out, deferred=False, kind="numpy")
    k = raw.paths.index("cat/coffee.jpg")
    assert np.array_equal(raw[k][0], STORED(read_image(src / "cat" / "coffee.jpg")))


def test_class_folders_to_parquet_with_local_processes(tmp_path):
    src = make_class_folders(tmp_path / "src")
    seen = []
    manifest = preprocess(src, tmp_path / "out", transform=PIPELINE, batch_size=2, workers=2,
                          executor="local", progress=lambda done, total: seen.append((done, total)))
    check_class_folders_output(src, tmp_path / "out", manifest)
    assert len(manifest["shards"]) == 3 and sorted(seen) == [(1, 3), (2, 3), (3, 3)]
    assert "ray_version" not in manifest


@pytest.mark.slow
def test_class_folders_to_parquet_on_ray_read_back_by_ray_data(tmp_path):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        src = make_class_folders(tmp_path / "src")
        manifest = preprocess(src, tmp_path / "out", transform=PIPELINE, batch_size=2)  # auto: Ray is up
        assert manifest["ray_version"] == ray.__version__
        check_class_folders_output(src, tmp_path / "out", manifest)
        rows = ray.data.read_parquet(str(tmp_path / "out")).select_columns(["path"]).take_all()
        assert sorted(r["path"] for r in rows) == sorted(ParquetImageDataset(tmp_path / "out").paths)
        named = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)]
        assert not [name for name in named if "augkit" in name], named  # no failure log left behind
    finally:
        ray.shutdown()


def test_rerun_refuses_unless_overwrite_which_replaces_the_run(tmp_path, capsys):
    src = make_class_folders(tmp_path / "src")
    config = tmp_path / "eval.json"
    config.write_text(json.dumps(PIPELINE.to_config()))
    args = ["preprocess", str(src / "cat"), str(tmp_path / "out"), "--batch-size", "2", "--workers", "2"]
    assert main([*args, "--preset", "vit-224"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "2 of 3 images written" in captured.err
    assert "failed: broken.jpg: ImageReadError: cannot read image broken.jpg: corrupt" in captured.err
    ds = ParquetImageDataset(tmp_path / "out")
    preset = augkit.presets.eval_transform(model="vit-224")
    for i, path in enumerate(ds.paths):  # Normalize deferred to reading (tensor kernel): float rounding
        expected = torch.from_numpy(preset(read_image(src / "cat" / path))).permute(2, 0, 1)
        torch.testing.assert_close(ds[i], expected, rtol=0, atol=1e-6)
    assert ds[0].shape == (3, 224, 224)
    args += ["--transform", str(config)]
    first = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert main(args) == 1
    assert "already holds a finished preprocessing run" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == first
    (src / "cat" / "broken.jpg").unlink()
    assert main([*args, "--overwrite"]) == 0
    manifest = json.loads((tmp_path / "out" / "_manifest.json").read_text())
    assert manifest["counts"]["read"] == manifest["counts"]["written"] == 2 and manifest["failed"] == []
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        ["_manifest.json", *(s["file"] for s in manifest["shards"])])
    ds = ParquetImageDataset(tmp_path / "out")
    assert ds.classes == [] and sorted(ds.paths) == ["chelsea.jpg", "coffee.jpg"]  # a flat folder: no labels


@pytest.fixture
def s3_server(monkeypatch):
    boto3 = pytest.importorskip("boto3")
    threaded = pytest.importorskip("moto.moto_server.threaded_moto_server")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    server = threaded.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    yield boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1"), endpoint
    server.stop()


def test_s3_source_and_destination_and_s3_with_one_side_local(s3_server, tmp_path):
    client, endpoint = s3_server
    client.create_bucket(Bucket="photos")
    src = make_class_folders(tmp_path / "src")
    files = ["cat/chelsea.jpg", "cat/broken.jpg", "space/alpha.png", "space/notes.txt"]
    for name in files:
        client.put_object(Bucket="photos", Key=f"raw/{name}", Body=(src / name).read_bytes())

    manifest = preprocess("s3://photos/raw", "s3://photos/out/vit", transform=PIPELINE,
                          endpoint_url=endpoint, batch_size=2, workers=2)
    assert manifest["counts"] == {"read": 3, "written": 2, "failed": 1, "ignored_files": 1}
    assert [f["path"] for f in manifest["failed"]] == ["cat/broken.jpg"]
    assert {f["path"] for f in preprocess("s3://photos/raw", tmp_path / "local", transform=PIPELINE,
                                          endpoint_url=endpoint)["failed"]} == {"cat/broken.jpg"}
    objects = client.list_objects_v2(Bucket="photos", Prefix="out/vit/")["Contents"]
    keys = {o["Key"] for o in objects if not o["Key"].endswith("/")}  # not the folder markers
    assert keys == {"out/vit/_manifest.json", *(f"out/vit/{s['file']}" for s in manifest["shards"])}
    stored = json.loads(client.get_object(Bucket="photos", Key="out/vit/_manifest.json")["Body"].read())
    assert stored["counts"] == manifest["counts"] and stored["source"] == "s3://photos/raw"

    ds = ParquetImageDataset("s3://photos/out/vit", endpoint_url=endpoint)
    assert ds.classes == ["cat", "space"] and sorted(ds.paths) == ["cat/chelsea.jpg", "space/alpha.png"]
    for i, path in enumerate(ds.paths):
        assert torch.equal(ds[i][0], expected_pixels(src / path))
    with pytest.raises(FileExistsError, match="already holds a finished preprocessing run"):
        preprocess("s3://photos/raw", "s3://photos/out/vit", transform=PIPELINE, endpoint_url=endpoint)


@pytest.mark.slow
def test_benchmark_jobs_write_every_photo(tmp_path):
    ray = pytest.importorskip("ray")
    from benchmarks.tasks.preprocess import augkit_job, photo_folder, ray_torchvision_job, with_ray

    src = photo_folder(3)
    try:
        assert with_ray(augkit_job)(src, str(tmp_path / "augkit")) == 3
        assert with_ray(ray_torchvision_job)(src, str(tmp_path / "torchvision")) == 3
    finally:
        ray.shutdown()
    assert ParquetImageDataset(tmp_path / "augkit")[0][0].shape == (3, 224, 224)


def test_the_scaling_benchmark_measures_both_jobs_and_fills_the_docs_block(tmp_path, monkeypatch):
    from benchmarks import preprocess_scaling

    page = tmp_path / "page.md"
    page.write_text("before\n<!-- preprocess-benchmark -->\nold table\n<!-- /preprocess-benchmark -->\nafter\n")
    monkeypatch.setattr(preprocess_scaling, "_SAMPLE_SECONDS", 0.001)
    table = preprocess_scaling.report(tmp_path / "out", page, sizes=(6,))
    rows = json.loads((tmp_path / "out" / "preprocess.json").read_text())["rows"]
    assert [r["images"] for r in rows] == [6] and all(r[k] > 0 for r in rows for k in r)
    assert rows[0]["augkit_peak_mib"] > 50 and rows[0]["loop_peak_mib"] > 50  # a Python with torch
    text = page.read_text()
    assert table in text and "old table" not in text and text.startswith("before\n") and text.endswith("after\n")
