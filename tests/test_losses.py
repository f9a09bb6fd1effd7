"""kgan.losses: each loss against hand-computed values, stable for huge logits, chosen by name."""

import numpy as np
import pytest

from kgan import losses


def softplus(x):
    return np.log1p(np.exp(x))


def test_bce_discriminator_loss_matches_hand_computed_values():
    real = np.array([[0.0], [2.0]], "float32")
    fake = np.array([[-1.0], [3.0]], "float32")
    # mean(-log σ(real)) + mean(-log(1 - σ(fake)))
    expected = (np.log(2) + np.log1p(np.exp(-2.0))) / 2 + (np.log1p(np.exp(-1.0)) + np.log1p(np.exp(3.0))) / 2
    assert float(losses.bce_discriminator_loss(real, fake)) == pytest.approx(expected, rel=1e-6)


def test_generator_losses_match_hand_computed_values():
    fake = np.array([[0.0], [-2.0], [4.0]], "float32")
    assert float(losses.nonsaturating_generator_loss(fake)) == pytest.approx(np.mean(softplus(-fake)), rel=1e-6)
    assert float(losses.minimax_generator_loss(fake)) == pytest.approx(np.mean(np.log(1 - 1 / (1 + np.exp(-fake)))), rel=1e-5)


def test_bce_is_stable_for_huge_logits():
    assert np.isfinite(float(losses.bce_discriminator_loss(np.array([[-1e4]], "float32"), np.array([[1e4]], "float32"))))
    assert float(losses.nonsaturating_generator_loss(np.array([[1e4]], "float32"))) == pytest.approx(0.0, abs=1e-6)


def test_lookup_by_name_and_callable():
    assert losses.get_discriminator_loss("bce") is losses.bce_discriminator_loss
    assert losses.get_generator_loss("minimax") is losses.minimax_generator_loss
    custom = lambda fake_logits: fake_logits  # noqa: E731
    assert losses.get_generator_loss(custom) is custom
    with pytest.raises(ValueError, match="Unknown generator loss 'nope'"):
        losses.get_generator_loss("nope")
