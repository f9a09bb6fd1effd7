"""tf.distribute: a step on a global batch over 2 replicas equals the same step on one device (the
generator's weight average included); replicas draw different noise; two MultiWorkerMirroredStrategy workers on 127.0.0.1 end with identical weights.

Logical CPU devices must be set up before TensorFlow starts, so each case runs in a fresh process."""

import json
import socket
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import ROOT, subprocess_env

EQUIVALENCE = r"""
import json, sys
import numpy as np
import kgan
strategy = kgan.distribute.get_strategy("cpu:2")
import keras, tensorflow as tf
from kgan.layers import SpectralNormalization as SN
from kgan.penalties import gradient_penalty

MODEL, B, LATENT = sys.argv[1], 8, 4
N_CRITIC = 2 if MODEL == "wgan-gp" else 1
rng = np.random.default_rng(0)
REAL = rng.uniform(-1, 1, (B, N_CRITIC, 8, 8, 3)).astype("float32") if N_CRITIC > 1 else rng.uniform(-1, 1, (B, 8, 8, 3)).astype("float32")
Z = rng.normal(size=(N_CRITIC + 1, B, LATENT)).astype("float32")  # one table per draw of the step
T = rng.uniform(size=(N_CRITIC, B)).astype("float32")             # interpolation weights per critic update

def replica_id():
    return tf.distribute.get_replica_context()._replica_id_in_sync_group  # a Python int while tracing

def rows(table, batch):  # this replica's share of a global table, in the order the batch is split
    return table[replica_id() * batch:(replica_id() + 1) * batch]

Base = kgan.WGANGP if MODEL == "wgan-gp" else kgan.DCGAN
CLASSES = 3 if MODEL == "acgan" else None
LABELS = rng.integers(0, 3, B).astype("int32")        # the real batch's classes
G_LABELS = rng.integers(0, 3, B).astype("int32")      # the classes of the G update's fakes

class FixedNoise(Base):
    # Each replica traces train_step once; count its draws to pick the table.
    def sample_latent(self, batch_size):
        draws = self.__dict__.setdefault("_draws", {})
        index = draws.get(replica_id(), 0)
        draws[replica_id()] = index + 1
        return tf.constant(rows(Z[index], batch_size))

    def sample_labels(self, batch_size):
        return tf.constant(rows(G_LABELS, batch_size))

def fixed_gp(critic, real, fake, *, seed=None, step=None):
    calls = fixed_gp.__dict__.setdefault("calls", {})
    index = calls.get(replica_id(), 0)
    calls[replica_id()] = index + 1
    return gradient_penalty(critic, real, fake, t=tf.constant(rows(T[index], real.shape[0])))

def build():
    keras.utils.set_random_seed(0)
    body = [keras.layers.Dense(64, activation="relu"), keras.layers.Reshape((4, 4, 4)),
            SN(keras.layers.Conv2DTranspose(3, 4, 2, "same")), keras.layers.Activation("tanh")]
    if CLASSES:  # AC-GAN: G takes [z, labels], D names the class in 3 more columns
        z, y = keras.Input((LATENT,)), keras.Input((), dtype="int32")
        x = keras.layers.Concatenate()([z, keras.layers.Embedding(CLASSES, 2, name="class_embedding")(y)])
        for layer in body:
            x = layer(x)
        g = keras.Model([z, y], x, name="g")
    else:
        g = keras.Sequential([keras.Input((LATENT,)), *body], name="g")
    d = keras.Sequential([keras.Input((8, 8, 3)), SN(keras.layers.Conv2D(4, 4, 2, "same")), keras.layers.LeakyReLU(0.2),
                          keras.layers.Flatten(), SN(keras.layers.Dense(1 + (CLASSES or 0)))], name="d")
    options = {"n_critic": N_CRITIC} if MODEL == "wgan-gp" else {}
    if CLASSES:
        options.update(num_classes=CLASSES, conditioning="acgan")
    gan = FixedNoise(g, d, seed=0, ema_decay=0.5, **options)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1),
                penalties={"gp": (10.0, fixed_gp)} if MODEL == "wgan-gp" else None)
    return gan

def one_step(gan):
    fixed_gp.calls = {}
    gan.fit(tf.data.Dataset.from_tensors((REAL, LABELS) if CLASSES else REAL), epochs=1, verbose=0)
    return [w.numpy().tolist() for w in gan.generator.trainable_weights + gan.discriminator.trainable_weights + gan.ema_weights]

single = one_step(build())
with strategy.scope():
    mirrored_gan = build()
mirrored = one_step(mirrored_gan)
before = [w.numpy() for w in build().generator.trainable_weights + build().discriminator.trainable_weights]

def per_replica_z():
    return strategy.run(lambda: kgan.GAN.sample_latent(mirrored_gan, 3))
z = strategy.experimental_local_results(tf.function(per_replica_z)())
print(json.dumps({"replicas": strategy.num_replicas_in_sync, "single": single, "mirrored": mirrored,
                  "moved": float(max(np.abs(np.array(a) - b).max() for a, b in zip(single, before))),
                  "z0": z[0].numpy().tolist(), "z1": z[1].numpy().tolist()}))
"""


def run_script(script, *argv, env=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-c", script, *argv], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env=env or subprocess_env(),
    )


@pytest.mark.parametrize("model", ["dcgan", "wgan-gp", "acgan"])
def test_two_replicas_equal_one_device_and_draw_different_noise(model):
    result = run_script(EQUIVALENCE, model)
    assert result.returncode == 0, result.stderr[-4000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["replicas"] == 2
    assert out["moved"] > 1e-3  # the step really changed the weights
    for single, mirrored in zip(out["single"], out["mirrored"]):
        np.testing.assert_allclose(mirrored, single, rtol=1e-5, atol=1e-6)
    assert not np.allclose(out["z0"], out["z1"])  # each replica draws its own z


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_two_workers(tmp_path, *extra):
    """`kgan train dcgan` on two MultiWorkerMirroredStrategy workers on 127.0.0.1, each with its own run folder."""
    ports = [free_port(), free_port()]
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    workers = []
    for index in range(2):
        env = dict(subprocess_env(), TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        command = [
            sys.executable, "-m", "kgan.cli", "train", "dcgan", "--strategy", "multiworker", "--epochs", "1",
            "--steps-per-epoch", "3", "--batch-size", "8", "--image-size", "16", "--width", "4", "--latent-dim", "8",
            "--toy-images", "32", "--sync-bn", "--out", str(tmp_path / f"worker{index}"), *extra,
        ]
        workers.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        outputs = [worker.communicate(timeout=300) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    return [(worker.returncode, stdout, stderr) for worker, (stdout, stderr) in zip(workers, outputs)]


def test_multi_worker_mirrored_two_local_workers_end_identical_and_must_agree_to_resume(tmp_path):
    for returncode, stdout, stderr in run_two_workers(tmp_path):
        assert returncode == 0, stderr[-4000:]
        assert "3 generator steps in all" in stdout
    # each worker keeps its own run folder (worker 1's in <out>/worker-1), so a shared --out would do too
    assert (tmp_path / "worker1" / "worker-1" / "backup" / "backup.weights.h5").is_file()
    assert not (tmp_path / "worker0" / "worker-0").exists()

    import keras

    import kgan  # noqa: F401

    a, b = (keras.models.load_model(tmp_path / folder / "gan.keras") for folder in ("worker0", "worker1/worker-1"))
    # every weight, BatchNorm's moving statistics included (synchronized BN: one set of statistics)
    for x, y in zip(a.weights, b.weights):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=x.path)
    assert a.generator_steps == b.generator_steps == 3

    # worker 1 lost its backup: the chief would go on from step 3, worker 1 from 0 — both stop, saying why
    for name in ("backup.weights.h5", "backup.previous.weights.h5"):
        (tmp_path / "worker1" / "worker-1" / "backup" / name).unlink(missing_ok=True)
    for returncode, _, stderr in run_two_workers(tmp_path, "--resume", "--epochs", "2"):
        assert returncode == 1, stderr[-4000:]
        assert "disagree on the restored backup step: from 0 to 3" in stderr and "Traceback" not in stderr
