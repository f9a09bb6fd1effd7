"""Training recipes: a network profile plus the hyper-parameters that go with it, in one table.

`build_gan("dcgan", "book")` gives a compiled trainer exactly as the book trains it; the CLI and the
chapters build every trainer through here, so a recipe is written down once.
"""

import dataclasses

import keras

from kgan import nets
from kgan.trainers import DCGAN, WGANGP

__all__ = ["Profile", "PROFILES", "DEFAULT_PROFILES", "MODEL_SUMMARIES", "get_profile", "build_gan"]

MODEL_SUMMARIES = {
    "dcgan": "the book's 13.3 DCGAN: BCE losses, Adam(2e-4, beta_1=0.5), one D and one G step per batch",
    "wgan-gp": "the book's 13.8 WGAN-GP: a critic with a gradient penalty, n_critic critic steps per generator step",
}


@dataclasses.dataclass(frozen=True)
class Profile:
    """One recipe. `nets` names the `kgan.nets` profile; `critic_norm` the discriminator's normalisation."""

    model: str
    name: str
    nets: str
    critic_norm: str | None
    batch_size: int
    learning_rate: float
    betas: tuple
    n_critic: int = 1
    gp_weight: float = 0.0
    description: str = ""


PROFILES = {
    "dcgan": {
        "book": Profile(
            "dcgan", "book", "book", "batch", 64, 2e-4, (0.5, 0.999),
            description="chapter 13.3 as written; collapses on real faces after ~2,000 steps",
        ),
        "dcgan": Profile(
            "dcgan", "dcgan", "dcgan", "batch", 64, 2e-4, (0.5, 0.999),
            description="the DCGAN paper's init, first layer and discriminator; trains",
        ),
    },
    "wgan-gp": {
        "book": Profile(
            "wgan-gp", "book", "book", "batch", 512, 5e-4, (0.5, 0.999), n_critic=5, gp_weight=10.0,
            description="chapter 13.8 as its code runs: the DCGAN nets with BatchNorm in the critic, batch 512, "
            "Adam(5e-4, beta_1=0.5). BatchNorm couples the samples, so the penalty no longer constrains each "
            "sample's gradient, which the WGAN-GP paper warns against",
        ),
        "gulrajani": Profile(
            "wgan-gp", "gulrajani", "dcgan", "layer", 64, 1e-4, (0.5, 0.9), n_critic=5, gp_weight=10.0,
            description="the WGAN-GP paper's advice: layer norm instead of BatchNorm in the critic, "
            "Adam(1e-4, beta_1=0.5, beta_2=0.9), batch 64",
        ),
    },
}
DEFAULT_PROFILES = {"dcgan": "dcgan", "wgan-gp": "gulrajani"}
_TRAINERS = {"dcgan": DCGAN, "wgan-gp": WGANGP}


def get_profile(model, name=None):
    """The recipe `name` (default: the one that trains best) of `model` ("dcgan" or "wgan-gp")."""
    if model not in PROFILES:
        raise ValueError(f"Unknown model {model!r}; choose one of {sorted(PROFILES)}.")
    name = name or DEFAULT_PROFILES[model]
    if name not in PROFILES[model]:
        raise ValueError(f"Unknown {model} profile {name!r}; choose one of {sorted(PROFILES[model])}.")
    return PROFILES[model][name]


def build_gan(
    model, profile=None, image_size=64, latent_dim=100, width=64, seed=None, learning_rate=None, n_critic=None,
    gp_weight=None, synchronized_bn=False,
):
    """Networks, trainer and optimizers of a recipe, compiled and ready for `fit`.

    Call it inside `strategy.scope()` to train under a distribution strategy. `learning_rate`,
    `n_critic` and `gp_weight` override the recipe's values; `synchronized_bn` makes BatchNorm use
    statistics over all replicas.
    """
    recipe = get_profile(model, profile)
    generator = nets.build_generator(recipe.nets, image_size, latent_dim, width, synchronized_bn=synchronized_bn)
    discriminator = nets.build_discriminator(
        recipe.nets, image_size, width, norm=recipe.critic_norm, synchronized_bn=synchronized_bn
    )
    options = {}
    if model == "wgan-gp":
        options = {"n_critic": n_critic or recipe.n_critic, "gp_weight": recipe.gp_weight if gp_weight is None else gp_weight}
    gan = _TRAINERS[model](generator, discriminator, seed=seed, **options)
    rate = learning_rate or recipe.learning_rate
    gan.compile(
        d_optimizer=keras.optimizers.Adam(rate, *recipe.betas),
        g_optimizer=keras.optimizers.Adam(rate, *recipe.betas),
    )
    return gan
