"""`GANMonitor`: is this run healthy? Checked live, from the step logs and a cheap probe, in plain sentences.

GAN losses do not fall to say "it works", so users of every GAN library ask the same questions: is
it collapsing, is D winning, when do I stop? The monitor watches for the failures the GAN-tricks
literature names (Salimans et al. 2016; Chintala's ganhacks; Arjovsky & Bottou 2017; Mescheder et
al. 2018) and says each one in a sentence: what is happening, the likely cause, and two remedies
kgan offers.

- **D wins** (`d_wins`): over a window of steps D gives real images ≈ 1 and fakes ≈ 0, its loss → 0;
  the generator's gradients starve (Arjovsky & Bottou 2017). Only for trainers whose `d_real` /
  `d_fake` are probabilities (BCE GANs), not for a Wasserstein critic.
- **Exploding gradients** (`exploding_gradients`): a network's gradient norm (`d_grad_norm`,
  `g_grad_norm`, logged by every kgan trainer) stays above `grad_norm_limit` (100, as the tricks
  surveys put it).
- **Lost diversity** (`mode_collapse`): every `probe_every` steps the generator draws a fixed z batch
  (a conditional generator with fixed classes too, `kgan.latent.class_labels(probe_size, K, seed)`);
  the mean pairwise distance of its samples (on 8 × 8 thumbnails, so pixel noise does not count as
  variety) falls below `collapse_ratio` of its best value so far — and, on toy faces, the number of
  distinct face modes in the batch (`kgan.metrics.toy_face_modes`) falls the same way.
- **Oscillation** (`oscillation`): the smoothed D loss swings widely and repeatedly instead of settling.
- **NaN / Inf** (`non_finite`): a logged value is not finite. Training stops at once (the last backup,
  written before the step, is still good) and the sentence says how to resume.

Findings go to the console and, one JSON object per line, to `log_path` (for headless runs); the
run's `verdict()` sums them up. With `stop_on_failure`, any finding except oscillation stops the run.
"""

import dataclasses
import json
import math
import os

import keras
import numpy as np

from kgan.callbacks import StepBackup, StepHistory, read_jsonl
from kgan.images import to_uint8
from kgan.latent import class_labels, generate, generator_classes, sample_latent
from kgan.metrics.toy_face_modes import toy_face_modes
from kgan.trainers import GAN

__all__ = ["CHECKS", "Finding", "GANMonitor", "image_diversity"]

# What each check means and the remedies kgan offers today, in the words a finding uses.
CHECKS = {
    "non_finite": {
        "what": "{name} became {value} and training stopped; the last good backup is {backup}",
        "cause": "usually a learning rate too high for the nets, or a loss that took the log of 0",
        "remedies": "resume from that backup with a lower rate ({resume} --learning-rate {lower_rate:g}), "
        "or train WGAN-GP, whose gradient penalty keeps the critic's gradients bounded (kgan train wgan-gp)",
    },
    "d_wins": {
        "what": "the discriminator is winning: over the last {window} steps it gives real images {d_real:.2f} and "
        "fakes {d_fake:.2f} (D loss {d_loss:.3f}), so the generator's gradients starve",
        "cause": "D learns faster than G",
        "remedies": "lower the learning rate (--learning-rate {lower_rate:g}); keep D smooth with an R1 penalty "
        "(--penalty r1:1:every=4) or stop it memorising the data with DiffAugment (--augment diffaugment); or "
        "train WGAN-GP (kgan train wgan-gp), whose critic gives useful gradients even when it wins",
    },
    "exploding_gradients": {
        "what": "the {network}'s gradient norm has been {norm:.0f} (above {limit:g}) for the last {steps} steps",
        "cause": "a learning rate too high or a {network} without a bound on its slope",
        "remedies": "lower the learning rate (--learning-rate {lower_rate:g}); bound D's slope with an R1 penalty "
        "(--penalty r1:1:every=4); or train WGAN-GP, whose gradient penalty holds the critic's gradient norm "
        "near 1 (kgan train wgan-gp)",
    },
    "mode_collapse": {
        "what": "the samples lost their diversity: a fixed batch of codes now gives images {ratio:.0%} as varied "
        "as at step {best_step}{modes}",
        "cause": "the generator found a few outputs that fool D and maps most codes to them (mode collapse)",
        "remedies": "lower the learning rate (--learning-rate {lower_rate:g}); let D see batch statistics (a recipe "
        "with discriminator={{'minibatch': 'mbstd'}}) or regularise it (--penalty r1:1:every=4); or train WGAN-GP "
        "(kgan train wgan-gp), whose loss keeps rewarding G for covering the data",
    },
    "oscillation": {
        "what": "the D loss oscillates: its smoothed value swung between {low:.2f} and {high:.2f} {crossings} times "
        "in the last {steps} steps instead of settling",
        "cause": "the two players overshoot each other, typically from learning rates too high for Adam's momentum",
        "remedies": "lower the learning rate (--learning-rate {lower_rate:g}); damp it with an R1 penalty "
        "(--penalty r1:1:every=4) and sample from a weight average (--ema 0.999); or train WGAN-GP "
        "(kgan train wgan-gp)",
    },
}
# Oscillation only warns; every other finding stops a run that asked to stop on failure.
FAILURES = ("non_finite", "d_wins", "exploding_gradients", "mode_collapse")


@dataclasses.dataclass(frozen=True)
class Finding:
    """One thing the monitor noticed: the step, the check's name, its sentence and the numbers behind it."""

    step: int
    check: str
    message: str
    values: dict

    @property
    def failure(self):
        return self.check in FAILURES

    def to_json(self):
        return json.dumps({"step": self.step, "check": self.check, "message": self.message, "values": self.values})


def image_diversity(images, thumbnail=8):
    """Mean pairwise L2 distance between `images` (N, H, W, C) in [-1, 1], on `thumbnail`-pixel averages.

    Averaging down to thumbnails first makes the measure about layout and colour, so a batch of
    near-identical noise textures counts as *not* diverse (per-pixel noise alone would make any two
    images far apart).
    """
    images = np.asarray(images, np.float32)
    n, height, width, channels = images.shape
    factor_h, factor_w = max(1, height // thumbnail), max(1, width // thumbnail)
    small = images[:, : factor_h * (height // factor_h), : factor_w * (width // factor_w)]
    small = small.reshape(n, height // factor_h, factor_h, width // factor_w, factor_w, channels).mean(axis=(2, 4))
    flat = small.reshape(n, -1).astype(np.float64)
    squared = np.sum(flat**2, axis=1)
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * flat @ flat.T, 0.0))
    return float(distances[np.triu_indices(n, 1)].mean()) if n > 1 else 0.0


class GANMonitor(keras.callbacks.Callback):
    """Watch a GAN's training for the classic failures and say each in one plain sentence.

    Args:
        log_path: JSONL file for findings and the verdict (None: console only).
        window: steps the log checks average over (D wins, exploding gradients, oscillation).
        warmup: steps before D wins and oscillation are checked: D leads early in most healthy runs.
        probe_every: steps between diversity probes of the generator (0 or None: no probe).
        probe_size: codes in the fixed probe batch (drawn with `kgan.latent.sample_latent(…, seed)`).
        seed: seed of the probe's codes.
        toy_faces: the data are kgan's toy faces: also count distinct face modes in each probe.
        grad_norm_limit: a gradient norm above this, held for a fifth of the window, is exploding.
        d_wins_gap: D wins when mean(d_real) − mean(d_fake) over the window exceeds this (≈ D accuracy 100 %).
        collapse_ratio: diversity below this fraction of its best so far is lost diversity.
        stop_on_failure: stop training at any finding but oscillation (NaN/Inf always stops).
        resume_command: the command that resumes this run, quoted in a NaN finding's remedy.
        backup_dir: the run's `StepBackup` folder, whose step a NaN finding names.
        learning_rate: the run's learning rate, so remedies can name a lower one.
        say: where sentences go (default `print`).
    """

    def __init__(
        self, log_path=None, *, window=50, warmup=100, probe_every=50, probe_size=64, seed=0, toy_faces=False,
        grad_norm_limit=100.0, d_wins_gap=0.8, collapse_ratio=0.5, stop_on_failure=False,
        resume_command="kgan train ... --resume", backup_dir=None, learning_rate=None, say=print,
        verdict_at_train_end=True,
    ):
        super().__init__()
        self.log_path = log_path
        self.window = int(window)
        self.warmup = int(warmup)
        self.probe_every = probe_every
        self.probe_size = int(probe_size)
        self.seed = seed
        self.toy_faces = toy_faces
        self.grad_norm_limit = float(grad_norm_limit)
        self.d_wins_gap = float(d_wins_gap)
        self.collapse_ratio = float(collapse_ratio)
        self.stop_on_failure = stop_on_failure
        self.resume_command = resume_command
        self.backup_dir = backup_dir
        self.learning_rate = learning_rate
        self.say = say
        self.verdict_at_train_end = verdict_at_train_end
        self.findings = []
        self.probes = []  # (step, diversity, distinct toy-face modes or None)
        self._steps = StepHistory()
        self._active = {}  # check → last step it fired: reported once, again only after a clear window
        self._z = None
        self._labels = None  # a conditional generator's probe classes

    # ------------------------------------------------------------ callback hooks
    def set_model(self, model):
        super().set_model(model)
        self._steps.set_model(model)

    def on_train_begin(self, logs=None):
        if self._z is None and self.probe_every:
            self._z = sample_latent(self.probe_size, self.model.latent_dim, self.seed)
            num_classes = generator_classes(self.model.generator)
            if num_classes is not None:  # random classes: diversity across them counts, as the data has it
                self._labels = class_labels(self.probe_size, num_classes, self.seed)

    def on_epoch_begin(self, epoch, logs=None):
        self._steps.on_epoch_begin(epoch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._steps.on_train_batch_end(batch, logs)
        step = self._step()
        self.check_logs(step)
        if self.probe_every and step % self.probe_every == 0 and not self.model.stop_training:
            self.probe(step)

    def on_train_end(self, logs=None):
        if self.verdict_at_train_end:
            self.write_verdict()

    def write_verdict(self):
        """Append the verdict to the log (at the end of each `fit`, or once by a caller that fits in parts)."""
        if self.log_path:
            self._write({"verdict": self.verdict(), "step": self._step()})

    def resume(self, step, history):
        """Go on from `step` of an interrupted run, as if it had watched the steps before it.

        `history` is the run's per-step record (`StepHistory.history`) up to `step`; the findings and
        diversity probes of those steps are read back from the log, so a warning is not repeated and
        the collapse check still compares with the best probe of the whole run.
        """
        self._steps.history = {name: list(values[:step]) for name, values in history.items()}
        if not (self.log_path and os.path.exists(self.log_path)):
            return
        for record in read_jsonl(self.log_path, until_step=step):
            if "check" in record:
                finding = Finding(record["step"], record["check"], record["message"], record.get("values", {}))
                self.findings.append(finding)
                network = finding.values.get("network")
                self._active[f"{finding.check}:{network}" if network else finding.check] = finding.step
            elif "probe" in record:
                self.probes.append((record["step"], record["probe"]["diversity"], record["probe"]["modes"]))

    # ------------------------------------------------------------ checks
    def _step(self):
        steps = getattr(self.model, "generator_steps", None)
        return int(steps) if steps is not None else sum(1 for _ in self._steps.history.get("d_loss", []))

    def _recent(self, name, steps=None):
        values = self._steps.history.get(name, [])
        return np.asarray(values[-(steps or self.window) :], np.float64)

    def check_logs(self, step):
        """Run the log checks on the values recorded so far (called after every step)."""
        history = self._steps.history
        for name, values in history.items():
            if values and not math.isfinite(values[-1]):
                self._report(step, "non_finite", name=name, value=values[-1], stop=True)
                return
        if len(history.get("d_loss", [])) < self.window:
            return
        self._check_gradients(step)
        if step >= self.warmup:
            self._check_d_wins(step)
            self._check_oscillation(step)

    def _check_d_wins(self, step):
        if not isinstance(self.model, GAN) or type(self.model).discriminator_output is not GAN.discriminator_output:
            return  # a critic's scores are not probabilities
        d_real, d_fake, d_loss = (self._recent(name).mean() for name in ("d_real", "d_fake", "d_loss"))
        firing = d_real - d_fake > self.d_wins_gap
        self._update("d_wins", firing, step, d_real=d_real, d_fake=d_fake, d_loss=d_loss, window=self.window)

    def _check_gradients(self, step):
        steps = max(1, self.window // 5)
        for name, network in (("d_grad_norm", "discriminator"), ("g_grad_norm", "generator")):
            recent = self._recent(name, steps)
            firing = len(recent) == steps and recent.min() > self.grad_norm_limit
            self._update(
                f"exploding_gradients:{network}", firing, step, network=network, norm=float(np.median(recent)),
                limit=self.grad_norm_limit, steps=steps,
            )

    def _check_oscillation(self, step):
        steps = 2 * self.window
        raw = self._recent("d_loss", steps)
        if len(raw) < steps:
            return
        smooth_over = max(2, self.window // 10)
        smooth = np.convolve(raw, np.ones(smooth_over) / smooth_over, mode="valid")
        centred = smooth - smooth.mean()
        crossings = int(np.sum(np.signbit(centred[1:]) != np.signbit(centred[:-1])))
        swing = smooth.max() - smooth.min()
        # wide (half the loss's own size, and not a wobble near 0), repeated (three periods), beyond noise
        firing = (
            swing > max(0.5 * np.abs(raw).mean(), 0.2) and crossings >= 6 and centred.std() > 2 * _noise(raw, smooth_over)
        )
        self._update("oscillation", firing, step, low=smooth.min(), high=smooth.max(), crossings=crossings // 2, steps=steps)

    def probe(self, step):
        """Generate the fixed probe batch and check its diversity (and toy-face modes) against the best so far."""
        images = np.asarray(generate(self.model.generator, self._z, self._labels), np.float32)
        diversity = image_diversity(images)
        modes = None
        if self.toy_faces:
            found = toy_face_modes(to_uint8(images))
            modes = found.modes_covered
        self.probes.append((step, diversity, modes))
        if self.log_path:  # read back by `resume`
            self._write({"step": step, "probe": {"diversity": diversity, "modes": modes}})
        best_step, best, _ = max(self.probes, key=lambda probe: probe[1])
        firing = best_step < step and diversity < self.collapse_ratio * best
        mode_note = ""
        if modes is not None:
            best_modes = max(probe[2] for probe in self.probes)
            mode_note = f", and it shows {modes} distinct toy-face modes (best so far {best_modes} of {self.probe_size})"
        self._update(
            "mode_collapse", firing, step, ratio=diversity / best if best else 0.0, best_step=best_step,
            modes=mode_note, diversity=diversity, best=best,
        )

    # ------------------------------------------------------------ reporting
    def _update(self, key, firing, step, **values):
        check = key.split(":")[0]
        if not firing:
            if key in self._active and step - self._active[key] > self.window:
                del self._active[key]  # clear for a whole window: it may be reported again
            return
        reported = key in self._active
        self._active[key] = step
        if not reported:
            self._report(step, check, **values)

    def _report(self, step, check, stop=False, **values):
        rate = self.learning_rate
        words = {
            **{name: float(value) if isinstance(value, (np.floating, np.integer)) else value for name, value in values.items()},
            "resume": self.resume_command,
            "backup": self._backup_description(),
            "lower_rate": (rate / 2) if rate else 1e-4,
        }
        text = CHECKS[check]
        message = (
            f"Step {step}: {text['what'].format(**words)}; likely cause: {text['cause'].format(**words)}. "
            f"Remedies: {text['remedies'].format(**words)}."
        )
        finding = Finding(step, check, message, {k: v for k, v in words.items() if isinstance(v, (int, float, str))})
        self.findings.append(finding)
        self.say(f"kgan monitor: {message}")
        if self.log_path:
            self._write(json.loads(finding.to_json()))
        if stop or (self.stop_on_failure and finding.failure):
            self.model.stop_training = True

    def _backup_description(self):
        state = os.path.join(str(self.backup_dir), StepBackup.STATE) if self.backup_dir else None
        if not state or not os.path.exists(state):
            return "none (no backup was written yet)"
        with open(state) as file:
            return f"step {json.load(file)['step']} ({self.backup_dir})"

    def _write(self, record):
        os.makedirs(os.path.dirname(os.path.abspath(self.log_path)), exist_ok=True)
        with open(self.log_path, "a") as file:
            file.write(json.dumps(record, default=float) + "\n")

    def verdict(self):
        """One sentence on the whole run: healthy, or what went wrong and from which step."""
        if not self.findings:
            return "healthy: no warnings (D did not win, gradients stayed bounded, samples kept their diversity)"
        seen = {}
        for finding in self.findings:
            seen.setdefault(finding.check, finding.step)
        phrases = {
            "non_finite": "training hit NaN/Inf",
            "d_wins": "D won",
            "exploding_gradients": "gradients exploded",
            "mode_collapse": "the samples lost their diversity",
            "oscillation": "the losses oscillated",
        }
        parts = [f"{phrases[check]} (from step {step})" for check, step in seen.items()]
        return "unhealthy: " + ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


def _noise(raw, smooth_over):
    """The spread one smoothed value has from step-to-step noise alone (a white-noise estimate)."""
    return np.std(np.diff(raw)) / np.sqrt(2 * smooth_over)
