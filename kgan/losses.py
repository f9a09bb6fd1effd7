"""GAN losses as pure functions of the discriminator's logits.

A GAN's objective is a pair: the discriminator (D) minimises `d_loss(real_logits, fake_logits)` and
the generator (G) minimises `g_loss(fake_logits, real_logits=None)`; each returns a float32 scalar
averaged over the batch. Logits are D's raw, pre-sigmoid outputs, shaped `(batch, 1)`. The families
differ in what D is asked to say about a sample:

- minimax / non-saturating (Goodfellow et al. 2014): D is a classifier, real → 1, fake → 0 (BCE).
  They share D's loss and differ in G's: minimax's `log(1 − D(G(z)))` saturates when D wins,
  the non-saturating `−log D(G(z))` does not (see the two G losses for the gradients);
- Wasserstein (Arjovsky et al. 2017): D is a critic scoring realism on an open scale;
- hinge (Lim & Ye 2017; Miyato et al. 2018): a margin — D stops pushing a sample already scored
  beyond ±1;
- least squares (Mao et al. 2017): D regresses real → 1 and fake → 0, so G is pulled towards the
  real scores even for samples D classifies correctly;
- relativistic (Jolicoeur-Martineau 2018): D judges whether real data is *more* realistic than fake
  data, so G's loss also depends on the real logits (`uses_real_logits`).

Two function attributes tell a trainer what a loss needs:

- `accepts_targets = True` (BCE and least-squares D losses): the loss takes `real_targets=1.0,
  fake_targets=0.0`, scalars or per-sample `(batch, 1)` tensors of the probability "this is real",
  for the label tricks of `label_targets` (smoothing, flipping);
- `uses_real_logits = True` (relativistic G losses): the trainer must also pass D's logits on a
  real batch in G's step.

Losses are computed in float32 whatever the logits' dtype (under `mixed_float16` D's logits may be
float16, where `softplus` of a large logit overflows and a mean of many terms loses its digits).

Trainers look a loss up by name with `get_discriminator_loss` / `get_generator_loss`, a matching
pair by family name with `get_losses` (the table `LOSSES`), or take any callable with the same
signature.
"""

import numbers

import keras
import tensorflow as tf
from keras import ops

__all__ = [
    "LOSSES",
    "bce_discriminator_loss",
    "get_discriminator_loss",
    "get_generator_loss",
    "get_losses",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "label_targets",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "minimax_generator_loss",
    "nonsaturating_generator_loss",
    "ragan_discriminator_loss",
    "ragan_generator_loss",
    "rsgan_discriminator_loss",
    "rsgan_generator_loss",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
]


def _float32(logits):
    return ops.cast(logits, "float32")


def _targets(targets, logits, name):
    """`targets` as float32, checked to be a scalar or shaped like `logits` (a (batch,) vs (batch, 1) mix would broadcast)."""
    targets = _float32(targets)
    if len(targets.shape) and not tf.TensorShape(targets.shape).is_compatible_with(logits.shape):
        raise ValueError(
            f"{name} must be a scalar or a tensor shaped like the logits {tuple(logits.shape)}; "
            f"got shape {tuple(targets.shape)}."
        )
    return targets


def _require_real_logits(real_logits, loss_name):
    if real_logits is None:
        raise ValueError(
            f"{loss_name} is relativistic: it needs real_logits (D's logits on a real batch) as well as fake_logits; "
            "got real_logits=None."
        )
    return _float32(real_logits)


def _check_paired(real_logits, fake_logits, loss_name):
    """RSGAN compares real sample i with fake sample i, so the two batches must have the same shape."""
    if not tf.TensorShape(real_logits.shape).is_compatible_with(fake_logits.shape):
        raise ValueError(
            f"{loss_name} pairs each real logit with the fake logit at the same index, so real_logits and "
            f"fake_logits need the same shape (equal batch sizes); got {tuple(real_logits.shape)} and "
            f"{tuple(fake_logits.shape)}."
        )


# ---------------------------------------------------------------- minimax / non-saturating (BCE)
@keras.saving.register_keras_serializable(package="kgan")
def bce_discriminator_loss(real_logits, fake_logits, *, real_targets=1.0, fake_targets=0.0):
    """The book's (and Goodfellow et al. 2014's) D loss: BCE with real → 1 plus BCE with fake → 0.

    With target probability `t` a logit `x` costs `t·softplus(−x) + (1 − t)·softplus(x)`:
    `−log σ(x) = softplus(−x)` and `−log(1 − σ(x)) = softplus(x)` keep it stable for large logits.
    `real_targets` / `fake_targets` (scalars or `(batch, 1)` tensors) default to 1 and 0; other
    values are the label tricks of `label_targets`.
    """
    real_logits, fake_logits = _float32(real_logits), _float32(fake_logits)
    real_targets = _targets(real_targets, real_logits, "real_targets")
    fake_targets = _targets(fake_targets, fake_logits, "fake_targets")

    def bce(logits, targets):
        return ops.mean(targets * ops.softplus(-logits) + (1.0 - targets) * ops.softplus(logits))

    return bce(real_logits, real_targets) + bce(fake_logits, fake_targets)


bce_discriminator_loss.accepts_targets = True


@keras.saving.register_keras_serializable(package="kgan")
def nonsaturating_generator_loss(fake_logits, real_logits=None):
    """The non-saturating G loss `−log D(G(z)) = mean(softplus(−f))` (Goodfellow et al. 2014), used by the book.

    Its gradient with respect to a fake logit, `(σ(f) − 1)/n`, tends to `−1/n` as D wins (`f → −∞`):
    G keeps learning from the samples D rejects most confidently. `real_logits` is not used.
    """
    return ops.mean(ops.softplus(-_float32(fake_logits)))


@keras.saving.register_keras_serializable(package="kgan")
def minimax_generator_loss(fake_logits, real_logits=None):
    """The original minimax G loss `log(1 − D(G(z))) = −mean(softplus(f))` (Goodfellow et al. 2014).

    Its gradient with respect to a fake logit, `−σ(f)/n`, vanishes as D wins (`f → −∞`), which is
    why the paper itself trains G with the non-saturating loss instead. `real_logits` is not used.
    """
    return -ops.mean(ops.softplus(_float32(fake_logits)))


# ---------------------------------------------------------------- Wasserstein
@keras.saving.register_keras_serializable(package="kgan")
def wasserstein_discriminator_loss(real_logits, fake_logits):
    """The WGAN critic loss `mean(f) − mean(r)` (Arjovsky et al. 2017); the critic's outputs are raw scores.

    Only meaningful with a Lipschitz constraint on the critic (a gradient penalty, spectral norm).
    """
    return ops.mean(_float32(fake_logits)) - ops.mean(_float32(real_logits))


@keras.saving.register_keras_serializable(package="kgan")
def wasserstein_generator_loss(fake_logits, real_logits=None):
    """The WGAN generator loss `−mean(f)` (Arjovsky et al. 2017). `real_logits` is not used."""
    return -ops.mean(_float32(fake_logits))


# ---------------------------------------------------------------- hinge
@keras.saving.register_keras_serializable(package="kgan")
def hinge_discriminator_loss(real_logits, fake_logits):
    """The hinge D loss `mean(relu(1 − r)) + mean(relu(1 + f))` (Lim & Ye 2017; Miyato et al. 2018).

    A real sample scored above 1, or a fake one below −1, costs nothing: D spends its capacity on
    the samples near the margin instead of pushing easy ones further away.
    """
    real_logits, fake_logits = _float32(real_logits), _float32(fake_logits)
    return ops.mean(ops.relu(1.0 - real_logits)) + ops.mean(ops.relu(1.0 + fake_logits))


@keras.saving.register_keras_serializable(package="kgan")
def hinge_generator_loss(fake_logits, real_logits=None):
    """The hinge GAN's G loss `−mean(f)` (Lim & Ye 2017; Miyato et al. 2018), the same as WGAN's.

    G is not clipped at the margin: it keeps raising its samples' scores. `real_logits` is not used.
    """
    return -ops.mean(_float32(fake_logits))


# ---------------------------------------------------------------- least squares
@keras.saving.register_keras_serializable(package="kgan")
def least_squares_discriminator_loss(real_logits, fake_logits, *, real_targets=1.0, fake_targets=0.0):
    """The LSGAN D loss `½·mean((r − b)²) + ½·mean((f − a)²)` (Mao et al. 2017) with a = 0, b = 1.

    D's raw outputs regress onto the targets; `real_targets` / `fake_targets` (scalars or
    `(batch, 1)` tensors) replace b and a per sample, for the label tricks of `label_targets`.
    """
    real_logits, fake_logits = _float32(real_logits), _float32(fake_logits)
    real_targets = _targets(real_targets, real_logits, "real_targets")
    fake_targets = _targets(fake_targets, fake_logits, "fake_targets")
    return 0.5 * ops.mean(ops.square(real_logits - real_targets)) + 0.5 * ops.mean(ops.square(fake_logits - fake_targets))


least_squares_discriminator_loss.accepts_targets = True


@keras.saving.register_keras_serializable(package="kgan")
def least_squares_generator_loss(fake_logits, real_logits=None):
    """The LSGAN G loss `½·mean((f − c)²)` (Mao et al. 2017) with c = 1, the real target.

    A fake sample D already scores as real but far from 1 is still pulled towards the real scores,
    which the sigmoid BCE loss would ignore. `real_logits` is not used.
    """
    return 0.5 * ops.mean(ops.square(_float32(fake_logits) - 1.0))


# ---------------------------------------------------------------- relativistic
@keras.saving.register_keras_serializable(package="kgan")
def rsgan_discriminator_loss(real_logits, fake_logits):
    """The relativistic standard D loss `mean(softplus(−(rᵢ − fᵢ)))` (Jolicoeur-Martineau 2018).

    `−log σ(rᵢ − fᵢ)`: the probability that real sample i is more realistic than fake sample i.
    The samples are paired by index, so the batches must have the same size.
    """
    real_logits, fake_logits = _float32(real_logits), _float32(fake_logits)
    _check_paired(real_logits, fake_logits, "rsgan_discriminator_loss")
    return ops.mean(ops.softplus(-(real_logits - fake_logits)))


@keras.saving.register_keras_serializable(package="kgan")
def rsgan_generator_loss(fake_logits, real_logits=None):
    """The relativistic standard G loss `mean(softplus(−(fᵢ − rᵢ)))` (Jolicoeur-Martineau 2018).

    D's loss with the roles swapped: G makes its samples look more realistic than real ones, so
    its gradient also lowers the real logits (through D's weights). Needs `real_logits`, paired with
    `fake_logits` by index.
    """
    real_logits = _require_real_logits(real_logits, "rsgan_generator_loss")
    fake_logits = _float32(fake_logits)
    _check_paired(real_logits, fake_logits, "rsgan_generator_loss")
    return ops.mean(ops.softplus(-(fake_logits - real_logits)))


rsgan_generator_loss.uses_real_logits = True


@keras.saving.register_keras_serializable(package="kgan")
def ragan_discriminator_loss(real_logits, fake_logits):
    """The relativistic average D loss (Jolicoeur-Martineau 2018):
    `mean(softplus(−(r − mean(f)))) + mean(softplus(f − mean(r)))`.

    Each sample is compared with the *average* logit of the other kind (real more realistic than
    the average fake; fake less realistic than the average real), so batch sizes may differ.
    """
    real_logits, fake_logits = _float32(real_logits), _float32(fake_logits)
    mean_real, mean_fake = ops.mean(real_logits), ops.mean(fake_logits)
    return ops.mean(ops.softplus(-(real_logits - mean_fake))) + ops.mean(ops.softplus(fake_logits - mean_real))


@keras.saving.register_keras_serializable(package="kgan")
def ragan_generator_loss(fake_logits, real_logits=None):
    """The relativistic average G loss, D's mirrored (Jolicoeur-Martineau 2018):
    `mean(softplus(−(f − mean(r)))) + mean(softplus(r − mean(f)))`.

    Needs `real_logits`: half of G's signal is making real data look *less* realistic than its fakes.
    """
    real_logits = _require_real_logits(real_logits, "ragan_generator_loss")
    fake_logits = _float32(fake_logits)
    mean_real, mean_fake = ops.mean(real_logits), ops.mean(fake_logits)
    return ops.mean(ops.softplus(-(fake_logits - mean_real))) + ops.mean(ops.softplus(real_logits - mean_fake))


ragan_generator_loss.uses_real_logits = True


# ---------------------------------------------------------------- label tricks
def label_targets(batch_size, *, seed, smoothing=None, flip=0.0):
    """Per-sample BCE / least-squares targets with label smoothing and flipping: `(real_targets, fake_targets)`.

    Both are float32 `(batch_size, 1)`, for a D loss with `accepts_targets`:

    - `smoothing`: one-sided label smoothing (Salimans et al. 2016): real targets become `1 − s`, so
      D is not rewarded for ever more confident real scores; fake targets stay 0 (smoothing them
      too would reward D for giving fakes some "real" probability, keeping G's mistakes in place).
      A float `s` in [0, 1), or a `(low, high)` range from which `s` is drawn uniformly per sample
      (targets in `[1 − high, 1 − low]`). `None`: no smoothing.
    - `flip`: the probability that a sample's real and fake targets swap (the occasional label
      flipping of Chintala et al.'s "ganhacks" 2016): a flipped real gets the fake target and the
      fake at the same index gets the (smoothed) real target.

    `seed` (a shape-(2,) int tensor) makes it stateless: the same seed gives the same targets.
    `batch_size` may be a scalar tensor (`tf.shape(real)[0]` inside a training step).
    """
    if seed is None:
        raise ValueError("label_targets needs seed, a shape-(2,) int tensor; got None.")
    if isinstance(batch_size, int) and batch_size < 1:
        raise ValueError(f"label_targets' batch_size must be a positive int; got {batch_size}.")
    low, high = _smoothing_range(smoothing)
    if not 0.0 <= flip <= 1.0:
        raise ValueError(f"label_targets' flip is a probability and must lie in [0, 1]; got {flip}.")
    smoothing_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    shape = (batch_size, 1)
    amount = tf.random.stateless_uniform(shape, seed=smoothing_seed, minval=low, maxval=high)
    real_targets = 1.0 - amount
    fake_targets = tf.zeros(shape, "float32")
    # uniform in [0, 1) < flip: flip=0 never swaps, flip=1 always does.
    flipped = tf.random.stateless_uniform(shape, seed=flip_seed) < flip
    return tf.where(flipped, fake_targets, real_targets), tf.where(flipped, real_targets, fake_targets)


def _smoothing_range(smoothing):
    """`smoothing` as a `(low, high)` range of the amount taken off real targets, checked."""
    if smoothing is None:
        return 0.0, 0.0
    if isinstance(smoothing, numbers.Real):
        low = high = float(smoothing)
    elif isinstance(smoothing, (tuple, list)) and len(smoothing) == 2:
        low, high = (float(value) for value in smoothing)
    else:
        raise ValueError(f"label_targets' smoothing must be None, a float or a (low, high) pair; got {smoothing!r}.")
    if not 0.0 <= low <= high < 1.0:
        raise ValueError(
            f"label_targets' smoothing must lie in [0, 1) (real target 1 − smoothing), with low <= high; got {smoothing!r}."
        )
    return low, high


# ---------------------------------------------------------------- lookup
_DISCRIMINATOR_LOSSES = {
    "bce": bce_discriminator_loss,
    "wasserstein": wasserstein_discriminator_loss,
    "hinge": hinge_discriminator_loss,
    "least_squares": least_squares_discriminator_loss,
    "rsgan": rsgan_discriminator_loss,
    "ragan": ragan_discriminator_loss,
}
_GENERATOR_LOSSES = {
    "nonsaturating": nonsaturating_generator_loss,
    "minimax": minimax_generator_loss,
    "wasserstein": wasserstein_generator_loss,
    "hinge": hinge_generator_loss,
    "least_squares": least_squares_generator_loss,
    "rsgan": rsgan_generator_loss,
    "ragan": ragan_generator_loss,
}

# A loss *family*: the (D loss, G loss) pair that defines one GAN objective.
LOSSES = {
    "minimax": (bce_discriminator_loss, minimax_generator_loss),
    "nonsaturating": (bce_discriminator_loss, nonsaturating_generator_loss),
    "wasserstein": (wasserstein_discriminator_loss, wasserstein_generator_loss),
    "hinge": (hinge_discriminator_loss, hinge_generator_loss),
    "least_squares": (least_squares_discriminator_loss, least_squares_generator_loss),
    "rsgan": (rsgan_discriminator_loss, rsgan_generator_loss),
    "ragan": (ragan_discriminator_loss, ragan_generator_loss),
}


def _lookup(identifier, table, kind):
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier in table:
        return table[identifier]
    raise ValueError(f"Unknown {kind} loss {identifier!r}; choose one of {sorted(table)} or pass a callable.")


def get_discriminator_loss(identifier):
    """A discriminator loss by name (`"bce"`, `"hinge"`, …, the keys of `_DISCRIMINATOR_LOSSES`) or the callable itself."""
    return _lookup(identifier, _DISCRIMINATOR_LOSSES, "discriminator")


def get_generator_loss(identifier):
    """A generator loss by name (`"nonsaturating"`, `"minimax"`, `"hinge"`, …) or the callable itself."""
    return _lookup(identifier, _GENERATOR_LOSSES, "generator")


def get_losses(name):
    """The `(d_loss, g_loss)` pair of a loss family, a key of `LOSSES` (`"hinge"`, `"ragan"`, …)."""
    if isinstance(name, str) and name in LOSSES:
        return LOSSES[name]
    raise ValueError(f"Unknown loss family {name!r}; choose one of {sorted(LOSSES)}.")
