"""kgan.metrics.toy_face_modes: Stacked-MNIST-style mode counts on collapsed, mixed and real toy faces."""

import dataclasses
import json
import math

import numpy as np
import pytest

from kgan.datasets.toy_faces import mode_index, num_modes, render_face, toy_faces
from kgan.metrics.toy_face_modes import (
    ToyFaceModes,
    expected_modes_uniform,
    toy_face_modes,
)

K = 576  # 4 backgrounds x 3 face shapes x 4 hair colours x 3 hair styles x 4 eye colours
FACE_A = [1, 2, 3, 1, 2]
FACE_B = [3, 0, 1, 2, 0]


def test_one_repeated_face_covers_one_mode_with_kl_log_576():
    # A generator collapsed onto a single image.
    images = np.repeat(render_face(FACE_A, 64)[None], 500, axis=0)
    modes = toy_face_modes(images)
    assert isinstance(modes, ToyFaceModes) and num_modes() == K
    assert modes.modes_covered == 1 and modes.num_modes == K
    assert modes.num_samples == 500 and modes.decoded_fraction == 1.0
    # p = 1 on one mode: KL(p || uniform) = log K - H(p) = log 576 - 0.
    assert modes.kl_to_uniform == pytest.approx(math.log(576))
    assert modes.counts.shape == (K,) and modes.counts.sum() == 500
    assert modes.counts[mode_index(np.array(FACE_A))] == 500
    assert str(modes) == "1/576 modes, KL 6.36 nats, 100.0% decodable"


def test_even_mix_of_two_faces_has_kl_log_576_minus_log_2():
    images = np.concatenate(
        [np.repeat(render_face(FACE_A, 32)[None], 250, 0), np.repeat(render_face(FACE_B, 32, rng=3)[None], 250, 0)]
    )
    modes = toy_face_modes(images)
    assert modes.modes_covered == 2
    # p = (1/2, 1/2): H(p) = log 2.
    assert modes.kl_to_uniform == pytest.approx(math.log(576) - math.log(2))
    assert sorted(np.flatnonzero(modes.counts)) == sorted(mode_index(np.array([FACE_A, FACE_B])))


def test_real_faces_score_what_uniform_sampling_predicts():
    n = 5000
    images, labels = toy_faces(n, 32, seed=21)
    modes = toy_face_modes(images)
    assert modes.decoded_fraction == 1.0 and modes.num_samples == n
    np.testing.assert_array_equal(modes.counts, np.bincount(mode_index(labels), minlength=K))
    # 5,000 uniform draws miss a mode with probability (1 - 1/576)^5000 ≈ 1.7e-4.
    assert abs(modes.modes_covered - expected_modes_uniform(n)) <= 3
    # KL of a uniform sample's histogram: (K - 1) / (2 N) ≈ 0.058 nats to first order;
    # compare with the spread of simulated uniform histograms.
    rng = np.random.default_rng(0)
    simulated = []
    for counts in rng.multinomial(n, np.full(K, 1 / K), size=300):
        p = counts[counts > 0] / n
        simulated.append(math.log(K) + np.sum(p * np.log(p)))
    assert np.mean(simulated) == pytest.approx((K - 1) / (2 * n), rel=0.1)
    assert abs(modes.kl_to_uniform - np.mean(simulated)) < 5 * np.std(simulated)


def test_undecodable_samples_are_counted_out():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (30, 32, 32, 3), dtype=np.uint8)
    nothing = toy_face_modes(noise)
    assert nothing.modes_covered == 0 and nothing.kl_to_uniform is None
    assert nothing.decoded_fraction == 0.0 and nothing.counts.sum() == 0
    assert str(nothing) == "0/576 modes, KL n/a, 0.0% decodable"
    some = toy_face_modes(np.concatenate([noise[:10], np.repeat(render_face(FACE_B, 32)[None], 30, 0)]))
    assert some.decoded_fraction == 0.75 and some.modes_covered == 1 and some.counts.sum() == 30
    assert some.kl_to_uniform == pytest.approx(math.log(576))


def test_expected_modes_uniform_hand_values_and_simulation():
    assert expected_modes_uniform(0) == 0
    assert expected_modes_uniform(1) == pytest.approx(1)
    # 576 (1 - (575/576)^2) = 2 - 1/576: two draws collide with probability 1/576.
    assert expected_modes_uniform(2) == pytest.approx(2 - 1 / 576)
    assert expected_modes_uniform(576) == pytest.approx(576 * (1 - (575 / 576) ** 576))
    assert 575 < expected_modes_uniform(5000) < 576
    rng = np.random.default_rng(0)
    covered = [len(np.unique(rng.integers(0, K, 500))) for _ in range(400)]
    assert np.mean(covered) == pytest.approx(expected_modes_uniform(500), abs=1.5)


def test_result_is_frozen_and_converts_to_json():
    modes = toy_face_modes(render_face(FACE_A, 32)[None])
    with pytest.raises(dataclasses.FrozenInstanceError):
        modes.modes_covered = 2
    record = json.loads(json.dumps(modes.to_dict()))
    assert record["modes_covered"] == 1 and record["num_modes"] == K and record["num_samples"] == 1
    assert record["decoded_fraction"] == 1.0 and record["kl_to_uniform"] == pytest.approx(math.log(576))
    assert len(record["counts"]) == K and sum(record["counts"]) == 1


def test_bad_images_raise():
    with pytest.raises(ValueError, match="uint8"):
        toy_face_modes(np.zeros((4, 64, 64, 3), np.float32))
