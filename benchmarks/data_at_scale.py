"""Data at scale (issue 13): what holding a source in memory costs, and whether streaming it keeps up with training.

    python benchmarks/data_at_scale.py --data ../shared/data/anime-faces-64.zip \\
        --code before=/tmp/kgan-before --code after=.                  # peak RSS of a short run, old vs new code
    python benchmarks/data_at_scale.py --synthetic 50000 --work /tmp/kgan-scale --memory-budget 50M \\
        --code before=/tmp/kgan-before --code after=.                  # 50k generated PNGs, streamed vs in memory
    python benchmarks/data_at_scale.py --data ../shared/data/anime-faces-64.zip --rates-only   # images/s only
    python benchmarks/data_at_scale.py --quick                         # a few hundred tiny PNGs: a smoke run

Three figures:
1. Peak resident memory (`/usr/bin/time -v`, "Maximum resident set size") of a short
   `kgan train dcgan --data SRC --epochs 1 --steps-per-epoch K --no-monitor`, run in a fresh process for
   each code root given by `--code LABEL=DIR` (PYTHONPATH=DIR, so an older checkout can be measured),
   beside the data's decoded size (image files × side² × 3 bytes). Each code runs with its default
   (in memory when the data fits a quarter of the available memory) and, when it has the option, with
   `--memory-budget` below the decoded size, which must make it stream (its output says "streaming").
2. The same on `--synthetic N` small distinct PNGs (seeded blobs, written once into `--work` and reused).
3. Images/s of `kgan.data.load(...)` batches, streamed (budget 0: each batch read and decoded on the fly)
   vs held in memory, after a warm-up batch, against what the DCGAN train step consumes. Streaming is
   fast enough when it serves at least twice what training consumes: the decoding then has room to
   share the CPU with the step.
"""

import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

import kgan
from kgan.data.memory import format_size, parse_size

REPO = pathlib.Path(__file__).resolve().parents[1]
PER_FOLDER = 1000  # synthetic images per subfolder: 50,000 files in one folder slow some file systems down


# -- the data ---------------------------------------------------------------------------------------


def blob_images(count, size, rng):
    """`count` uint8 images (count, size, size, 3): a flat colour under three soft coloured blobs, plus a little noise.

    Each blob is a Gaussian bump exp(−‖p − c‖² / 2σ²) blending its colour over the image; the noise makes
    every image distinct (and its PNG as hard to compress as a photo's), so no two decodes are alike.
    """
    grid = np.stack(np.meshgrid(np.arange(size), np.arange(size), indexing="ij"), -1).astype(np.float32)  # (H, W, 2)
    images = np.broadcast_to(rng.uniform(0, 255, (count, 1, 1, 3)), (count, size, size, 3)).astype(np.float32)
    for _ in range(3):
        centre = rng.uniform(0, size, (count, 1, 1, 2))
        sigma = rng.uniform(size / 10, size / 3, (count, 1, 1, 1))
        weight = np.exp(-((grid - centre) ** 2).sum(-1, keepdims=True) / (2 * sigma**2))
        images = images * (1 - weight) + rng.uniform(0, 255, (count, 1, 1, 3)) * weight
    images += rng.normal(0, 6, images.shape)
    return np.clip(np.rint(images), 0, 255).astype(np.uint8)


def synthetic_source(count, size, work, seed=0):
    """A folder of `count` distinct size×size PNGs under `work`, written once: a later call reuses it.

    A marker file beside the folder says it is complete, so an interrupted write is redone, not reused.
    """
    folder = pathlib.Path(work) / f"synthetic-{count}-{size}px-seed{seed}"
    done = folder.with_suffix(".complete")
    if done.exists():
        return folder, 0.0
    start = time.perf_counter()
    shutil.rmtree(folder, ignore_errors=True)
    for first in range(0, count, PER_FOLDER):
        # one generator per chunk, keyed by (seed, chunk): the same files whatever was written before
        images = blob_images(min(PER_FOLDER, count - first), size, np.random.default_rng([seed, first // PER_FOLDER]))
        subfolder = folder / f"{first // PER_FOLDER:03d}"
        subfolder.mkdir(parents=True)
        for offset, image in enumerate(images):
            (subfolder / f"blob-{first + offset:07d}.png").write_bytes(tf.io.encode_png(image).numpy())
    done.touch()
    return folder, time.perf_counter() - start


def decoded_size(source, image_size):
    """Bytes the source's images take decoded at image_size (the estimate `kgan.data.load` makes)."""
    count = len(kgan.data.resolve_source(str(source)))
    return count, count * image_size * image_size * 3


# -- figure 1 and 2: peak RSS of a short training run -------------------------------------------------


def code_roots(specs):
    """[(label, folder)] from "label=DIR" (or a bare DIR, labelled by its name); checks each holds kgan."""
    roots = []
    for spec in specs or [f"current={REPO}"]:
        label, _, folder = spec.rpartition("=")
        folder = pathlib.Path(folder).resolve()
        if not (folder / "kgan" / "cli.py").exists():
            raise ValueError(f"--code {spec}: {folder} holds no kgan/cli.py (expected a checkout of kgan).")
        roots.append((label or folder.name, folder))
    return roots


def has_memory_budget(code):
    """Whether the checkout's CLI takes --memory-budget (code before issue 13 does not)."""
    return "--memory-budget" in (code / "kgan" / "cli.py").read_text()


def run_env(code):
    return dict(os.environ, PYTHONPATH=str(code), TF_CPP_MIN_LOG_LEVEL="2")


def check_imports_from(code, cwd):
    """Make sure PYTHONPATH=code wins over the installed (editable) kgan, without importing TensorFlow."""
    origin = subprocess.run(
        [sys.executable, "-c", "import importlib.util; print(importlib.util.find_spec('kgan').origin)"],
        cwd=cwd, env=run_env(code), capture_output=True, text=True, check=True,
    ).stdout.strip()
    if not pathlib.Path(origin).resolve().is_relative_to(code):
        raise RuntimeError(f"PYTHONPATH={code} imports kgan from {origin}, not from that checkout.")


def train_peak_rss(code, source, image_size, steps, budget, width, work):
    """(peak RSS in bytes, wall seconds, the run's stdout) of `kgan train dcgan` for `steps` steps in a fresh process."""
    out = pathlib.Path(tempfile.mkdtemp(prefix="run-", dir=work))
    command = [
        "/usr/bin/time", "-v", sys.executable, "-m", "kgan.cli", "train", "dcgan", "--data", str(source), "--epochs", "1",
        "--steps-per-epoch", str(steps), "--image-size", str(image_size), "--out", str(out / "run"), "--no-monitor",
    ]
    command += ["--memory-budget", budget] if budget is not None else []
    command += ["--width", str(width)] if width else []
    try:
        # cwd is not the repository: `python -m` puts the working folder first on sys.path, before PYTHONPATH
        check_imports_from(code, out)
        start = time.perf_counter()
        result = subprocess.run(command, check=False, cwd=out, env=run_env(code), capture_output=True, text=True)
        wall = time.perf_counter() - start
    finally:
        shutil.rmtree(out, ignore_errors=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    peak_kib = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    return int(peak_kib.group(1)) * 1024, wall, result.stdout


def memory_rows(name, source, image_size, args, work):
    """Print one row per (code, budget): the default budget, then --memory-budget where the code has the option."""
    count, size = decoded_size(source, image_size)
    budget = args.memory_budget or str(size // 2)  # below the decoded size: it must stream
    if parse_size(budget) >= size:
        raise ValueError(f"--memory-budget {budget}: not below the decoded size of {name} ({format_size(size)}), so it would not stream.")
    for label, code in code_roots(args.code):
        for run_budget in (None, budget) if has_memory_budget(code) else (None,):
            peak, wall, stdout = train_peak_rss(code, source, image_size, args.steps, run_budget, args.width, work)
            streamed = "streaming" in stdout
            if run_budget is not None and not streamed:
                raise RuntimeError(f"{label} with --memory-budget {run_budget} did not stream:\n{stdout[-2000:]}")
            path = "streamed" if streamed else "in memory"
            shown = format_size(parse_size(run_budget)) if run_budget is not None else "default"
            print(
                f"{name:<30}{label:<10}{count:>9,}{format_size(size):>10}{shown:>10}{path:>11}"
                f"{peak / 2**20:>8,.0f} MiB{wall:>8.0f}",
                flush=True,
            )


# -- figure 3: images/s served and consumed -------------------------------------------------------


def images_per_second(iterator, batches, batch_size):
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * batch_size / (time.perf_counter() - start)


def pipeline_rate(source, image_size, budget, args):
    """(seconds `load` took (its scan), images/s of its batches after a warm-up batch, the iterator)."""
    start = time.perf_counter()
    batches = kgan.data.load(str(source), args.batch_size, image_size=image_size, seed=0, repeat=True, memory_budget=budget)
    loaded = time.perf_counter() - start
    assert batches.streamed == (budget == 0), batches.how
    iterator = iter(batches.dataset)
    next(iterator)  # warm-up: the first batch also starts the pipeline's threads
    return loaded, images_per_second(iterator, args.batches, args.batch_size), iterator


def training_rate(iterator, image_size, args):
    """Images/s the DCGAN train step (the default recipe; width 32 below 64 px) consumes from `iterator`."""
    keras.utils.set_random_seed(0)
    width = args.width or (None if image_size >= 64 else 32)
    gan = kgan.recipes.build_gan("dcgan", seed=0, image_size=image_size, width=width)
    step = tf.function(gan.train_step)  # what fit runs per step, without fit's bookkeeping
    step(next(iterator))  # trace
    start = time.perf_counter()
    for _ in range(args.train_steps):
        step(next(iterator))
    int(gan.g_optimizer.iterations)  # the step runs asynchronously: reading a variable waits for it
    return args.train_steps * args.batch_size / (time.perf_counter() - start)


def rate_rows(source, image_size, args):
    print(f"\nbatches of {args.batch_size} from {source} at {image_size} px")
    print(f"{'what':<50}{'load s':>8}{'images/s':>11}")
    stream_load, streamed, stream_iterator = pipeline_rate(source, image_size, 0, args)
    print(f"{'kgan.data.load, streamed (memory_budget=0)':<50}{stream_load:>8.1f}{streamed:>11,.0f}", flush=True)
    memory_load, in_memory, memory_iterator = pipeline_rate(source, image_size, None, args)
    print(f"{'kgan.data.load, in memory':<50}{memory_load:>8.1f}{in_memory:>11,.0f}", flush=True)
    consumed = training_rate(memory_iterator, image_size, args)
    print(f"{'dcgan train step (tf.function), in-memory batches':<50}{'':>8}{consumed:>11,.1f}", flush=True)
    # the same step fed by the streamed batches: their decoding now shares the CPU with it
    fed = training_rate(stream_iterator, image_size, args)
    print(f"{'dcgan train step (tf.function), streamed batches':<50}{'':>8}{fed:>11,.1f}", flush=True)
    print(f"streaming serves {streamed:,.0f} img/s, training consumes {consumed:,.1f} img/s: "
          f"X/Y = {streamed / consumed:,.1f}× (goal: ≥ 2×)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="a real image source (folder, glob, .zip) for the peak RSS and images/s figures")
    parser.add_argument("--image-size", type=int, default=64, help="side the --data images are decoded to (default: 64)")
    parser.add_argument("--synthetic", type=int, default=0, metavar="N", help="also measure N generated 32×32 PNGs")
    parser.add_argument("--synthetic-size", type=int, default=32)
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "kgan-data-at-scale"),
                        help="folder for the synthetic images (kept and reused) and the runs' scratch folders")
    parser.add_argument("--code", action="append", metavar="LABEL=DIR",
                        help="a kgan checkout to measure peak RSS with (repeatable; default: this repository)")
    parser.add_argument("--memory-budget", metavar="SIZE", help="the budget that makes a run stream (default: half the decoded size)")
    parser.add_argument("--steps", type=int, default=20, help="training steps of each peak-RSS run (default: 20)")
    parser.add_argument("--width", type=int, help="the DCGAN's base width (default: the recipe's; 32 below 64 px)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--batches", type=int, default=100, help="batches timed per pipeline (default: 100)")
    parser.add_argument("--train-steps", type=int, default=10, help="train steps timed (default: 10)")
    parser.add_argument("--rss-only", action="store_true", help="only the peak-RSS figures")
    parser.add_argument("--rates-only", action="store_true", help="only the images/s figures")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    work = pathlib.Path(args.work)
    if args.quick:
        work = pathlib.Path(tempfile.mkdtemp(prefix="kgan-data-at-scale-"))
        args.data, args.synthetic, args.code = None, 256, None
        args.steps, args.width, args.batch_size, args.batches, args.train_steps = 2, 4, 16, 5, 2
    work.mkdir(parents=True, exist_ok=True)

    sources = [(args.data, args.image_size)] if args.data else []
    if args.synthetic:
        folder, seconds = synthetic_source(args.synthetic, args.synthetic_size, work)
        print(f"{args.synthetic:,} synthetic PNGs in {folder}" + (f" (written in {seconds:.0f} s)" if seconds else " (reused)"))
        sources.append((folder, args.synthetic_size))
    if not sources:
        parser.error("nothing to measure: give --data, --synthetic N or --quick")

    if not args.rates_only:
        print(f"peak RSS of `kgan train dcgan --epochs 1 --steps-per-epoch {args.steps} --no-monitor` (wall s includes the scan)")
        print(f"{'source':<30}{'code':<10}{'images':>9}{'decoded':>10}{'budget':>10}{'path':>11}{'peak RSS':>12}{'wall s':>8}")
        for source, image_size in sources:
            name = pathlib.Path(source).name[:29]
            memory_rows(name, source, image_size, args, work)
    if not args.rss_only:
        rate_rows(*sources[0], args)
    if args.quick:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
