"""kgan.recipes: the registry, recipes built by keyword, overrides, and what `build_gan` makes of each field."""

import dataclasses
import json

import keras
import numpy as np
import pytest

import kgan
from kgan.recipes import MODELS, Adam, Nets, PenaltyTerm, Recipe, build_gan, get_model, get_recipe


def layer_types(model):
    return {type(layer).__name__ for layer in model.layers}


def test_every_model_names_its_trainer_summary_and_a_default_among_its_recipes():
    assert set(MODELS) == {"dcgan", "wgan-gp"}
    assert MODELS["dcgan"].trainer is kgan.DCGAN and MODELS["wgan-gp"].trainer is kgan.WGANGP
    for model, entry in MODELS.items():
        assert entry.summary and entry.default in entry.recipes
        assert entry.recipes[entry.default].nets.data == "images"
        for name, recipe in entry.recipes.items():
            assert isinstance(recipe, Recipe) and recipe.description, (model, name)
            json.dumps(dataclasses.asdict(recipe))  # a run can record it
    assert MODELS["dcgan"].recipe_names("images") == ["book", "dcgan", "modern"]
    assert MODELS["wgan-gp"].recipe_names("images") == ["book", "gulrajani"]
    assert "mlp-best" in MODELS["dcgan"].recipe_names("points")


@pytest.mark.parametrize("model, name", [(m, n) for m, e in MODELS.items() for n in e.recipe_names("images")])
def test_every_image_recipe_builds_the_trainer_it_describes(model, name):
    recipe = get_recipe(model, name)
    keras.utils.set_random_seed(0)
    size = 64 if recipe.nets.architecture == "book" else 16
    gan = build_gan(model, name, image_size=size, width=2, latent_dim=4, seed=3)
    assert type(gan) is MODELS[model].trainer and gan.seed == 3 and gan.n_critic == recipe.n_critic
    assert gan.generator.output_shape == (None, size, size, 3) and gan.latent_dim == 4
    for optimizer, spec in ((gan.d_optimizer, recipe.d_optimizer), (gan.g_optimizer, recipe.g_optimizer)):
        assert float(optimizer.learning_rate) == pytest.approx(spec.learning_rate)
        assert (optimizer.beta_1, optimizer.beta_2) == pytest.approx((spec.beta_1, spec.beta_2))
    assert set(gan.penalties) == set(recipe.penalties or gan.default_penalties())


def test_the_wgan_gp_recipes_follow_the_book_and_the_paper():
    book, paper = get_recipe("wgan-gp", "book"), get_recipe("wgan-gp", "gulrajani")
    assert (book.batch_size, book.d_optimizer.learning_rate, book.d_optimizer.beta_1, book.n_critic) == (512, 5e-4, 0.5, 5)
    assert (paper.batch_size, paper.g_optimizer, paper.n_critic) == (64, Adam(1e-4, 0.5, 0.9), 5)
    assert book.penalties["gp"].weight == paper.penalties["gp"].weight == 10.0
    book_gan = build_gan("wgan-gp", "book", width=2)
    paper_gan = build_gan("wgan-gp", "gulrajani", width=2, image_size=16)
    assert "BatchNormalization" in layer_types(book_gan.discriminator)
    assert "BatchNormalization" not in layer_types(paper_gan.discriminator)
    assert "GroupNormalization" in layer_types(paper_gan.discriminator)
    assert paper_gan.gp_weight == 10.0 and paper_gan.penalties["gp"][1].fn is kgan.penalties.gradient_penalty
    # the critic ends in a raw score
    assert book_gan.discriminator.layers[-1].get_config().get("activation", "linear") == "linear"


def test_the_dcgan_recipes_differ_in_their_architecture_only():
    book, paper = get_recipe("dcgan", "book"), get_recipe("dcgan", "dcgan")
    assert (book.nets.architecture, paper.nets.architecture) == ("book", "dcgan")
    assert dataclasses.replace(book, description="", nets=paper.nets) == dataclasses.replace(paper, description="")
    assert get_recipe("dcgan") is get_recipe("dcgan", "modern")  # the default: the paper's nets + R1 + EMA


def test_override_changes_only_what_it_names():
    recipe = get_recipe("wgan-gp", "gulrajani")
    changed = recipe.override(
        learning_rate=3e-4, width=8, latent_dim=16, n_critic=2, gp_weight=1.0, batch_size=None,
        generator={"spectral_norm": True}, discriminator={"attention_at": 8},
    )
    assert changed.d_optimizer == Adam(3e-4, 0.5, 0.9) and changed.g_optimizer == Adam(3e-4, 0.5, 0.9)
    assert (changed.nets.width, changed.nets.latent_dim, changed.n_critic) == (8, 16, 2)
    assert changed.nets.generator == {"spectral_norm": True}
    assert changed.nets.discriminator == {"norm": "layer", "attention_at": 8}  # merged into the recipe's
    assert changed.penalties["gp"].weight == 1.0 and changed.batch_size == 64  # None changes nothing
    assert recipe.penalties["gp"].weight == 10.0 and recipe.nets.discriminator == {"norm": "layer"}  # untouched
    assert recipe.override() == recipe
    with pytest.raises(ValueError, match="no penalty named 'gp'"):
        get_recipe("dcgan").override(gp_weight=5.0)
    with pytest.raises(TypeError, match=r"unknown options \['wdith'\]"):
        recipe.override(wdith=3)
    with pytest.raises(ValueError, match="Unknown precision 'float8'"):
        recipe.override(precision="float8")


@pytest.mark.parametrize("field, value", [
    ("n_critic", 0), ("n_critic", -3), ("batch_size", 0), ("batch_size", 2.5), ("width", 0), ("latent_dim", -1),
    ("n_critic", True),
])
def test_override_refuses_counts_below_one_naming_the_field(field, value):
    # 0 is a value, not "not given": it must be refused by name, never replaced by the recipe's own count
    with pytest.raises(ValueError, match=rf"{field} must be a whole number of at least 1, got {value!r}"):
        get_recipe("wgan-gp").override(**{field: value})


def test_override_keeps_zeros_as_values():
    # only None means "not given"; a zero trick setting is set as given (ema 0.0 is an average that follows G exactly)
    recipe = get_recipe("dcgan", "dcgan").override(label_smoothing=0.0, label_flip=0.0, instance_noise=0.0, ema=0.0,
                                                   gp_weight=None, one_step=False)
    assert (recipe.label_smoothing, recipe.label_flip, recipe.instance_noise, recipe.ema) == (0.0, 0.0, 0.0, 0.0)
    assert get_recipe("dcgan").ema == 0.999 and get_recipe("dcgan").override(ema=0.0).ema == 0.0
    assert get_recipe("wgan-gp").override(gp_weight=0.0).penalties["gp"].weight == 0.0


def test_unknown_models_and_recipes_are_named():
    with pytest.raises(ValueError, match="Unknown model 'stylegan'"):
        get_model("stylegan")
    with pytest.raises(ValueError, match=r"Unknown dcgan recipe 'gulrajani'; choose one of \['book', 'dcgan'"):
        build_gan("dcgan", "gulrajani")
    with pytest.raises(ValueError, match="one_step trains D and G from one loss: n_critic must be 1"):
        build_gan("dcgan", image_size=16, width=2, n_critic=5, one_step=True)
    with pytest.raises(ValueError, match="one_step is a way to train the dcgan model's losses"):
        build_gan("wgan-gp", image_size=16, width=2, n_critic=1, one_step=True)


def test_a_decaying_learning_rate_spans_the_run():
    linear = Adam(1e-3, 0.5, 0.9, decay="linear")
    recipe = Recipe("test", nets=Nets("dcgan", width=2), d_optimizer=linear, g_optimizer=linear, n_critic=3)
    gan = build_gan("wgan-gp", recipe, image_size=16, total_steps=100)
    d_rate, g_rate = gan.d_optimizer._learning_rate, gan.g_optimizer._learning_rate
    assert isinstance(g_rate, keras.optimizers.schedules.PolynomialDecay)
    assert (g_rate.decay_steps, d_rate.decay_steps) == (100, 300)  # D takes n_critic updates a step
    assert float(g_rate(50)) == pytest.approx(5e-4) and float(g_rate(100)) == 0.0
    with pytest.raises(ValueError, match="needs the run's length"):
        build_gan("wgan-gp", recipe, image_size=16)


def test_a_fading_penalty_becomes_a_scheduled_penalty_scaled_to_the_data():
    recipe = get_recipe("dcgan", "mlp-best").override(generator={"hidden": (4,)}, discriminator={"hidden": (4,)})
    gan = build_gan("dcgan", recipe, total_steps=1000, data_scale=4.0)
    weight, penalty = gan.penalties["zero_gp"]
    assert weight == pytest.approx(1 / 160 * 16)  # λ per unit of data scale, times data_scale²
    assert penalty.options == {"target": 0.0}
    assert [float(penalty.schedule(step)) for step in (0, 250, 500, 900)] == [1.0, 0.5, 0.0, 0.0]  # fades over half the run
    assert gan.ema_decay == 0.9995
    assert gan.generator.get_layer("output_scale").scale == 4.0  # G's output on the data's range
    z = np.random.default_rng(0).normal(size=(3, 2)).astype("float32")
    plain = build_gan("dcgan", recipe, total_steps=1000)
    assert plain.penalties["zero_gp"][0] == pytest.approx(1 / 160) and "output_scale" not in [l.name for l in plain.generator.layers]
    assert gan.generator(z).shape == (3, 2)


def test_the_recipes_precision_is_the_networks_dtype_policy():
    recipe = get_recipe("dcgan").override(precision="mixed_bfloat16", width=2)
    gan = build_gan("dcgan", recipe, image_size=16)
    conv = gan.discriminator.get_layer("conv2")
    assert conv.compute_dtype == "bfloat16" and conv.kernel.dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"  # the global policy is left as it was
    assert build_gan("dcgan", image_size=16, width=2).discriminator.get_layer("conv2").compute_dtype == "float32"


def test_a_recipe_names_losses_augmentation_and_ema():
    recipe = get_recipe("dcgan").override(g_loss="minimax", augment="flip", ema=0.99, width=2)
    gan = build_gan("dcgan", recipe, image_size=16)
    assert gan.g_loss_fn is kgan.losses.minimax_generator_loss and gan.augment is kgan.augment.random_flip
    assert gan.ema_decay == 0.99 and len(gan.ema_weights) == len(gan.generator.weights)
    extra = dataclasses.replace(recipe, penalties={"zgp": PenaltyTerm("gradient_penalty", 2.0, {"target": 0.0})})
    assert build_gan("dcgan", extra, image_size=16).penalties["zgp"][0] == 2.0


def test_penalty_terms_parse_from_the_command_line_and_build_lazy_or_scheduled_penalties():
    name, term = PenaltyTerm.parse("r1:0.5:every=4")
    assert (name, term) == ("r1", PenaltyTerm("r1", 0.5, every=4))
    weight, penalty = term.build()
    assert weight == 0.5 and penalty.every == 4
    _, warm = PenaltyTerm.parse("gradient_penalty:1:target=0:warmup=0.5")
    assert warm.options == {"target": 0.0} and warm.warmup == 0.5
    _, scheduled = warm.build(total_steps=100)
    assert [float(scheduled.schedule(step)) for step in (0, 25, 50, 80)] == [0.0, 0.5, 1.0, 1.0]
    _, bcr = PenaltyTerm.parse("consistency:10:augment=translation")
    assert bcr.build()[1].options["augment"] is kgan.augment.translation  # a name of kgan.augment, resolved
    for spec, message in [("r1", "write NAME:WEIGHT"), ("r1:x", "is not a number"), ("nope:1", "Unknown penalty"),
                          ("r1:1:every", "is not key=value"), ("r1:1:every=2.5", "every must be a whole number"),
                          ("r1:1:every=0", "every must be a whole number"), ("r1:-1", "finite number ≥ 0"),
                          ("r1:nan", "finite number ≥ 0"), ("r1:1:fade=2", r"fraction of the run, in \(0, 1\]"),
                          ("r1:1:warmup=x", "fraction of the run")]:
        with pytest.raises(ValueError, match=message):
            PenaltyTerm.parse(spec)
    with pytest.raises(ValueError, match="give fade or warmup, not both"):
        PenaltyTerm("r1", 1.0, fade=0.5, warmup=0.5).build(total_steps=10)


def test_overrides_set_each_learning_rate_and_add_penalties():
    recipe = get_recipe("wgan-gp").override(d_learning_rate=4e-4, g_learning_rate=1e-4,
                                            add_penalties={"lecam": PenaltyTerm("lecam", 0.1)})
    assert (recipe.d_optimizer.learning_rate, recipe.g_optimizer.learning_rate) == (4e-4, 1e-4)
    assert set(recipe.penalties) == {"gp", "lecam"}


def test_a_recipe_with_every_trick_builds_and_trains():
    recipe = get_recipe("dcgan").override(
        loss="least_squares", label_smoothing=(0.0, 0.2), label_flip=0.05, instance_noise=0.1, augment="ada", ema=0.99,
        precision="mixed_bfloat16", width=2, latent_dim=4,
        add_penalties={"r1": PenaltyTerm("r1", 0.5, every=2), "lecam": PenaltyTerm("lecam", 0.01)},
    )
    gan = build_gan("dcgan", recipe, image_size=16, seed=0, total_steps=10)
    assert gan.label_smoothing == (0.0, 0.2) and isinstance(gan.augment, kgan.augment.AdaptiveAugment)
    assert float(gan.instance_noise(0)) == pytest.approx(0.1) and float(gan.instance_noise(10)) == 0.0
    images = np.random.default_rng(0).uniform(-1, 1, (8, 16, 16, 3)).astype("float32")
    history = gan.fit(images, batch_size=4, epochs=1, verbose=0).history
    assert all(np.isfinite(values).all() for values in history.values()) and {"r1", "lecam", "augment_p"} <= set(history)
    with pytest.raises(ValueError, match="needs the run's length"):
        build_gan("dcgan", recipe, image_size=16)


def test_the_default_dcgan_recipe_is_the_paper_nets_with_lazy_r1_and_a_generator_average():
    gan = build_gan("dcgan", image_size=16, width=2, seed=0)
    weight, penalty = gan.penalties["r1"]
    assert weight == 1.0 and penalty.fn is kgan.penalties.r1_penalty and penalty.every == 4
    assert gan.ema_decay == 0.999 and gan.ema_warmup
    assert get_recipe("dcgan").nets == get_recipe("dcgan", "dcgan").nets
