"""The tricks catalogue, one trick at a time: what each does to a DCGAN at the same budget and seeds.

    # toy faces (mode coverage, decodable fraction, SWD against real toy faces)
    python benchmarks/ablate.py --data toy --image-size 32 --width 32 --steps 800 --seeds 0 1 --out runs/ablate-toy
    # real faces, scored on a held-out split with a trained feature encoder (SWD, KID, FD)
    kgan data split ../shared/data/anime-faces-64.zip --holdout 3000 --out splits
    kgan metrics train-features --data splits/anime-faces-64-train.zip --image-size 32 --out encoder32.keras
    python benchmarks/ablate.py --data splits/anime-faces-64-train.zip --holdout splits/anime-faces-64-holdout.zip \\
        --features encoder32.keras --image-size 32 --width 32 --steps 800 --seeds 0 1 --out runs/ablate-real

Every run trains `--base` (a recipe of the dcgan model) changed by one entry of `TRICKS` — same
networks, data, steps and seeds — through `kgan.run.train`, then scores the generator the run
samples from (its weight average when the trick keeps one). Rows already in `<out>/results.jsonl`
are not run again, so an interrupted ablation resumes. Prints a markdown table: each metric's mean
over the seeds, with the spread (max − min) after ±, the seconds per run (wall time: other work on
the machine slows it) and the health monitor's verdicts.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from kgan.datasets.toy_faces import toy_faces  # noqa: E402
from kgan.evaluate import evaluate, load_images  # noqa: E402
from kgan.latent import sampling_generator  # noqa: E402
from kgan.metrics.toy_face_modes import toy_face_modes  # noqa: E402
from kgan.recipes import Adam, PenaltyTerm, get_recipe  # noqa: E402
from kgan.run import RunConfig, generated_uint8, train  # noqa: E402

# One change each, named as the literature names it; `Recipe.override` keywords.
_LINEAR = dict(d_optimizer=Adam(2e-4, 0.5, decay="linear"), g_optimizer=Adam(2e-4, 0.5, decay="linear"))
TRICKS = {
    "base": {},
    "ema": {"ema": 0.999},
    "ttur": {"d_learning_rate": 4e-4, "g_learning_rate": 1e-4},
    "lr-decay": _LINEAR,
    "n-dis-2": {"n_critic": 2},
    "one-step": {"one_step": True},
    "hinge": {"loss": "hinge"},
    "lsgan": {"loss": "least_squares"},
    "ragan": {"loss": "ragan"},
    "label-smoothing": {"label_smoothing": 0.1},
    "instance-noise": {"instance_noise": 0.1},
    "r1": {"add_penalties": {"r1": PenaltyTerm("r1", 1.0, every=4)}},
    "dragan": {"add_penalties": {"dragan": PenaltyTerm("dragan", 10.0)}},
    "bcr": {"add_penalties": {"bcr": PenaltyTerm("consistency", 10.0, {"augment": "translation"})}},
    "lecam": {"add_penalties": {"lecam": PenaltyTerm("lecam", 0.1)}},
    "diffaugment": {"augment": "diffaugment"},
    "ada": {"augment": "ada"},
    "sn": {"discriminator": {"spectral_norm": True, "norm": None}},
    "mbstd": {"discriminator": {"minibatch": "mbstd"}},
    "resize-conv": {"generator": {"upsample": "resize"}},
    "pixel-norm": {"generator": {"norm": "pixel"}},
}


def score(args, generator, real, features):
    """The metrics of one generator: toy faces → modes, decodable fraction, SWD; real faces → SWD, KID, FD."""
    generated = generated_uint8(generator, args.n, seed=12345)  # not the training seed
    if args.data == "toy":
        modes = toy_face_modes(generated) if args.image_size >= 32 else None
        swd = evaluate(real, generated, ("swd",)).scores["swd"]
        return {"modes": modes.modes_covered if modes else None,
                "decodable": modes.decoded_fraction if modes else None, "swd": swd}
    return evaluate(real, generated, ("swd", "kid", "fd"), features=features).scores


def run_one(args, name, seed, base, real, features):
    recipe = base.override(**TRICKS[name])
    out = os.path.join(args.out, f"{name}-s{seed}")
    steps_per_epoch = args.steps // args.epochs
    config = RunConfig(
        model="dcgan", recipe=recipe, data=None if args.data == "toy" else args.data, image_size=args.image_size,
        width=args.width, epochs=args.epochs, steps_per_epoch=steps_per_epoch, seed=seed, out=out, verbose=0,
        backup_every=10**9,
    )
    start = time.perf_counter()
    result = train(config)
    seconds = time.perf_counter() - start
    scores = score(args, sampling_generator(result.gan), real, features)
    return {"trick": name, "seed": seed, "steps": result.total_steps, "seconds": round(seconds, 1),
            "verdict": result.verdict, **scores}


def table(rows, names):
    metrics = [key for key in ("modes", "decodable", "swd", "kid", "fd") if any(row.get(key) is not None for row in rows)]
    lines = ["| trick | seeds | " + " | ".join(metrics) + " | s/run | monitor |", "|---" * (len(metrics) + 4) + "|"]
    for name in names:
        group = [row for row in rows if row["trick"] == name]
        if not group:
            continue
        cells = []
        for metric in metrics:
            values = np.array([row[metric] for row in group if row.get(metric) is not None], float)
            if values.size == 0:
                cells.append("–")
                continue
            digits = 3 if metric == "decodable" else (0 if metric == "modes" else 2)
            spread = values.max() - values.min()
            cells.append(f"{values.mean():.{digits}f} ± {spread:.{digits}f}" if len(values) > 1 else f"{values[0]:.{digits}f}")
        healthy = sum(str(row["verdict"]).startswith("healthy") for row in group)
        seconds = np.mean([row["seconds"] for row in group])
        lines.append(f"| {name} | {len(group)} | " + " | ".join(cells) + f" | {seconds:.0f} | {healthy}/{len(group)} healthy |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="toy", help="'toy' (embedded toy faces) or the training images (zip, folder)")
    parser.add_argument("--holdout", help="real images to score against (real faces; never trained on)")
    parser.add_argument("--features", help="feature encoder for KID / FD (kgan metrics train-features)")
    parser.add_argument("--base", default="dcgan", help="the dcgan recipe every trick changes (default: dcgan)")
    parser.add_argument("--tricks", default=",".join(TRICKS), help="comma-separated names of TRICKS (default: all)")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--steps", type=int, default=800, help="generator steps per run")
    parser.add_argument("--epochs", type=int, default=4, help="sample grids per run (the steps are split into epochs)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--n", type=int, default=1000, help="images per side for the scores")
    parser.add_argument("--out", default="runs/ablate")
    parser.add_argument("--quick", action="store_true", help="two tricks, width 4, 4 steps, n 64: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.tricks, args.width, args.steps, args.epochs, args.n = "base,ema", 4, 4, 2, 64

    names = [name.strip() for name in args.tricks.split(",") if name.strip()]
    unknown = sorted(set(names) - set(TRICKS))
    if unknown:
        parser.error(f"unknown tricks {unknown}; choose from {sorted(TRICKS)}")
    if args.data != "toy" and not (args.holdout and args.features):
        parser.error("real faces need --holdout (images never trained on) and --features (a trained encoder)")
    base = get_recipe("dcgan", args.base)
    if args.data == "toy":
        real, _ = toy_faces(args.n, image_size=args.image_size, seed=999)  # not the training faces' seed
        features = None
    else:
        real, _, _ = load_images(args.holdout, n=args.n, image_size=args.image_size)
        features = args.features
    os.makedirs(args.out, exist_ok=True)
    log = os.path.join(args.out, "results.jsonl")
    rows = [json.loads(line) for line in open(log)] if os.path.exists(log) else []
    done = {(row["trick"], row["seed"]) for row in rows}
    for seed in args.seeds:
        for name in names:
            if (name, seed) in done:
                continue
            row = run_one(args, name, seed, base, real, features)
            print(json.dumps(row), flush=True)
            rows.append(row)
            with open(log, "a") as file:
                file.write(json.dumps(row) + "\n")
    print(f"\n{args.data} at {args.image_size} px, width {args.width}, {args.steps} generator steps, "
          f"seeds {args.seeds}, base recipe {args.base!r}, n = {args.n}:\n")
    print(table([row for row in rows if row["seed"] in args.seeds], names))


if __name__ == "__main__":
    main()
