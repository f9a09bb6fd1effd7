"""GAN losses as pure functions of the discriminator's logits.

Every discriminator loss takes `(real_logits, fake_logits)` and every generator loss takes
`fake_logits`; each returns a scalar averaged over the batch. Trainers look them up by name with
`get_discriminator_loss` / `get_generator_loss`, or take any callable with the same signature.
"""

import keras
from keras import ops

__all__ = [
    "bce_discriminator_loss",
    "nonsaturating_generator_loss",
    "minimax_generator_loss",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
    "get_discriminator_loss",
    "get_generator_loss",
]


@keras.saving.register_keras_serializable(package="kgan")
def bce_discriminator_loss(real_logits, fake_logits):
    """The book's (and Goodfellow's) D loss: BCE with real → 1 plus BCE with fake → 0.

    `-log σ(x) = softplus(-x)` and `-log(1 - σ(x)) = softplus(x)` keep it stable for large logits.
    """
    return ops.mean(ops.softplus(-real_logits)) + ops.mean(ops.softplus(fake_logits))


@keras.saving.register_keras_serializable(package="kgan")
def nonsaturating_generator_loss(fake_logits):
    """The non-saturating G loss `-log D(G(z))` (BCE with fake → 1), used by the book."""
    return ops.mean(ops.softplus(-fake_logits))


@keras.saving.register_keras_serializable(package="kgan")
def minimax_generator_loss(fake_logits):
    """The original minimax G loss `log(1 - D(G(z)))`; its gradient vanishes when D wins."""
    return -ops.mean(ops.softplus(fake_logits))


@keras.saving.register_keras_serializable(package="kgan")
def wasserstein_discriminator_loss(real_logits, fake_logits):
    """The WGAN critic loss `mean(D(fake)) - mean(D(real))`; the critic's outputs are raw scores."""
    return ops.mean(fake_logits) - ops.mean(real_logits)


@keras.saving.register_keras_serializable(package="kgan")
def wasserstein_generator_loss(fake_logits):
    """The WGAN generator loss `-mean(D(fake))`."""
    return -ops.mean(fake_logits)


_DISCRIMINATOR_LOSSES = {"bce": bce_discriminator_loss, "wasserstein": wasserstein_discriminator_loss}
_GENERATOR_LOSSES = {
    "nonsaturating": nonsaturating_generator_loss,
    "minimax": minimax_generator_loss,
    "wasserstein": wasserstein_generator_loss,
}


def _lookup(identifier, table, kind):
    if callable(identifier):
        return identifier
    if identifier in table:
        return table[identifier]
    raise ValueError(f"Unknown {kind} loss {identifier!r}; choose one of {sorted(table)} or pass a callable.")


def get_discriminator_loss(identifier):
    """A discriminator loss by name (`"bce"`) or the callable itself."""
    return _lookup(identifier, _DISCRIMINATOR_LOSSES, "discriminator")


def get_generator_loss(identifier):
    """A generator loss by name (`"nonsaturating"`, `"minimax"`) or the callable itself."""
    return _lookup(identifier, _GENERATOR_LOSSES, "generator")
