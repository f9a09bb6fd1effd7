"""Recipes: one registry from a model name to its trainer, summary, default recipe and recipes.

A *model* is a training algorithm: a trainer class and its losses (`"dcgan"` → `kgan.DCGAN`,
`"wgan-gp"` → `kgan.WGANGP`). A *recipe* is everything else one training of it needs, written down
once and built by keyword: the networks (an architecture of `kgan.nets` and its options), the batch
size, each network's optimizer, n_critic, the losses, penalties with their weights and schedules,
augmentation, a generator weight average (EMA) and the precision.

    gan = kgan.recipes.build_gan("wgan-gp", "gulrajani", seed=0)     # compiled, ready for fit
    recipe = kgan.recipes.get_recipe("dcgan")                        # the model's default recipe
    faster = recipe.override(learning_rate=4e-4, width=32)           # a variant, by keyword
    gan = kgan.recipes.build_gan("dcgan", faster, image_size=32)

`kgan train`, `kgan.run`, the chapters and the benchmarks all build their trainers here, and the
CLI's help is generated from `MODELS`. Recipes are plain values (nested frozen dataclasses), so a
run can record the one it trained with (`dataclasses.asdict`).
"""

import contextlib
import dataclasses
import numbers

import keras

from kgan import augment, nets, penalties
from kgan.defaults import IMAGE_SIZE, LATENT_DIM, WIDTH
from kgan.trainers import DCGAN, WGANGP, OneStepGAN
from kgan.trainers.base import CONDITIONINGS

__all__ = [
    "MODELS", "PRECISIONS", "Adam", "ModelEntry", "Nets", "PenaltyTerm", "Recipe", "build_gan", "build_nets",
    "get_model", "get_recipe",
]

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


def _check_count(owner, name, value):
    # a count given as 0, a negative, a float or True would fail (or silently round) deep in building or training
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{owner}: {name} must be a whole number of at least 1, got {value!r}.")


@dataclasses.dataclass(frozen=True)
class Nets:
    """The networks: an architecture and the options of its two builders.

    `architecture` is `"book"` or `"dcgan"` (`kgan.nets.build_generator` / `build_discriminator`, images)
    or `"mlp"` (`build_mlp_generator` / `build_mlp_discriminator`, 2D points). `generator` and
    `discriminator` are keyword options of those builders (e.g. `{"norm": "layer"}`,
    `{"spectral_norm": True}`, `{"hidden": (128, 128, 128)}`). `width` is the conv nets' base width.
    """

    architecture: str = "dcgan"
    latent_dim: int = LATENT_DIM
    width: int = WIDTH
    generator: dict = dataclasses.field(default_factory=dict)
    discriminator: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        for name in ("latent_dim", "width"):
            _check_count("Nets", name, getattr(self, name))

    @property
    def data(self):
        """What the networks generate: "images" or "points" (2D)."""
        return "points" if self.architecture == "mlp" else "images"


@dataclasses.dataclass(frozen=True)
class Adam:
    """One network's optimizer in a recipe: Adam's settings, optionally decayed linearly to 0 over the run."""

    learning_rate: float
    beta_1: float = 0.9
    beta_2: float = 0.999
    decay: str | None = None  # None: constant; "linear": falls linearly to 0 over the run's updates

    def build(self, updates=None):
        """A `keras.optimizers.Adam`; `updates` (this network's updates in the run) is needed for a decay."""
        rate = self.learning_rate
        if self.decay == "linear":
            if not updates:
                raise ValueError("A recipe whose learning rate decays needs the run's length (total_steps).")
            rate = keras.optimizers.schedules.PolynomialDecay(self.learning_rate, updates, 0.0)
        elif self.decay is not None:
            raise ValueError(f"Unknown learning-rate decay {self.decay!r}; use None or 'linear'.")
        return keras.optimizers.Adam(rate, self.beta_1, self.beta_2)


@dataclasses.dataclass(frozen=True)
class PenaltyTerm:
    """A penalty added to D's loss: a function of `kgan.penalties` by name, its weight and options.

    `every`: lazy regularisation (StyleGAN2): computed every `every` steps and multiplied by `every`.
    `fade`: the weight falls linearly from its value to 0 over this fraction of the run, then the
    penalty is no longer computed; `warmup`: it rises linearly from 0 over this fraction of the run.
    An `augment` option (bCR's augmentation) may name a function of `kgan.augment`.
    """

    fn: str
    weight: float
    options: dict = dataclasses.field(default_factory=dict)
    fade: float | None = None
    warmup: float | None = None
    every: int = 1

    @classmethod
    def parse(cls, spec):
        """A term from the command line's `NAME:WEIGHT[:key=value...]`, e.g. `r1:0.1:every=4`, `lecam:0.01`,
        `consistency:10:augment=translation`, `gradient_penalty:1:target=0:fade=0.5`."""
        name, *rest = spec.split(":")
        if not name or not rest:
            raise ValueError(f"--penalty {spec!r}: write NAME:WEIGHT[:key=value...], e.g. r1:0.1:every=4.")
        penalties.get(name)  # an unknown name fails here, listing the known ones
        try:
            weight = float(rest[0])
        except ValueError:
            raise ValueError(f"--penalty {spec!r}: the weight {rest[0]!r} is not a number.") from None
        if not weight >= 0 or weight == float("inf"):
            raise ValueError(f"--penalty {spec!r}: the weight must be a finite number ≥ 0, got {rest[0]!r}.")
        fields, options = {}, {}
        for item in rest[1:]:
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"--penalty {spec!r}: {item!r} is not key=value.")
            try:
                value = float(value)
            except ValueError:
                pass
            if key == "every":
                if not isinstance(value, float) or value != int(value) or value < 1:
                    raise ValueError(f"--penalty {spec!r}: every must be a whole number of steps, at least 1, got {value!r}.")
                fields[key] = int(value)
            elif key in ("fade", "warmup"):
                if not isinstance(value, float) or not 0 < value <= 1:
                    raise ValueError(f"--penalty {spec!r}: {key} is a fraction of the run, in (0, 1], got {value!r}.")
                fields[key] = value
            else:
                options[key] = value
        return name, cls(name, weight, options, **fields)

    def build(self, total_steps=None, data_scale=1.0):
        """`(weight, kgan.penalties.Penalty)` for `GAN.compile(penalties=...)`; see `build_gan` for `data_scale`."""
        schedule = None
        if self.fade is not None and self.warmup is not None:
            raise ValueError(f"Penalty {self.fn}: give fade or warmup, not both.")
        for name, fraction in (("fade", self.fade), ("warmup", self.warmup)):
            if fraction is None:
                continue
            if not total_steps:
                raise ValueError(f"A penalty with a {name} ({self.fn}) needs the run's length (total_steps).")
            steps = max(1, round(fraction * total_steps))
            schedule = penalties.LinearRamp(0, steps, 1.0, 0.0) if name == "fade" else penalties.LinearRamp(0, steps, 0.0, 1.0)
        options = dict(self.options)
        if isinstance(options.get("augment"), str):
            options["augment"] = augment.get(options["augment"])
        penalty = penalties.Penalty(self.fn, schedule=schedule, every=self.every, **options)
        return self.weight * data_scale**2, penalty


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Everything one training needs besides its trainer class and its data.

    `None` for `loss`, `d_loss`, `g_loss` or `penalties` means the trainer's own (BCE / Wasserstein
    losses; WGAN-GP's gradient penalty). The tricks (each a field, each off by default):

    - `loss`: a loss family of `kgan.losses.LOSSES` ("hinge", "least_squares", "rsgan", "ragan", ...);
    - `d_optimizer` / `g_optimizer`: each network's Adam — different learning rates are TTUR; `n_critic`
      D updates per G update is the n_dis ratio;
    - `penalties`: `{name: PenaltyTerm}` (R1, R2, DRAGAN, bCR, LeCam, the gradient penalty; lazy, faded, warmed up);
    - `label_smoothing` (a float s or a `(low, high)` range: real targets 1 − s) and `label_flip`
      (probability of swapping a sample's labels), for BCE and least-squares losses;
    - `instance_noise`: the stddev of Gaussian noise on D's inputs, falling linearly to 0 over
      `instance_noise_fade` of the run;
    - `augment`: a function of `kgan.augment` ("diffaugment", "translation", ...) or "ada" (adaptive);
    - `ema`: the decay per step of the generator weight average (sampling, evaluation and export use
      it), with `ema_warmup` (early steps use a smaller decay, so the average is not the initialisation);
    - `one_step`: train with `kgan.trainers.OneStepGAN` (D and G from one loss, simultaneously);
    - `precision`: the Keras dtype policy the networks are built under ("mixed_bfloat16",
      "mixed_float16"): losses, penalties and logits stay float32, float16 gets loss scaling;
    - `conditioning`: a class-conditional GAN — "projection" (a projection discriminator and a
      generator with class embedding and conditional BatchNorm), "acgan" (an auxiliary classifier,
      `class_loss_weight`; `classify_fakes` for the paper's D loss on fakes too) or "infogan" (a
      categorical code of `info_codes` values and
      `continuous_codes` continuous ones, recovered by D's Q head). The number of classes comes from
      the data (`build_gan(num_classes=...)`); InfoGAN's from `info_codes`.
    """

    description: str
    nets: Nets = dataclasses.field(default_factory=Nets)
    batch_size: int = 64
    d_optimizer: Adam = Adam(2e-4, 0.5)
    g_optimizer: Adam = Adam(2e-4, 0.5)
    n_critic: int = 1
    loss: str | None = None
    d_loss: str | None = None
    g_loss: str | None = None
    penalties: dict | None = None
    label_smoothing: float | tuple | None = None
    label_flip: float = 0.0
    instance_noise: float | None = None
    instance_noise_fade: float = 1.0
    augment: str | None = None
    ema: float | None = None
    ema_warmup: bool = True
    one_step: bool = False
    precision: str = "float32"
    conditioning: str | None = None
    class_loss_weight: float = 1.0
    classify_fakes: bool = False
    info_codes: int = 4
    continuous_codes: int = 0

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise ValueError(f"Unknown precision {self.precision!r}; choose one of {PRECISIONS}.")
        if self.conditioning is not None and self.conditioning not in CONDITIONINGS:
            raise ValueError(f"Unknown conditioning {self.conditioning!r}; choose one of {CONDITIONINGS}.")
        if self.conditioning is not None and self.nets.data != "images":
            raise ValueError("conditioning needs image nets (book or dcgan), not 2D-point MLPs.")
        for name in ("n_critic", "batch_size"):
            _check_count("Recipe", name, getattr(self, name))
        if self.one_step and self.n_critic != 1:
            raise ValueError("one_step trains D and G from one loss: n_critic must be 1.")
        if self.instance_noise is not None and not 0 < self.instance_noise_fade <= 1:
            raise ValueError(f"instance_noise_fade is a fraction of the run in (0, 1], got {self.instance_noise_fade}.")

    def override(self, **changes):
        """A copy with `changes`; `None` values change nothing (so CLI options that were not given pass through).

        Only `None` means "not given": 0, 0.0 and False are values like any other (`label_smoothing=0.0`,
        `ema=0.0`, `one_step=False` are set as given; `n_critic=0` is refused by the recipe's checks).

        Takes any field of the recipe, and these shortcuts: `learning_rate` (both optimizers),
        `d_learning_rate` / `g_learning_rate` (one of them: TTUR), `latent_dim`, `width` (the nets),
        `generator` / `discriminator` (options merged into the nets'), `gp_weight` (the weight of
        the penalty named "gp"), `add_penalties` (`{name: PenaltyTerm}` merged into the recipe's).
        """
        changes = {key: value for key, value in changes.items() if value is not None}
        recipe = self
        for key, sides in (("learning_rate", ("d", "g")), ("d_learning_rate", ("d",)), ("g_learning_rate", ("g",))):
            if key in changes:
                rate = changes.pop(key)
                for side in sides:
                    name = f"{side}_optimizer"
                    recipe = dataclasses.replace(recipe, **{name: dataclasses.replace(getattr(recipe, name), learning_rate=rate)})
        if "add_penalties" in changes:
            recipe = dataclasses.replace(recipe, penalties={**(recipe.penalties or {}), **changes.pop("add_penalties")})
        nets_changes = {key: changes.pop(key) for key in ("latent_dim", "width") if key in changes}
        for side in ("generator", "discriminator"):
            if side in changes:
                nets_changes[side] = {**getattr(recipe.nets, side), **changes.pop(side)}
        if nets_changes:
            recipe = dataclasses.replace(recipe, nets=dataclasses.replace(recipe.nets, **nets_changes))
        if "gp_weight" in changes:
            weight = changes.pop("gp_weight")
            if not recipe.penalties or "gp" not in recipe.penalties:
                raise ValueError("gp_weight: this recipe has no penalty named 'gp'.")
            recipe = dataclasses.replace(
                recipe, penalties={**recipe.penalties, "gp": dataclasses.replace(recipe.penalties["gp"], weight=weight)}
            )
        unknown = set(changes) - {field.name for field in dataclasses.fields(Recipe)}
        if unknown:
            raise TypeError(f"Recipe.override got unknown options {sorted(unknown)}.")
        return dataclasses.replace(recipe, **changes)


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """A model of the registry: its trainer class, a one-line summary, its default recipe and all its recipes."""

    trainer: type
    summary: str
    default: str
    recipes: dict

    def recipe_names(self, data=None):
        """Names of the recipes, only those for `data` ("images" or "points") when given."""
        return [name for name, recipe in self.recipes.items() if data is None or recipe.nets.data == data]


# ---------------------------------------------------------------------------------------------- the registry

# The mode-collapse lab (chapter 13.6, benchmarks/mode_collapse.py): MLPs on PacGAN's 2D mixtures,
# Adam(1e-3, 0.5, 0.9) decayed linearly to 0 so the last steps settle the samples onto the modes.
_LAB_ADAM = Adam(1e-3, 0.5, 0.9, decay="linear")
_LAB = Recipe(
    "plain GAN on 2D points: MLP G and D (3×128), BCE losses",
    nets=Nets("mlp", latent_dim=2, generator={"hidden": (128, 128, 128)}, discriminator={"hidden": (128, 128, 128)}),
    batch_size=100, d_optimizer=_LAB_ADAM, g_optimizer=_LAB_ADAM,
)
_ZERO_GP = PenaltyTerm("gradient_penalty", 1 / 160, {"target": 0.0})


def _lab(description, penalties=None, ema=None, **discriminator):
    # ema_warmup off: the lab's EMA figures (benchmarks/mode_collapse.py) were measured without it
    return dataclasses.replace(
        _LAB.override(discriminator=discriminator), description=description, penalties=penalties, ema=ema, ema_warmup=False
    )


MODELS = {
    "dcgan": ModelEntry(
        trainer=DCGAN,
        summary="the book's 13.3 DCGAN: BCE losses, Adam(2e-4, beta_1=0.5), one D and one G step per batch",
        default="modern",
        recipes={
            "book": Recipe(
                "chapter 13.3 as written; collapses on real faces after ~2,000 steps", nets=Nets("book"),
            ),
            "dcgan": Recipe(
                "the DCGAN paper's init, first layer and discriminator; trains", nets=Nets("dcgan"),
            ),
            # benchmarks/ablate.py: the two tricks that helped on toy and real faces without slowing a step much
            "modern": Recipe(
                "the DCGAN paper's nets trained as GANs are today: a lazy R1 penalty on D (Mescheder 2018; γ = 2, "
                "every 4 steps) and an EMA of G's weights (0.999, warm-up) that sampling and export use",
                nets=Nets("dcgan"), penalties={"r1": PenaltyTerm("r1", 1.0, every=4)}, ema=0.999,
            ),
            "mlp": _LAB,
            "mlp+mbd": _lab("+ minibatch discrimination (Salimans 2016), 5 kernels of dim 3", minibatch="mbd",
                            mbd_kernels=5, mbd_dim=3),
            "mlp+mbstd": _lab("+ minibatch stddev (Karras 2018), groups of 4", minibatch="mbstd"),
            "mlp+sn": _lab("+ spectral norm on every D layer (Miyato 2018)", spectral_norm=True),
            "pacgan2": _lab("PacGAN2 (Lin 2018): D judges 2 samples packed", pack=2),
            "mlp+zgp": _lab(
                "+ a zero-centred gradient penalty on D (Thanh-Tung 2019), λ = 1/160 per unit of data scale "
                "(0.1 on the ±4 grid)", penalties={"zero_gp": _ZERO_GP},
            ),
            "mlp-best": _lab(
                "+ the zero-centred GP faded out over the first half of the run + an EMA of G's weights "
                "(decay 0.9995 per step)", penalties={"zero_gp": dataclasses.replace(_ZERO_GP, fade=0.5)}, ema=0.9995,
            ),
        },
    ),
    "wgan-gp": ModelEntry(
        trainer=WGANGP,
        summary="the book's 13.8 WGAN-GP: a critic with a gradient penalty, n_critic critic steps per generator step",
        default="gulrajani",
        recipes={
            "book": Recipe(
                "chapter 13.8 as its code runs: the DCGAN nets with BatchNorm in the critic, batch 512, "
                "Adam(5e-4, beta_1=0.5). BatchNorm couples the samples, so the penalty no longer constrains each "
                "sample's gradient, which the WGAN-GP paper warns against",
                nets=Nets("book"), batch_size=512, d_optimizer=Adam(5e-4, 0.5), g_optimizer=Adam(5e-4, 0.5),
                n_critic=5, penalties={"gp": PenaltyTerm("gradient_penalty", 10.0)},
            ),
            "gulrajani": Recipe(
                "the WGAN-GP paper's advice: layer norm instead of BatchNorm in the critic, "
                "Adam(1e-4, beta_1=0.5, beta_2=0.9), batch 64",
                nets=Nets("dcgan", discriminator={"norm": "layer"}), batch_size=64,
                d_optimizer=Adam(1e-4, 0.5, 0.9), g_optimizer=Adam(1e-4, 0.5, 0.9),
                n_critic=5, penalties={"gp": PenaltyTerm("gradient_penalty", 10.0)},
            ),
            "mlp": dataclasses.replace(
                _LAB, description="WGAN-GP on 2D points (Gulrajani 2017): n_critic 5, λ 10, Adam(1e-4, 0.5, 0.9)",
                d_optimizer=Adam(1e-4, 0.5, 0.9, decay="linear"), g_optimizer=Adam(1e-4, 0.5, 0.9, decay="linear"),
                n_critic=5,
            ),
        },
    ),
}


def get_model(model):
    """The registry entry of `model` ("dcgan" or "wgan-gp")."""
    if model not in MODELS:
        raise ValueError(f"Unknown model {model!r}; choose one of {sorted(MODELS)}.")
    return MODELS[model]


def get_recipe(model, recipe=None):
    """The recipe named `recipe` of `model` (default: the model's default recipe); a `Recipe` passes through."""
    if isinstance(recipe, Recipe):
        return recipe
    entry = get_model(model)
    name = recipe or entry.default
    if name not in entry.recipes:
        raise ValueError(f"Unknown {model} recipe {name!r}; choose one of {sorted(entry.recipes)}.")
    return entry.recipes[name]


@contextlib.contextmanager
def _dtype_policy(name):
    """Layers created inside take the dtype policy `name` (their variables stay float32 under mixed ones)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def build_nets(spec, image_size=IMAGE_SIZE, synchronized_bn=False, data_scale=1.0, num_classes=None, conditioning=None,
               continuous_codes=0):
    """(generator, discriminator) of a `Nets` spec; see `build_gan` for `data_scale`; conditional with `num_classes`."""
    if spec.data == "points":
        generator_options = {"output_scale": data_scale, **spec.generator}
        generator = nets.build_mlp_generator(latent_dim=spec.latent_dim, **generator_options)
        return generator, nets.build_mlp_discriminator(**spec.discriminator)
    bn = {"synchronized_bn": synchronized_bn}
    classes = {"num_classes": num_classes}
    generator = nets.build_generator(
        spec.architecture, image_size, spec.latent_dim, spec.width, **bn, **classes, **spec.generator
    )
    discriminator = nets.build_discriminator(
        spec.architecture, image_size, spec.width, **bn, **classes, conditioning=conditioning,
        **({"continuous_codes": continuous_codes} if continuous_codes else {}), **spec.discriminator,
    )
    return generator, discriminator


def build_gan(
    model="dcgan", recipe=None, *, image_size=IMAGE_SIZE, seed=None, total_steps=None, data_scale=1.0,
    synchronized_bn=False, steps_per_execution=1, num_classes=None, class_probabilities=None, **overrides,
):
    """The compiled trainer of a recipe, ready for `fit`.

    Args:
        model: a key of `MODELS`.
        recipe: a recipe name of that model (default: its default recipe) or a `Recipe`.
        image_size: side of the images (image architectures).
        seed: the trainer's seed (z, penalties, augmentation). Weight initialisation follows
            `keras.utils.set_random_seed`, which the caller sets first.
        total_steps: the run's length in generator steps; needed by recipes whose learning rates
            decay or whose penalties fade.
        data_scale: the largest |value| of the data (images in [−1, 1]: 1; the 2D grid: 4). A point
            generator (`mlp`) scales its output to it, and the weights of the recipe's penalties, given
            for data of unit scale, are multiplied by data_scale²: a penalty on ‖∇ₓD‖² is then the same
            penalty on the gradient with respect to x / data_scale. (A trainer's own default penalty,
            when the recipe names none, is used as it is.)
        synchronized_bn: BatchNorm statistics over all replicas of a distribution strategy.
        steps_per_execution: training steps per call of the compiled function (Keras' compile option).
        num_classes: the data's number of classes, for a recipe with `conditioning` "projection" or
            "acgan" (InfoGAN takes its recipe's `info_codes`).
        class_probabilities: the data's class frequencies, which G's labels are drawn from (default: uniform).
        **overrides: changes to the recipe, as `Recipe.override` takes them (learning_rate, width,
            latent_dim, n_critic, gp_weight, ...); `None` values are ignored.

    Call it inside `strategy.scope()` to train under a distribution strategy: the networks and both
    optimizers are created (and built) there.
    """
    entry = get_model(model)
    recipe = get_recipe(model, recipe).override(**overrides)
    conditional = {}
    if recipe.conditioning == "infogan":
        num_classes = recipe.info_codes
    if recipe.conditioning is not None:
        if num_classes is None:
            raise ValueError(f"A {recipe.conditioning} recipe needs the data's number of classes (num_classes=...).")
        conditional = dict(
            num_classes=num_classes, conditioning=recipe.conditioning, class_loss_weight=recipe.class_loss_weight,
            continuous_codes=recipe.continuous_codes, classify_fakes=recipe.classify_fakes,
            class_probabilities=None if recipe.conditioning == "infogan" else class_probabilities,
        )
    with _dtype_policy(recipe.precision):
        generator, discriminator = build_nets(
            recipe.nets, image_size, synchronized_bn, data_scale, num_classes=conditional.get("num_classes"),
            conditioning=recipe.conditioning, continuous_codes=recipe.continuous_codes,
        )
    trainer = entry.trainer
    if recipe.one_step:
        if entry.trainer is not DCGAN:
            raise ValueError(f"one_step is a way to train the dcgan model's losses; {model} trains with {trainer.__name__}.")
        trainer = OneStepGAN
    options = {} if recipe.one_step else {"n_critic": recipe.n_critic}
    gan = trainer(
        generator, discriminator, seed=seed, ema_decay=recipe.ema, ema_warmup=recipe.ema_warmup, **options, **conditional
    )
    updates = None if total_steps is None else int(total_steps)
    terms = None
    if recipe.penalties is not None:
        terms = {name: term.build(updates, data_scale) for name, term in recipe.penalties.items()}
    noise = recipe.instance_noise
    if noise is not None:
        if not updates:
            raise ValueError("A recipe with instance noise needs the run's length (total_steps): the noise fades to 0.")
        noise = keras.optimizers.schedules.PolynomialDecay(noise, max(1, round(recipe.instance_noise_fade * updates)), 0.0)
    gan.compile(
        d_optimizer=recipe.d_optimizer.build(None if updates is None else updates * recipe.n_critic),
        g_optimizer=recipe.g_optimizer.build(updates),
        loss=recipe.loss,
        d_loss=recipe.d_loss,
        g_loss=recipe.g_loss,
        penalties=terms,
        augment=recipe.augment,
        label_smoothing=recipe.label_smoothing,
        label_flip=recipe.label_flip,
        instance_noise=noise,
        steps_per_execution=steps_per_execution,
    )
    return gan
