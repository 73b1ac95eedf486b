"""Batch runs of a per-image job over files, folders and globs: in this process, in N worker processes
of this machine, or on Ray Data (a local Ray instance or a cluster).

Every engine runs the same :class:`Job` (a picklable per-image function, e.g. ``cli.segment``'s or
``cli.style``'s, with its options and the global settings) on one image at a time; each worker process / Ray actor configures itself and
loads its models once, on its first image. Output, for ``--out DIR``:

* ``DIR/<name>.json``: the same JSON the single-image command prints, for each image that worked;
* ``DIR/<name>/``: that image's files (overlay, exports, stylised image);
* ``DIR/results.jsonl``: one line per image, written as images finish (nothing is lost if the run
  stops): ``{"index", "image", "name", "ok", "seconds"}`` plus ``"json"`` or ``"error"`` (one line).

``<name>`` is the file's stem, made unique (``photo``, ``photo-2``) when two inputs share one. An
image that cannot be read is reported with its reason and skipped; the batch goes on. Progress
(images done, rate, time left) is a tqdm bar on stderr.
"""
from __future__ import annotations

import glob
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.config import usable_cpus
from core.image import IMAGE_SUFFIXES
from core.video.io import VIDEO_SUFFIXES

MEDIA_SUFFIXES = IMAGE_SUFFIXES + VIDEO_SUFFIXES

ENGINES = ("local", "ray")
RESULTS_FILE = "results.jsonl"


# --------------------------------------------------------------------------- inputs
def expand_inputs(patterns: Iterable[str]) -> list[Path]:
    """Files, folders (their image files, recursively, sorted) and glob patterns -> image paths.

    An explicit file is kept whatever its suffix (so a bad file is reported, not silently dropped); a
    folder or glob contributes only files with an image suffix. Duplicates are removed, order kept.
    Raises FileNotFoundError naming a pattern that matches nothing."""
    out: list[Path] = []
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES)
        elif path.exists():
            found = [path]
        else:
            found = sorted(Path(p) for p in glob.glob(pattern, recursive=True)
                           if Path(p).is_file() and Path(p).suffix.lower() in MEDIA_SUFFIXES)
        if not found:
            raise FileNotFoundError(f"'{pattern}' is not an image file, a folder with images or a matching pattern.")
        out.extend(found)
    seen: set[Path] = set()
    return [p for p in out if not (p.resolve() in seen or seen.add(p.resolve()))]


def safe_stem(path: Path) -> str:
    """A file's stem as a plain file name: only letters, digits, ``_``, ``-`` and inner dots, no leading
    dot (so ``...jpg`` cannot name ``..``, the parent of --out), at most 100 characters; "image" if
    nothing is left."""
    stem = re.sub(r"[^\w.-]", "_", path.stem, flags=re.ASCII).lstrip(".")[:100].rstrip(".")
    return stem or "image"


def unique_names(paths: list[Path]) -> list[str]:
    """One output name per path: its safe stem, with ``-2``, ``-3``... when it is taken (compared without
    case, for case-insensitive file systems), so no two inputs ever write the same files."""
    taken: set[str] = set()
    names = []
    for p in paths:
        stem = safe_stem(p)
        name, k = stem, 1
        while name.casefold() in taken:
            k += 1
            name = f"{stem}-{k}"
        taken.add(name.casefold())
        names.append(name)
    return names


def is_batch(patterns: list[str]) -> bool:
    """Several inputs, a folder or a glob: a batch run. One existing file: the single-image command."""
    return len(patterns) != 1 or not Path(patterns[0]).is_file()


# --------------------------------------------------------------------------- the job
Runner = Callable[[Path, Path, dict[str, Any]], dict[str, Any]]
"""``runner(image_path, files_dir, options) -> JSON-able result``; a module-level function, so worker
processes and Ray actors receive it by reference."""


@dataclass(frozen=True)
class Job:
    """What to do to each image: ``runner`` with ``options`` (plain data); ``settings`` are the global
    flags (offline, device, max_side) every worker applies once before its first image; ``kind`` names
    the job in the summary."""

    kind: str
    runner: Runner
    options: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)


def _input_errors() -> tuple[type[BaseException], ...]:
    """Errors that belong to one image (unreadable, no face, ...): reported, and the batch goes on."""
    from core.faces.pipeline import FaceError
    from core.image import ImageError
    from core.video.io import VideoError

    return ImageError, VideoError, FaceError, FileNotFoundError, IsADirectoryError, PermissionError


def run_one(job: Job, index: int, path: Path, name: str, out_dir: Path) -> dict[str, Any]:
    """Run ``job`` on one image; its JSON goes to ``out_dir/<name>.json`` and its files to
    ``out_dir/<name>/``. Returns the results.jsonl row. Per-image errors become ``ok: false`` rows;
    model errors (a model that is unavailable fails every image) propagate and stop the batch."""
    t0 = time.perf_counter()
    row: dict[str, Any] = {"index": index, "image": str(path), "name": name}
    try:
        result = job.runner(path, out_dir / name, job.options)
    except _input_errors() as exc:
        row.update(ok=False, error=" ".join(str(exc).split()) or type(exc).__name__)
    else:
        js = out_dir / f"{name}.json"
        js.write_text(json.dumps(result, indent=2) + "\n")
        row.update(ok=True, json=str(js))
    row["seconds"] = round(time.perf_counter() - t0, 3)
    return row


def _configure_worker(settings: dict[str, Any], threads: int | None) -> None:
    """Once per worker process / Ray actor: the global flags, and its share of the CPU threads."""
    from core.config import configure

    configure(**settings)
    if threads:
        # before torch is imported the variable is enough (importing torch here costs seconds a worker)
        os.environ["OMP_NUM_THREADS"] = str(threads)
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads)


# --------------------------------------------------------------------------- engines
_WORKER_JOB: Job | None = None


def _pool_init(job: Job, threads: int) -> None:
    global _WORKER_JOB
    _WORKER_JOB = job
    _configure_worker(job.settings, threads)


def _pool_run(item: tuple[int, str, str, str]) -> dict[str, Any]:
    index, path, name, out_dir = item
    assert _WORKER_JOB is not None
    return run_one(_WORKER_JOB, index, Path(path), name, Path(out_dir))


def run_local(job: Job, paths: list[Path], names: list[str], out_dir: Path, workers: int = 1) -> Iterator[dict]:
    """Rows as images finish. ``workers`` 1: in this process; more: that many spawned processes."""
    if workers <= 1:
        for i, (p, n) in enumerate(zip(paths, names)):
            yield run_one(job, i, p, n, out_dir)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    threads = max(1, usable_cpus() // workers)
    items = [(i, str(p), n, str(out_dir)) for i, (p, n) in enumerate(zip(paths, names))]
    # spawn, not fork: torch / onnxruntime thread pools do not survive a fork
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_pool_init,
                             initargs=(job, threads)) as pool:
        futures = [pool.submit(_pool_run, item) for item in items]
        try:
            for fut in as_completed(futures):
                yield fut.result()
        finally:
            for fut in futures:
                fut.cancel()


class _RayBatchWorker:
    """A Ray Data actor: configures itself and loads models once, then runs one image per row."""

    def __init__(self, job: Job, out_dir: str, threads: int) -> None:
        self.job, self.out_dir = job, Path(out_dir)
        _configure_worker(job.settings, threads)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        rows = [run_one(self.job, int(i), Path(p), str(n), self.out_dir)
                for i, p, n in zip(batch["index"], batch["path"], batch["name"])]
        return {"row": [json.dumps(r) for r in rows]}


def run_ray(job: Job, paths: list[Path], names: list[str], out_dir: Path, workers: int = 1,
            address: str | None = None) -> Iterator[dict]:
    """Rows from Ray Data: ``map_batches`` over the file list with ``workers`` actors (1 CPU each).

    Connects to ``address`` (or ``$RAY_ADDRESS``, e.g. ``ray://head:10001``) or, with neither, to the
    Ray instance this process already started, else starts a local one. On a cluster, ``out_dir`` and
    the images must be paths every node can read and write (a shared file system)."""
    try:
        import ray
    except ImportError as exc:  # optional for users
        raise ValueError("--engine ray needs Ray: pip install 'ray[data]'.") from exc
    if not ray.is_initialized():
        ray.init(address=address or os.environ.get("RAY_ADDRESS") or None, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)
    items = [{"index": i, "path": str(p.resolve()), "name": n} for i, (p, n) in enumerate(zip(paths, names))]
    ds = ray.data.from_items(items, override_num_blocks=max(1, len(items)))
    ds = ds.map_batches(_RayBatchWorker, fn_constructor_args=(job, str(out_dir.resolve()), 1),
                        batch_size=1, concurrency=max(1, workers), num_cpus=1)
    for rec in ds.iter_rows():
        yield json.loads(rec["row"])


def run_batch(job: Job, patterns: list[str], out_dir: Path, *, workers: int = 1, engine: str = "local",
              ray_address: str | None = None, progress: bool = True) -> dict[str, Any]:
    """Expand ``patterns``, run ``job`` on every image, write the per-image JSON and ``results.jsonl``
    into ``out_dir``; return the summary (counts, failures with their reasons, rate)."""
    if engine not in ENGINES:
        raise ValueError(f"Unknown engine '{engine}'; choose one of {', '.join(ENGINES)}.")
    if workers < 1:
        raise ValueError("--workers must be at least 1.")
    paths = expand_inputs(patterns)
    names = unique_names(paths)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows_iter = (run_ray(job, paths, names, out_dir, workers, ray_address) if engine == "ray"
                 else run_local(job, paths, names, out_dir, workers))
    from tqdm import tqdm

    t0 = time.perf_counter()
    rows: list[dict] = []
    with open(out_dir / RESULTS_FILE, "w") as jsonl, tqdm(total=len(paths), unit="img", file=sys.stderr,
                                                          desc=f"{job.kind} ({engine}, {workers} worker"
                                                          f"{'s' if workers > 1 else ''})",
                                                          disable=not progress) as bar:
        for row in rows_iter:
            rows.append(row)
            jsonl.write(json.dumps(row) + "\n")
            jsonl.flush()
            bar.update(1)
            if not row["ok"]:
                bar.write(f"skipped {row['image']}: {row['error']}", file=sys.stderr)
    seconds = time.perf_counter() - t0
    failed = sorted((r for r in rows if not r["ok"]), key=lambda r: r["index"])
    return {
        "kind": job.kind, **{k: v for k, v in job.options.items() if k in ("task", "model", "style", "mode")},
        "engine": engine, "workers": workers, "images": len(paths), "ok": len(rows) - len(failed),
        "failed": [{"image": r["image"], "error": r["error"]} for r in failed],
        "results": str(out_dir / RESULTS_FILE), "seconds": round(seconds, 3),
        "images_per_s": round(len(rows) / seconds, 3) if seconds > 0 else None,
    }


def add_batch_arguments(p) -> None:
    """The flags every batch-capable command shares."""
    p.add_argument("--workers", type=int, default=1,
                   help="batch: worker processes (local) or Ray actors, each loading its models once")
    p.add_argument("--engine", choices=ENGINES, default="local",
                   help="batch: local processes, or Ray Data (local Ray, or the cluster in $RAY_ADDRESS)")
    p.add_argument("--ray-address", default=None, help="batch with --engine ray: e.g. ray://head:10001")


def settings_of(args) -> dict[str, Any]:
    """The global flags as :func:`core.config.configure` keywords (for worker processes)."""
    return {"offline": args.offline or None, "device": args.device, "max_side": args.max_side}
