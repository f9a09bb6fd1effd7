"""kgan's datasets: the embedded toy faces, the 2D toy distributions, and the TFDS builder `anime_faces`.

- `toy_faces` / `make_toy_dataset`: procedural cartoon faces with 576 known modes, the default data
  of `kgan train` (nothing to download); `decode_toy_faces` reads the attributes back from pixels, so
  mode coverage can be counted (`kgan.metrics.toy_face_modes`);
- `parallel_lines`, `ring_of_gaussians`, `grid_of_gaussians`, `mixture_dataset`: the book's 13.7 segments
  and the 13.6 mode-collapse lab's mixtures;
- `AnimeFaces`: importing this package registers the TFDS builder `anime_faces`.

Reading a user's files (folders, zips, prepared TFDS datasets) is `kgan.data`'s job.

## The TFDS builder

TFDS cannot download anime faces (copyrighted art, education and research only): put the book's
`faces.zip`, a 64×64 anime-faces zip, or a folder of images in a manual dir (zips are read in place),
then prepare it once, from Python:

    import tensorflow_datasets as tfds
    import kgan.datasets  # noqa: F401  (registers "anime_faces")

    splits = tfds.load(
        "anime_faces", data_dir="/data/tfds",
        download_and_prepare_kwargs={
            "download_config": tfds.download.DownloadConfig(manual_dir="/data/anime-manual"),
        },
    )
    train, test = splits["train"], splits["test"]
    # each element: {"image": uint8 (h, w, 3) at the file's own size, "filename": tf.string}

or with the TFDS command line (`--manual_dir` defaults to `<data_dir>/downloads/manual`):

    tfds build anime_faces --imports kgan.datasets --manual_dir /data/anime-manual --data_dir /data/tfds

(`tfds build path/to/kgan/datasets/anime_faces.py --manual_dir ... --data_dir ...` works too.)
The `tfds` program of tensorflow-datasets 4.9.x imports `apache_beam` and `mlcroissant` when it
starts, for its other commands. Without them, run TFDS's own build command through kgan, with exactly
the same arguments:

    python -m kgan.datasets build anime_faces --imports kgan.datasets \
        --manual_dir /data/anime-manual --data_dir /data/tfds

Once prepared, `tfds.load("anime_faces", data_dir="/data/tfds")` reads it with no manual dir. The
split is md5(filename) % 10 == 0 → test (`split_of`); files that could not be read are listed in
`tfds.builder("anime_faces", data_dir=...).info.metadata["skipped"]`.
"""

from kgan.datasets.anime_faces import AnimeFaces, split_of
from kgan.datasets.toy2d import (
    Mixture,
    grid_of_gaussians,
    mixture_dataset,
    parallel_lines,
    ring_of_gaussians,
    sample_mixture,
)
from kgan.datasets.toy_faces import (
    MIN_DECODE_SIZE, TOY_FACE_ATTRIBUTES, decode_toy_faces, make_toy_dataset, mode_index, num_modes, render_face,
    toy_faces,
)

__all__ = [
    "MIN_DECODE_SIZE", "TOY_FACE_ATTRIBUTES", "AnimeFaces", "Mixture", "decode_toy_faces", "grid_of_gaussians", "make_toy_dataset", "mixture_dataset",
    "mode_index", "num_modes", "parallel_lines", "render_face", "ring_of_gaussians", "sample_mixture", "split_of",
    "tfds_build", "toy_faces",
]


def tfds_build(argv=None):
    """`tfds build` without the rest of the TFDS CLI (so without apache_beam and mlcroissant): same code.

    `argv` is the command line after the program name (default: `sys.argv[1:]`); a leading "build" is
    accepted, so `tfds build X --flags` and `tfds_build(["build", "X", "--flags"])` are the same.
    """
    import sys

    from absl import app
    from absl import logging as absl_logging
    from tensorflow_datasets.scripts.cli import build, cli_utils

    if argv is None:
        argv = sys.argv[1:]
        sys.argv[0] = "tfds build"  # the program name argparse shows in usage and errors
    args = list(argv)
    if args[:1] == ["build"]:
        args = args[1:]
    parse = cli_utils.make_flags_parser(build.Args, description="tfds build (through kgan.datasets.tfds_build)")

    def main(parsed):
        # What `tfds`'s own main does before running a command: Python logging at INFO, written
        # through tqdm so that it does not break the progress bars.
        import logging

        import tensorflow_datasets as tfds

        absl_logging.use_python_logging(quiet=True)
        absl_logging.set_verbosity(absl_logging.INFO)
        handler = absl_logging.get_absl_handler().python_handler
        handler.setFormatter(logging.Formatter("{levelname}[{filename}]: {message}", style="{"))
        handler.setStream(tfds.core.utils.tqdm_utils.TqdmStream())
        parsed.execute()

    app.run(main, argv=["tfds build", *args], flags_parser=parse)
