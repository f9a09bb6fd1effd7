"""kgan.evaluate: scores with a protocol card, any generator or image set as the generated side, and the callback."""

import json

import numpy as np
import pytest

import kgan
from kgan.evaluate import EvaluateCallback, evaluate, evaluate_source, load_images
from kgan.export import sample_images
from kgan.metrics.features import FeatureExtractor
from tests.helpers import IMAGE_SIZE, toy_batches, write_png
from tests.test_latent import StandIn, conditional_generator


def toy(n, seed, size=IMAGE_SIZE):
    return kgan.datasets.toy_faces(n, image_size=size, seed=seed)[0]


def colour_features():
    """A fixed extractor: each channel's mean and spread over 4×4 blocks (responds to colour and blur)."""

    def fn(images):
        x = np.asarray(images, np.float32)
        n, h, w, c = x.shape
        blocks = x.reshape(n, 4, h // 4, 4, w // 4, c)
        return np.concatenate([blocks.mean(axis=(2, 4)).reshape(n, -1), blocks.std(axis=(2, 4)).reshape(n, -1)], axis=1)

    return FeatureExtractor(fn, name="colour-blocks", input_size=IMAGE_SIZE, feature_dim=96, sha256="test")


def test_scores_and_card_of_two_toy_samples():
    evaluation = evaluate(toy(300, 1), toy(200, 2), features=colour_features(), seed=3, real_source="toy 1")
    scores, card = evaluation.scores, evaluation.card
    assert set(scores) >= {"swd", "swd_16", "kid", "kid_std", "fd", "precision", "recall", "density", "coverage"}
    assert scores["swd"] == pytest.approx(scores["swd_16"])  # 16 px images: one pyramid level
    assert (card.n_real, card.n_generated, card.image_size, card.seed) == (300, 200, IMAGE_SIZE, 3)
    assert card.extractor["name"] == "colour-blocks" and card.extractor["sha256"] == "test"
    assert card.versions["kgan"] == kgan.__version__
    warnings = " ".join(card.warnings)
    assert "fd: n = 200 is below 2,048" in warnings and "n real (300) ≠ n generated (200)" in warnings
    table = evaluation.table()
    assert "fd" in table and "WARNING" in table and "colour-blocks" in table
    # the same inputs and seed give the same scores
    assert evaluate(toy(300, 1), toy(200, 2), features=colour_features(), seed=3).scores == scores


def test_a_set_scores_better_against_its_own_distribution_than_a_blurred_one():
    real, same = toy(400, 1), toy(400, 2)
    blurred = (0.25 * (same.astype(np.float32) + np.roll(same, 1, 1) + np.roll(same, 1, 2) + np.roll(same, (1, 1), (1, 2))))
    good = evaluate(real, same, features=colour_features()).scores
    bad = evaluate(real, blurred.round().astype(np.uint8), features=colour_features()).scores
    for lower_is_better in ("swd", "kid", "fd"):
        assert good[lower_is_better] < bad[lower_is_better], lower_is_better
    for higher_is_better in ("precision", "coverage"):
        assert good[higher_is_better] > bad[higher_is_better], higher_is_better


def test_feature_metrics_without_features_name_the_option():
    with pytest.raises(ValueError, match="need features: pass --features"):
        evaluate(toy(20, 1), toy(20, 2), metrics=("swd", "fd"))
    with pytest.raises(ValueError, match="unknown metrics"):
        evaluate(toy(20, 1), toy(20, 2), metrics=("fid",))
    with pytest.raises(ValueError, match="uint8"):
        evaluate(toy(20, 1).astype(np.float32), toy(20, 2))


def test_npz_sets_are_checked(tmp_path):
    np.savez(tmp_path / "good.npz", images=toy(10, 1))
    images, _, _ = load_images(tmp_path / "good.npz", image_size=IMAGE_SIZE)
    np.testing.assert_array_equal(images, toy(10, 1))
    np.savez(tmp_path / "floats.npz", images=toy(4, 1).astype(np.float32) / 127.5 - 1)
    with pytest.raises(ValueError, match="floats.npz.*must be uint8.*to_uint8"):
        load_images(tmp_path / "floats.npz")
    with pytest.raises(ValueError, match="the comparison needs 32×32"):
        load_images(tmp_path / "good.npz", image_size=32)
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        load_images(tmp_path / "missing.npz")


def test_a_model_and_its_samples_as_npz_score_the_same(make_gan, tmp_path):
    gan = make_gan()
    gan.fit(toy_batches().take(2), verbose=0)
    gan.generator.save(tmp_path / "generator.keras")
    folder = tmp_path / "real"
    for index, image in enumerate(toy(40, 5)):
        write_png(folder / f"{index:03d}.png", image)
    from_model = evaluate_source(str(tmp_path / "generator.keras"), str(folder), n=30, metrics=("swd",), seed=4)
    np.savez(tmp_path / "samples.npz", images=sample_images(tmp_path / "generator.keras", 30, 4))
    from_files = evaluate_source(str(tmp_path / "samples.npz"), str(folder), n=30, metrics=("swd",), seed=4)
    assert from_model.scores == from_files.scores
    assert from_model.card.n_real == 30 and "real" in from_model.card.real_source
    assert "z seed 4" in from_model.card.generated_source and "samples.npz" in from_files.card.generated_source


def test_evaluate_callback_logs_scores_and_keeps_the_best_generator(make_gan, tmp_path):
    gan = make_gan()
    callback = EvaluateCallback(toy(64, 1), tmp_path, every_n_steps=2, metric="swd", n=32, seed=0)
    gan.fit(toy_batches(num_images=64).repeat(), steps_per_epoch=6, epochs=1, verbose=0, callbacks=[callback])
    scores = callback.history["swd"]
    assert [step for step, _ in scores] == [2, 4, 6]
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [(line["step"], line["swd"]) for line in lines] == scores
    best_step, best_value = min(scores, key=lambda point: point[1])
    assert json.loads((tmp_path / "best.json").read_text()) == {"step": best_step, "metric": "swd", "value": best_value}
    assert (tmp_path / "best_generator.keras").exists()


def test_a_generator_that_emits_one_image_gets_one_mode_low_recall_and_low_coverage():
    real = toy(500, 1, size=32)
    one_image = np.repeat(toy(1, 2, size=32), 500, axis=0)
    features = colour_features()
    collapsed = evaluate(real, one_image, metrics=("pr", "coverage", "modes"), features=features).scores
    healthy = evaluate(real, toy(500, 3, size=32), metrics=("pr", "coverage", "modes"), features=features).scores
    assert collapsed["modes"] == 1 and healthy["modes"] > 300
    assert collapsed["recall"] < 0.05 and healthy["recall"] > 0.5
    assert collapsed["coverage"] < 0.05 and healthy["coverage"] > 0.5


def test_evaluate_callback_and_evaluate_source_sample_a_conditional_generator(tmp_path):
    from kgan.latent import class_labels, generate, sample_latent

    generator = conditional_generator(num_classes=3, latent_dim=8, image_size=IMAGE_SIZE)
    real = toy(40, 1)
    callback = EvaluateCallback(real, tmp_path, every_n_steps=1, metric="swd", n=24, seed=2)
    callback.set_model(StandIn(generator, generator_steps=1))
    scores = callback.evaluate(1)
    # the same z and seeded classes as every kgan sampler: z (2, 0), classes (2, 1)
    generated = kgan.images.to_uint8(generate(generator, sample_latent(24, 8, 2), class_labels(24, 3, 2)))
    assert scores == {"swd": evaluate(real[:24], generated, ("swd",), seed=2).scores["swd"]}  # it keeps n reals
    assert (tmp_path / "best_generator.keras").exists()
    # a conditional .keras file as the generated side: its samples are sample_images', random classes by seed
    generator.save(tmp_path / "generator.keras")
    folder = tmp_path / "real"
    for index, image in enumerate(real):
        write_png(folder / f"{index:03d}.png", image)
    from_model = evaluate_source(str(tmp_path / "generator.keras"), str(folder), n=24, metrics=("swd",), seed=2)
    assert from_model.scores["swd"] == pytest.approx(
        evaluate(load_images(str(folder), 24, IMAGE_SIZE, seed=2)[0], generated, ("swd",), seed=2).scores["swd"], rel=1e-6
    )
