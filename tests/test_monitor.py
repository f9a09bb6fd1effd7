"""The health monitor: each check fires with its sentence on a run broken that way, and stays quiet on a healthy run."""

import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan.callbacks import StepBackup
from kgan.monitor import GANMonitor, image_diversity
from tests.helpers import IMAGE_SIZE, LATENT_DIM
from tests.test_latent import StandIn, conditional_generator


def toy_stream(seed=0, batch_size=16):
    return kgan.datasets.make_toy_dataset(batch_size, num_images=512, image_size=IMAGE_SIZE, seed=seed, repeat=True)


def quiet_monitor(**options):
    said = []
    options = {"window": 50, "probe_every": 25, "probe_size": 32, "say": said.append, **options}
    return GANMonitor(**options), said


def tiny_dcgan(make_gan, d_rate=2e-4, g_rate=2e-4, **options):
    optimizers = {"d_optimizer": keras.optimizers.Adam(d_rate, 0.5), "g_optimizer": keras.optimizers.Adam(g_rate, 0.5)}
    return make_gan(compile_options=optimizers, **options)


# ---------------------------------------------------------------- live runs
def test_quiet_on_a_healthy_tiny_run(make_gan):
    gan = tiny_dcgan(make_gan)
    monitor, said = quiet_monitor()
    gan.fit(toy_stream(), steps_per_epoch=200, epochs=1, verbose=0, callbacks=[monitor])
    assert monitor.findings == [] and said == []
    assert monitor.verdict().startswith("healthy")
    assert len(monitor.probes) == 8


def test_d_wins_fires_when_the_discriminator_learns_50_times_faster(make_gan):
    gan = tiny_dcgan(make_gan, d_rate=50 * 2e-4)
    monitor, said = quiet_monitor()
    gan.fit(toy_stream(), steps_per_epoch=150, epochs=1, verbose=0, callbacks=[monitor])
    checks = [finding.check for finding in monitor.findings]
    assert "d_wins" in checks
    finding = monitor.findings[checks.index("d_wins")]
    assert finding.values["d_real"] - finding.values["d_fake"] > 0.8
    assert "the discriminator is winning" in finding.message and "likely cause: D learns faster than G" in finding.message
    assert finding.message.count("--learning-rate") == 1 and "kgan train wgan-gp" in finding.message  # two remedies
    assert said == [f"kgan monitor: {f.message}" for f in monitor.findings]
    assert monitor.verdict().startswith("unhealthy: D won (from step")


class Gate(keras.layers.Layer):
    """Multiplies z by a non-trainable scalar: set it to 0 and every code gives the same image."""

    def build(self, input_shape):
        self.open = self.add_weight(shape=(), initializer="ones", trainable=False, name="open")

    def call(self, z):
        return z * self.open


def test_lost_diversity_fires_when_the_generator_collapses_mid_run(make_gan):
    inner = make_gan(compile=False)
    z = keras.Input((LATENT_DIM,))
    gate = Gate()
    generator = keras.Model(z, inner.generator(gate(z)))
    gan = kgan.DCGAN(generator, inner.discriminator, seed=0)
    gan.compile()
    collapse = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: gate.open.assign(0.0) if gan.generator_steps == 100 else None
    )
    monitor, _ = quiet_monitor()
    gan.fit(toy_stream(), steps_per_epoch=150, epochs=1, verbose=0, callbacks=[collapse, monitor])
    collapsed = [finding for finding in monitor.findings if finding.check == "mode_collapse"]
    assert [finding.step for finding in collapsed] == [100]  # the probe right after the collapse, once
    assert "the samples lost their diversity" in collapsed[0].message
    assert collapsed[0].values["ratio"] == pytest.approx(0.0, abs=1e-6)
    assert "the samples lost their diversity (from step 100)" in monitor.verdict()


def test_nan_stops_the_run_at_once_and_names_the_last_good_backup(make_gan, tmp_path):
    def breaks_at_step_30(discriminator, real, fake, *, seed, step):
        return tf.where(step >= 30, tf.constant(math.nan), tf.constant(0.0))

    gan = make_gan(compile_options={"penalties": {"trap": (1.0, breaks_at_step_30)}})
    backup = tmp_path / "backup"
    monitor, _ = quiet_monitor(log_path=str(tmp_path / "monitor.jsonl"), backup_dir=str(backup))
    gan.fit(toy_stream(), steps_per_epoch=100, epochs=1, verbose=0,
            callbacks=[monitor, StepBackup(str(backup), every_n_steps=10)])
    assert gan.generator_steps == 31  # the step that went NaN, and no further
    (finding,) = monitor.findings
    assert finding.check == "non_finite" and finding.step == 31
    assert "became nan and training stopped; the last good backup is step 30" in finding.message
    assert "--resume" in finding.message
    assert json.loads((backup / "backup.json").read_text())["step"] == 30
    restored = make_gan(seed=1)
    StepBackup.restore(restored, backup)
    assert all(np.all(np.isfinite(w.numpy())) for w in restored.weights)
    lines = [json.loads(line) for line in (tmp_path / "monitor.jsonl").read_text().splitlines()]
    findings = [line for line in lines if "check" in line]  # beside them: the diversity probes, read back on resume
    assert [line["step"] for line in lines if "probe" in line] == [25]  # probe_every=25; step 31 went NaN
    assert findings[0]["check"] == "non_finite" and lines[-1]["verdict"].startswith("unhealthy: training hit NaN/Inf")


def test_stop_on_failure_ends_the_run_at_the_first_failure(make_gan):
    gan = tiny_dcgan(make_gan, d_rate=50 * 2e-4)
    monitor, _ = quiet_monitor(stop_on_failure=True)
    gan.fit(toy_stream(), steps_per_epoch=150, epochs=1, verbose=0, callbacks=[monitor])
    assert gan.generator_steps == monitor.findings[0].step < 150


# ---------------------------------------------------------------- log checks on synthetic logs
def feed(monitor, gan, values):
    """Hand the monitor per-step values (name → list) as Keras does: running means over the epoch."""
    monitor.set_model(gan)
    monitor.on_epoch_begin(0)
    sums = {}
    for step in range(len(next(iter(values.values())))):
        gan.step_counter.assign(step + 1)
        logs = {}
        for name, series in values.items():
            sums[name] = sums.get(name, 0.0) + series[step]
            logs[name] = sums[name] / (step + 1)
        monitor.on_train_batch_end(step, logs)


def steady(n, **overrides):
    values = {"d_loss": 1.2, "g_loss": 0.9, "d_real": 0.6, "d_fake": 0.4, "d_grad_norm": 3.0, "g_grad_norm": 2.0}
    return {name: list(np.full(n, value, np.float64)) for name, value in {**values, **overrides}.items()}


def test_exploding_gradients_fire_on_a_held_norm_not_on_one_spike(make_gan):
    gan = make_gan()
    values = steady(120)
    values["g_grad_norm"][60] = 5000.0  # one spike: not an explosion
    values["d_grad_norm"][100:] = [400.0] * 20  # held above 100 for 20 steps
    monitor, _ = quiet_monitor(probe_every=None)
    feed(monitor, gan, values)
    (finding,) = monitor.findings
    assert finding.check == "exploding_gradients" and finding.step == 110  # window 50 → held for 10 steps
    assert "the discriminator's gradient norm has been 400 (above 100) for the last 10 steps" in finding.message


def test_oscillation_fires_on_swinging_losses_and_not_on_noise(make_gan):
    gan = make_gan()
    rng = np.random.default_rng(0)
    steps = np.arange(200)
    swinging = steady(200, d_loss=list(1.0 + 0.8 * np.sin(2 * np.pi * steps / 25) + 0.05 * rng.normal(size=200)))
    noisy = steady(200, d_loss=list(1.0 + 0.3 * rng.normal(size=200)))
    monitor, _ = quiet_monitor(probe_every=None)
    feed(monitor, gan, swinging)
    assert [finding.check for finding in monitor.findings] == ["oscillation"]
    assert "the D loss oscillates" in monitor.findings[0].message
    monitor, _ = quiet_monitor(probe_every=None)
    feed(monitor, gan, noisy)
    assert monitor.findings == []


def test_d_wins_is_not_checked_for_a_wasserstein_critic(make_gan):
    gan = make_gan("wgan-gp", n_critic=1)
    monitor, _ = quiet_monitor(probe_every=None)
    feed(monitor, gan, steady(60, d_real=5.0, d_fake=-5.0, d_loss=-10.0))  # scores, not probabilities
    assert monitor.findings == []


def test_image_diversity_is_the_mean_pairwise_distance_of_thumbnails():
    a = np.full((1, 16, 16, 3), -0.5, np.float32)
    b = np.full((1, 16, 16, 3), 0.25, np.float32)
    # constant images: thumbnails 8×8×3 differ by 0.75 everywhere
    assert image_diversity(np.concatenate([a, b])) == pytest.approx(0.75 * math.sqrt(8 * 8 * 3))
    assert image_diversity(np.concatenate([a, a, a])) == pytest.approx(0.0)
    # two independent noise textures of the same grey are far apart pixel by pixel, close as thumbnails
    noise = np.random.default_rng(0).normal(0.0, 0.3, (2, 64, 64, 3)).astype(np.float32)
    pixels_apart = np.linalg.norm(noise[0] - noise[1])
    assert image_diversity(noise) < 0.1 * pixels_apart


def test_a_resumed_monitor_reads_back_its_findings_and_probes_up_to_the_step(tmp_path):
    log = tmp_path / "monitor.jsonl"
    d_wins = {"step": 120, "check": "d_wins", "message": "Step 120: D won", "values": {"d_real": 0.99}}
    grads = {"step": 130, "check": "exploding_gradients", "message": "Step 130: …", "values": {"network": "generator"}}
    later = {"step": 300, "check": "oscillation", "message": "Step 300: …", "values": {}}
    probes = [{"step": 100, "probe": {"diversity": 4.0, "modes": None}}, {"step": 250, "probe": {"diversity": 9.0, "modes": None}}]
    log.write_text("".join(json.dumps(record) + "\n" for record in [probes[0], d_wins, grads, probes[1], later]))
    monitor, _ = quiet_monitor(log_path=str(log))
    monitor.resume(200, {"d_loss": [0.5] * 250})
    assert [(finding.step, finding.check) for finding in monitor.findings] == [(120, "d_wins"), (130, "exploding_gradients")]
    assert monitor.probes == [(100, 4.0, None)]  # the probe of step 250 is after the resumed step: it runs again
    assert monitor._active == {"d_wins": 120, "exploding_gradients:generator": 130}  # not reported twice
    assert len(monitor._steps.history["d_loss"]) == 200
    assert monitor.verdict() == "unhealthy: D won (from step 120) and gradients exploded (from step 130)"


def test_the_probe_draws_a_conditional_generator_with_fixed_seeded_classes():
    from kgan.latent import class_labels, generate, sample_latent

    generator = conditional_generator(num_classes=3, latent_dim=8, image_size=8)
    monitor, _ = quiet_monitor(probe_size=12, seed=4)
    monitor.set_model(StandIn(generator, generator_steps=25))
    monitor.on_train_begin()
    monitor.probe(25)
    classes = class_labels(12, 3, 4)
    assert len(set(classes.numpy())) > 1  # random classes, not one
    expected = image_diversity(generate(generator, sample_latent(12, 8, 4), classes).numpy())
    assert monitor.probes == [(25, pytest.approx(expected, rel=1e-5), None)]
    one_class = image_diversity(generate(generator, sample_latent(12, 8, 4), 0).numpy())
    assert abs(expected - one_class) > 0.01 * expected  # the classes are part of what the probe measures
