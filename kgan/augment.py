"""Augmentations of what the discriminator sees, as functions `fn(images, *, seed) -> images`.

A trainer compiled with `augment=` applies it to every discriminator input — real and fake batches
in D's update, fake batches in G's — so D never sees an un-augmented image and G is trained through
the augmentation (DiffAugment, Zhao et al. 2020; ADA, Karras et al. 2020). Two rules follow:

- an augmentation must be differentiable in `images` (G's gradient flows through it), and must draw
  its randomness from `seed`, a stateless seed (shape (2,)) the trainer takes from its own stream
  for each call, so a resumed run augments exactly as the uninterrupted run did;
- the discriminator's penalties see the same augmented batches as its loss.

Functions are chosen by name with `get`.
"""

import keras
import tensorflow as tf
from keras import ops

__all__ = ["AUGMENTATIONS", "get", "random_flip"]


@keras.saving.register_keras_serializable(package="kgan")
def random_flip(images, *, seed):
    """Mirror each image left–right with probability ½ (ADA's x-flip), a choice drawn per image from `seed`.

    A flip is a permutation of pixels, so the gradient passes through it unchanged (mirrored).
    """
    flip = tf.random.stateless_uniform((ops.shape(images)[0],), seed=seed) < 0.5
    return ops.where(flip[:, None, None, None], ops.flip(images, axis=2), images)


AUGMENTATIONS = {"flip": random_flip}


def get(identifier):
    """An augmentation by name (a key of `AUGMENTATIONS`), the callable itself, or None for none."""
    if identifier is None or callable(identifier):
        return identifier
    if identifier in AUGMENTATIONS:
        return AUGMENTATIONS[identifier]
    raise ValueError(f"Unknown augmentation {identifier!r}; choose one of {sorted(AUGMENTATIONS)} or pass a callable.")
