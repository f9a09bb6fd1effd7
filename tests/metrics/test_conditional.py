"""kgan.metrics.conditional: label accuracy, per-class modes and InfoGAN code matching on rendered toy faces."""

import dataclasses
import itertools
import json

import numpy as np
import pytest

from kgan.datasets.toy_faces import decode_toy_faces, mode_index, render_face, toy_faces
from kgan.metrics.conditional import (
    ClassCoverage,
    CodeAgreement,
    ConditionalAccuracy,
    class_mode_coverage,
    code_agreement,
    conditional_accuracy,
)

HAIR = 2  # hair_color's column in TOY_FACE_ATTRIBUTES order
EYES = 4  # eye_color's column
BLACK, BROWN, BLONDE, PINK = range(4)


def face(hair, background=0, shape=0, style=0, eyes=0, rng=None):
    """One 32-px face with the given attribute indices (no jitter unless rng)."""
    return render_face([background, shape, hair, style, eyes], 32, rng=rng)


def noise(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def faces():
    """16 jittered real faces and their attribute rows."""
    images, labels = toy_faces(16, 32, seed=5)
    return images, labels


def test_requesting_the_true_classes_is_perfectly_accurate(faces):
    images, labels = faces
    result = conditional_accuracy(images, labels[:, HAIR])
    assert isinstance(result, ConditionalAccuracy)
    assert result.accuracy == 1.0 and result.decoded_accuracy == 1.0 and result.decoded == 1.0
    assert result.n == 16 and result.num_classes == 4
    assert result.class_names == ("black", "brown", "blonde", "pink") and result.attributes == "hair_color"
    # Every face is decoded as what it is: all counts on the diagonal, row y holding the faces of class y.
    np.testing.assert_array_equal(result.confusion, np.diag(np.bincount(labels[:, HAIR], minlength=4)))
    asked = np.bincount(labels[:, HAIR], minlength=4)
    np.testing.assert_array_equal(result.per_class, np.where(asked > 0, 1.0, np.nan))


def test_swapping_half_the_labels_halves_accuracy(faces):
    images, labels = faces
    true = labels[:, HAIR].astype(np.int64)
    requested = true.copy()
    requested[::2] = (true[::2] + 1) % 4  # 8 of 16 now ask for another hair colour
    result = conditional_accuracy(images, requested)
    assert result.accuracy == 0.5 and result.decoded_accuracy == 0.5 and result.decoded == 1.0
    # The swapped faces land off the diagonal, at (requested, true).
    expected = np.zeros((4, 4), np.int64)
    np.add.at(expected, (requested, true), 1)
    np.testing.assert_array_equal(result.confusion, expected)
    assert np.trace(result.confusion) == 8


def test_noise_decodes_to_nothing_and_scores_zero():
    result = conditional_accuracy(noise(12), np.arange(12) % 4)
    assert result.decoded == 0.0 and result.accuracy == 0.0 and result.decoded_accuracy is None
    assert result.confusion.sum() == 0
    np.testing.assert_array_equal(result.per_class, [0.0, 0.0, 0.0, 0.0])
    assert str(result) == "hair_color: n/a as requested where it reads (0.0% of samples); 0.0% of all, 4 classes, n=12"


def test_hand_built_confusion_matrix():
    # Six faces with hair colours 0, 0, 1, 2, 3, 3 then two noise images.
    images = np.concatenate([np.stack([face(h, rng=i) for i, h in enumerate([0, 0, 1, 2, 3, 3])]), noise(2)])
    requested = np.array([0, 1, 1, 2, 0, 3, 2, 1])
    result = conditional_accuracy(images, requested)
    # Decoded (requested, shown): (0,0) (1,0) (1,1) (2,2) (0,3) (3,3); the noise counts nowhere.
    expected = np.array([[1, 0, 0, 1],
                         [1, 1, 0, 0],
                         [0, 0, 1, 0],
                         [0, 0, 0, 1]])
    np.testing.assert_array_equal(result.confusion, expected)
    # Correct: faces 0, 2, 3, 5 → 4 of 8 overall, 4 of 6 decoded; 6 of 8 decode.
    assert result.accuracy == 0.5 and result.decoded_accuracy == pytest.approx(4 / 6) and result.decoded == 0.75
    # Class 0 asked of faces 0, 4 (1 right); class 1 of 1, 2, noise (1 right); class 2 of 3, noise; class 3 of 5.
    np.testing.assert_allclose(result.per_class, [1 / 2, 1 / 3, 1 / 2, 1.0])
    assert str(result) == "hair_color: 66.7% as requested where it reads (75.0% of samples); 50.0% of all, 4 classes, n=8"


def test_combination_classes_are_mixed_radix_hair_then_eyes(faces):
    images, labels = faces
    classes = labels[:, HAIR] * 4 + labels[:, EYES]  # hair most significant
    result = conditional_accuracy(images, classes, attributes="hair_color+eye_color")
    assert result.num_classes == 16 and result.accuracy == 1.0 and result.confusion.shape == (16, 16)
    assert result.class_names[0] == "black+blue" and result.class_names[5] == "brown+green"
    assert result.class_names[15] == "pink+red" and result.attributes == "hair_color+eye_color"
    # Right hair, wrong eyes is a wrong class: shift every eye colour by one.
    wrong_eyes = labels[:, HAIR] * 4 + (labels[:, EYES] + 1) % 4
    assert conditional_accuracy(images, wrong_eyes, attributes=["hair_color", "eye_color"]).accuracy == 0.0
    # Eyes first is another numbering: eyes * 4 + hair.
    swapped = conditional_accuracy(images, labels[:, EYES] * 4 + labels[:, HAIR], attributes="eye_color+hair_color")
    assert swapped.accuracy == 1.0 and swapped.class_names[1] == "blue+brown"


def test_mode_coverage_per_class_on_hand_picked_faces():
    images = np.stack([
        face(BLACK, background=0), face(BLACK, background=1), face(BLACK, eyes=2), face(BLACK, eyes=2, rng=1),
        face(BROWN, style=1), face(BROWN, style=1, rng=2),
        face(BROWN, shape=2),  # requested as pink below: shows the wrong class, so counts for no class
    ])
    requested = np.array([BLACK, BLACK, BLACK, BLACK, BROWN, BROWN, PINK])
    result = class_mode_coverage(images, requested)
    assert isinstance(result, ClassCoverage)
    # Black: 4 faces in 3 modes (the last two differ by jitter only); brown: 2 faces, one mode.
    np.testing.assert_array_equal(result.modes_covered, [3, 1, 0, 0])
    np.testing.assert_array_equal(result.counted, [4, 2, 0, 0])
    np.testing.assert_array_equal(result.requested, [4, 2, 0, 1])
    assert result.modes_per_class == 144 and result.num_classes == 4 and result.n == 7  # 576 / 4 hair colours
    # m (1 - (1 - 1/m)^n), m = 144: n = 2 gives 2 - 1/144 (two draws collide with probability 1/144).
    np.testing.assert_allclose(result.expected_covered, [144 * (1 - (143 / 144) ** 4), 2 - 1 / 144, 0, 0])
    assert result.relative_coverage == pytest.approx(4 / result.expected_covered.sum())
    assert str(result).startswith("hair_color: 4/576 modes (")


def test_real_faces_cover_what_uniform_sampling_predicts_and_a_collapsed_class_does_not():
    images, labels = toy_faces(400, 32, seed=8)
    result = class_mode_coverage(images, labels[:, HAIR])
    # Each class's distinct modes are the distinct full attribute rows of its faces.
    for hair in range(4):
        rows = labels[labels[:, HAIR] == hair]
        assert result.modes_covered[hair] == len(np.unique(mode_index(rows)))
        assert result.counted[hair] == len(rows)
    # About 100 uniform draws of 144 modes cover about 73 each; 4 x 5 is a generous margin.
    assert abs(result.modes_covered.sum() - result.expected_covered.sum()) < 20
    collapsed = class_mode_coverage(np.repeat(images[:1], 100, 0), np.full(100, labels[0, HAIR]))
    assert collapsed.modes_covered.sum() == 1 and collapsed.relative_coverage < 0.02


def test_combination_classes_hold_fewer_modes():
    images = np.stack([face(PINK, eyes=3, background=b) for b in range(4)])
    result = class_mode_coverage(images, np.full(4, 15), attributes="hair_color+eye_color")
    assert result.modes_per_class == 36 and result.num_classes == 16  # 576 / 16
    assert result.modes_covered[15] == 4 and result.modes_covered.sum() == 4
    assert result.expected_covered[15] == pytest.approx(36 * (1 - (35 / 36) ** 4))


def test_codes_that_permute_the_values_agree_fully_and_give_the_permutation():
    values = np.tile(np.arange(4), 3)
    permutation = np.array([2, 0, 3, 1])  # value v was generated with code permutation[v]
    result = code_agreement(permutation[values], values)
    assert isinstance(result, CodeAgreement)
    assert result.agreement == 1.0 and result.exact and result.chance == 0.25
    # mapping[code] = value, the inverse permutation.
    np.testing.assert_array_equal(result.mapping, np.argsort(permutation))
    # n[permutation[v], v] = 3 for each value v.
    np.testing.assert_array_equal(result.contingency, 3 * np.eye(4)[permutation].T)
    assert str(result) == "100.0% agreement (best matching), chance 25.0%, 4 codes vs 4 values, n=12"


def test_best_matching_beats_the_greedy_one_on_a_hand_case():
    # Counts n[code, value] = [[2, 2], [2, 0]] over 6 images. Greedy would take (0, 0) first and then
    # only (1, 1) = 0 remains: 2/6. The best matching is 0→1, 1→0: 2 + 2 = 4/6.
    codes = np.array([0, 0, 0, 0, 1, 1])
    values = np.array([0, 0, 1, 1, 0, 0])
    result = code_agreement(codes, values)
    np.testing.assert_array_equal(result.contingency, [[2, 2], [2, 0]])
    assert result.agreement == pytest.approx(4 / 6) and result.exact
    np.testing.assert_array_equal(result.mapping, [1, 0])
    assert result.chance == 0.5


def test_more_codes_than_values_leave_codes_unmatched():
    # 3 codes, 2 values: n = [[1, 0], [0, 3], [2, 1]]. Each value takes one code:
    # value 1 → code 1 (3) and value 0 → code 2 (2) = 5 of 7; code 0 matches nothing.
    codes = np.array([0, 1, 1, 1, 2, 2, 2])
    values = np.array([0, 1, 1, 1, 0, 0, 1])
    result = code_agreement(codes, values)
    assert result.agreement == pytest.approx(5 / 7) and result.exact
    np.testing.assert_array_equal(result.mapping, [-1, 1, 0])
    # num_values declares a value never seen: chance follows it.
    assert code_agreement(codes, values, num_values=4).chance == 0.25


def test_brute_force_matches_every_assignment_tried_by_hand():
    rng = np.random.default_rng(3)
    codes, values = rng.integers(0, 5, 60), rng.integers(0, 5, 60)
    result = code_agreement(codes, values)
    table = np.zeros((5, 5), int)
    np.add.at(table, (codes, values), 1)
    best = max(sum(table[c, v] for c, v in enumerate(p)) for p in itertools.permutations(range(5)))
    assert result.agreement == pytest.approx(best / 60) and result.exact


def test_many_codes_fall_back_to_greedy_and_say_so():
    values = np.repeat(np.arange(9), 3)
    permutation = np.array([4, 7, 0, 2, 8, 1, 3, 6, 5])
    result = code_agreement(permutation[values], values)  # 9! assignments: too many to try
    assert not result.exact and result.agreement == 1.0
    np.testing.assert_array_equal(result.mapping, np.argsort(permutation))
    assert "greedy matching" in str(result)
    # Greedy on the hand case above, padded to 9 codes, keeps its 2/6 flaw visible as a lower score.
    codes = np.array([0, 0, 0, 0, 1, 1, 8])
    values = np.array([0, 0, 1, 1, 0, 0, 8])
    greedy = code_agreement(codes, values)
    assert not greedy.exact and greedy.agreement == pytest.approx(3 / 7)  # (0,0) + (1,1)=0 + (8,8)


def test_results_are_frozen_and_convert_to_json(faces):
    images, labels = faces
    accuracy = conditional_accuracy(images[:4], [0, 1, 2, 3])
    coverage = class_mode_coverage(images[:4], labels[:4, HAIR])
    agreement = code_agreement([0, 1, 1], [1, 0, 0])
    for result in (accuracy, coverage, agreement):
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.n = 2
    record = json.loads(json.dumps(accuracy.to_dict()))
    assert record["n"] == 4 and len(record["confusion"]) == 4 and record["class_names"][3] == "pink"
    assert all(value is None or 0 <= value <= 1 for value in record["per_class"])
    record = json.loads(json.dumps(coverage.to_dict()))
    # Four faces in four modes, counted [1, 2, 1, 0]: expected 1 + (2 - 1/144) + 1, so a hair above 1.
    assert record["modes_per_class"] == 144 and record["counted"] == [1, 2, 1, 0] and sum(record["modes_covered"]) == 4
    assert record["relative_coverage"] == pytest.approx(4 / (4 - 1 / 144))
    record = json.loads(json.dumps(agreement.to_dict()))
    assert record == {
        "agreement": 1.0, "mapping": [1, 0], "chance": 0.5, "exact": True, "contingency": [[0, 1], [2, 0]],
        "n": 3, "num_codes": 2, "num_values": 2,
    }


def test_bad_input_raises_naming_the_problem(faces):
    images, labels = faces
    with pytest.raises(ValueError, match="attributes"):
        conditional_accuracy(images, labels[:, HAIR], attributes="hair_colour")
    with pytest.raises(ValueError, match="repeat"):
        class_mode_coverage(images, labels[:, HAIR], attributes="hair_color+hair_color")
    with pytest.raises(ValueError, match="one class per image"):
        conditional_accuracy(images, labels[:4, HAIR])
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        conditional_accuracy(images, np.full(16, 4))
    with pytest.raises(ValueError, match="integers"):
        conditional_accuracy(images, np.zeros(16, np.float32))
    with pytest.raises(ValueError, match="uint8"):
        conditional_accuracy(images.astype(np.float32), labels[:, HAIR])
    with pytest.raises(ValueError, match="same length"):
        code_agreement([0, 1], [0])
    with pytest.raises(ValueError, match="non-negative"):
        code_agreement([0, -1], [0, 1])
    with pytest.raises(ValueError, match="num_values"):
        code_agreement([0, 1], [0, 3], num_values=2)
    with pytest.raises(ValueError, match="at least one"):
        code_agreement([], [])


# ---------------------------------------------------------------- a generator, scored end to end
def lookup_generator(images):
    """A conditional 'generator' that draws image k for label k whatever z is: an Embedding of the pixels."""
    import keras

    count, size = len(images), images.shape[1]
    z = keras.Input((4,), name="z")
    labels = keras.Input((), dtype="int32", name="labels")
    table = keras.layers.Embedding(count, size * size * 3, name="class_embedding")
    pixels = keras.layers.Reshape((size, size, 3))(table(labels))
    generator = keras.Model([z, labels], pixels + 0.0 * keras.ops.sum(z))  # z is an input it ignores
    table.set_weights([images.reshape(count, -1).astype("float32") / 127.5 - 1.0])
    return generator


def test_scoring_a_generator_that_obeys_its_labels():
    from kgan.metrics.conditional import score_conditional_generator

    generator = lookup_generator(np.stack([face(hair) for hair in range(4)]))  # class k: hair colour k, else alike
    scores = score_conditional_generator(generator, "projection", "hair_color", n=40, seed=0)
    assert scores["accuracy"]["accuracy"] == 1.0 and scores["accuracy"]["n"] == 40
    assert scores["coverage"]["modes_covered"] == [1, 1, 1, 1]  # one face per class: one mode each
    assert "100.0% as requested where it reads (100.0% of samples); 100.0% of all" in scores["summary"]
    # the same pictures read as InfoGAN's codes: the code is the hair colour, and nothing else varies
    info = score_conditional_generator(generator, "infogan", None, n=40, seed=0)
    assert info["code_agreement"]["hair_color"]["agreement"] == 1.0
    assert info["code_agreement"]["background"]["agreement"] == 0.25  # one background: one code of four matches
    assert "best matches hair_color (100.0% agreement over the 100% where it reads; chance 25%)" in info["summary"]
    wrong = lookup_generator(np.stack([face((hair + 1) % 4) for hair in range(4)]))  # every class off by one
    assert score_conditional_generator(wrong, "acgan", "hair_color", n=40, seed=0)["accuracy"]["accuracy"] == 0.0


def test_a_class_attribute_is_scored_where_the_rest_of_the_face_is_not_readable():
    hidden = np.stack([face(hair) for hair in range(4)])
    hidden[:, 15:21, 9:23] = (255, 224, 196)  # skin over the eyes: the faces no longer decode as a whole
    assert not decode_toy_faces(hidden)[1].any()
    result = conditional_accuracy(hidden, np.arange(4))
    assert result.accuracy == 1.0 and result.decoded == 1.0  # the hair colour still reads, and is as asked


def test_values_of_the_other_attributes_are_counted_per_class():
    # class 0 (black hair): two backgrounds, one eye colour; class 1 (brown): one background; one sample of class 1
    # drawn with the wrong hair is left out
    images = np.stack([face(0, background=0), face(0, background=2), face(1, background=3), face(2, background=1)])
    coverage = class_mode_coverage(images, np.array([0, 0, 1, 1]))
    assert coverage.values_total == {"background": 4, "face_shape": 3, "hair_style": 3, "eye_color": 4}
    np.testing.assert_array_equal(coverage.values_covered["background"], [2, 1, 0, 0])
    np.testing.assert_array_equal(coverage.values_covered["eye_color"], [1, 1, 0, 0])
    assert "background 0–2/4" in str(coverage)
