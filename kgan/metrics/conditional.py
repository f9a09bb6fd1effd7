"""Did a conditional GAN draw what it was asked for? Class accuracy, per-class modes and InfoGAN codes on toy faces.

A conditional generator G(z, y) is asked for class y. Three questions tell a working one from a broken one:

1. **Does it obey the label?** (`conditional_accuracy`) Classify the samples and compare with the labels asked
   for: the *GAN-test* accuracy of Shmelkov et al. (2018), the same check AC-GAN (Odena et al. 2017) made with
   an Inception classifier. Toy faces need no classifier: `decode_toy_faces` reads every attribute back exactly,
   and an image that does not decode is no face at all. So there are two figures: the strict `accuracy` over
   all samples (an unreadable sample is wrong) and `decoded_accuracy` over the samples whose class attributes
   read (`read_toy_face_attributes`: one attribute at a time, so a blurred eye does not hide the hair). A generator that
   ignores its label scores about 1/K on both; one that draws garbage scores low on the first only.
2. **Does it collapse inside a class?** (`class_mode_coverage`) Obeying the label is easy for a generator that
   draws one perfect face per class. AC-GAN's paper saw exactly that and measured diversity *within* each class
   (by MS-SSIM). Here each class holds `num_modes() / K` toy-face modes (the other attributes still vary), so
   count the distinct modes each class's samples reach, next to what a uniform sampler reaches with the same
   number of samples, m (1 - (1 - 1/m)^n) (the coupon collector's expectation), so that "few modes" can be told
   apart from "few samples".
3. **Did InfoGAN discover the attribute?** (`code_agreement`) InfoGAN (Chen et al. 2016) is never told which
   code means what: a categorical code c in [0, C) may come to mean hair colour, but code 2 might be "pink".
   So match codes to attribute values one-to-one in the way that agrees with the most images (the assignment
   problem; Kuhn 1955), and report that agreement: InfoGAN's paper reports its MNIST code as 5 % error this way.

Classes follow kgan's conditional convention: the class of an attribute row is the mixed-radix number over the
chosen attributes, first most significant ("hair_color+eye_color": 4 hair_color + eye_color, 16 classes named
"black+blue" ... "pink+red"). Everything here is numpy on uint8 images (`kgan.images.to_uint8` of a generator's
[-1, 1] output) and needs images of at least 32 pixels, like `decode_toy_faces`.
"""

from __future__ import annotations

import itertools
import math
import numbers
from dataclasses import dataclass

import numpy as np

from kgan.datasets.toy_faces import (
    TOY_FACE_ATTRIBUTES, decode_toy_faces, mode_index, num_modes, read_toy_face_attributes, toy_face_classes,
)
from kgan.images import to_uint8
from kgan.latent import generate_samples, generator_classes

__all__ = [
    "ClassCoverage",
    "CodeAgreement",
    "ConditionalAccuracy",
    "class_mode_coverage",
    "code_agreement",
    "conditional_accuracy",
    "score_conditional_generator",
]

# Brute force tries every one-to-one assignment; 8! = 40,320 of them still take milliseconds.
_MAX_EXACT_ASSIGNMENTS = math.factorial(8)


@dataclass(frozen=True)
class ConditionalAccuracy:
    """How often samples show the class they were generated for (see `conditional_accuracy`)."""

    accuracy: float  # decoded and of the requested class, over all samples (undecoded count as wrong)
    decoded_accuracy: float | None  # the same over decoded samples only; None if none decoded
    decoded: float  # fraction of samples that decode as a toy face
    per_class: np.ndarray  # (K,) strict accuracy of the samples requested for each class; NaN if none was
    n: int
    num_classes: int
    confusion: np.ndarray  # (K, K) decoded samples: row = class requested, column = class decoded
    attributes: str  # the class attributes, "+"-joined
    class_names: tuple[str, ...]

    def to_dict(self):
        """The scores as plain JSON-ready values (arrays as lists, NaN as None)."""
        return {
            "accuracy": self.accuracy,
            "decoded_accuracy": self.decoded_accuracy,
            "decoded": self.decoded,
            "per_class": [None if math.isnan(value) else float(value) for value in self.per_class],
            "n": self.n,
            "num_classes": self.num_classes,
            "confusion": self.confusion.tolist(),
            "attributes": self.attributes,
            "class_names": list(self.class_names),
        }

    def __str__(self):
        among = "n/a" if self.decoded_accuracy is None else f"{100 * self.decoded_accuracy:.1f}%"
        return (
            f"{self.attributes}: {among} as requested where it reads ({100 * self.decoded:.1f}% of samples); "
            f"{100 * self.accuracy:.1f}% of all, {self.num_classes} classes, n={self.n}"
        )


@dataclass(frozen=True)
class ClassCoverage:
    """Toy-face modes each requested class reaches (see `class_mode_coverage`)."""

    modes_covered: np.ndarray  # (K,) distinct modes among each class's counted samples
    modes_per_class: int  # modes one class contains: num_modes() / K
    expected_covered: np.ndarray  # (K,) what as many uniform draws from the class cover on average
    counted: np.ndarray  # (K,) samples counted: requested for the class, decoded, and of that class
    requested: np.ndarray  # (K,) samples requested for the class
    n: int
    num_classes: int
    attributes: str
    class_names: tuple[str, ...]
    # {attribute: (K,) distinct values} of every other attribute, among each class's in-class samples where
    # that attribute reads: diversity inside a class even where whole faces do not decode
    values_covered: dict = None
    values_total: dict = None  # {attribute: its number of values}

    @property
    def relative_coverage(self) -> float | None:
        """Modes covered over all classes / what uniform sampling covers with the same counts (1 = as real data)."""
        expected = float(self.expected_covered.sum())
        return float(self.modes_covered.sum()) / expected if expected else None

    def to_dict(self):
        """The scores as plain JSON-ready values (arrays as lists)."""
        return {
            "modes_covered": [int(value) for value in self.modes_covered],
            "modes_per_class": self.modes_per_class,
            "expected_covered": [float(value) for value in self.expected_covered],
            "counted": [int(value) for value in self.counted],
            "requested": [int(value) for value in self.requested],
            "relative_coverage": self.relative_coverage,
            "n": self.n,
            "num_classes": self.num_classes,
            "attributes": self.attributes,
            "class_names": list(self.class_names),
            "values_covered": {name: [int(v) for v in values] for name, values in (self.values_covered or {}).items()},
            "values_total": dict(self.values_total or {}),
        }

    def __str__(self):
        relative = "n/a" if self.relative_coverage is None else f"{self.relative_coverage:.2f}"
        values = ", ".join(
            f"{name} {int(min(covered))}–{int(max(covered))}/{self.values_total[name]}"
            for name, covered in (self.values_covered or {}).items()
        )
        return (
            f"{self.attributes}: {int(self.modes_covered.sum())}/{self.num_classes * self.modes_per_class} modes "
            f"({self.expected_covered.sum():.1f} expected from {int(self.counted.sum())} in-class samples; "
            f"ratio {relative}), {self.num_classes} classes"
            + (f"; values of the other attributes per class (min–max over classes): {values}" if values else "")
        )


@dataclass(frozen=True)
class CodeAgreement:
    """How well InfoGAN's categorical code matches an attribute after relabelling (see `code_agreement`)."""

    agreement: float  # fraction of images whose code maps to their attribute value
    mapping: np.ndarray  # (C,) the value each code is matched to; -1 for a code left unmatched (C > V)
    chance: float  # 1 / V: the agreement of a code unrelated to uniform values
    exact: bool  # True: the best matching (brute force); False: the greedy one, possibly below the best
    contingency: np.ndarray  # (C, V) images per (code, value)
    n: int
    num_codes: int
    num_values: int

    def to_dict(self):
        """The scores as plain JSON-ready values (arrays as lists)."""
        return {
            "agreement": self.agreement,
            "mapping": [int(value) for value in self.mapping],
            "chance": self.chance,
            "exact": self.exact,
            "contingency": self.contingency.tolist(),
            "n": self.n,
            "num_codes": self.num_codes,
            "num_values": self.num_values,
        }

    def __str__(self):
        method = "best matching" if self.exact else "greedy matching"
        return (
            f"{100 * self.agreement:.1f}% agreement ({method}), chance {100 * self.chance:.1f}%, "
            f"{self.num_codes} codes vs {self.num_values} values, n={self.n}"
        )


def conditional_accuracy(images, requested, attributes="hair_color") -> ConditionalAccuracy:
    """Fraction of samples that show the class they were generated for: GAN-test accuracy on toy faces.

    Shmelkov, Schmid & Alahari (2018, "How good is my GAN?") score a conditional generator by the accuracy of
    a classifier trained on real data on generated samples, accuracy = (1/N) Σ_i [ŷ_i = y_i]; AC-GAN (Odena
    et al. 2017) checked its samples the same way. The toy-face decoder stands in for the classifier and is
    exact; `read_toy_face_attributes` reads each attribute on its own and says when it cannot (a blur where the
    fringe should be), so ŷ_i is undefined there. A sample is "decoded" when the class's own attributes are
    read (its eyes need not be, for a hair-colour class):

    - ``accuracy`` = #{decoded and ŷ = y} / N, the strict figure (a blur is not "black hair");
    - ``decoded_accuracy`` = #{decoded and ŷ = y} / #{decoded}: does the generator draw the attribute asked for,
      where it draws one that can be read?
    - ``decoded`` = #{decoded} / N; ``per_class``: the strict accuracy of the samples requested for each class;
    - ``confusion[y, ŷ]``: decoded samples requested as y that show ŷ. Off-diagonal mass in one column means
      the generator falls back on one class; a flat row, that it ignores the label.

    ``images``: uint8 ``[N, S, S, 3]``, S >= 32; ``requested``: the int class indices ``[N]`` they were generated
    with; ``attributes``: the class attributes, one name of ``TOY_FACE_ATTRIBUTES``, a sequence of names or an
    "a+b" string (mixed-radix classes, first most significant). Ignoring the label scores about 1/K.
    """
    class_names = _class_names(attributes)
    num_classes = len(class_names)
    requested = _check_requested(requested, images, num_classes)
    labels, readable = read_toy_face_attributes(images)
    decoded = readable[:, _attribute_columns(attributes)].all(1)  # the class's own attributes were read
    classes = _decoded_classes(labels, decoded, attributes)
    correct = decoded & (classes == requested)
    n = len(requested)
    num_decoded = int(decoded.sum())
    asked = np.bincount(requested, minlength=num_classes)
    hits = np.bincount(requested[correct], minlength=num_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(asked > 0, hits / np.maximum(asked, 1), np.nan)
    # Flat index y * K + ŷ counts each (requested, decoded) pair in one bincount.
    confusion = np.bincount(
        requested[decoded] * num_classes + classes[decoded], minlength=num_classes * num_classes
    ).reshape(num_classes, num_classes)
    return ConditionalAccuracy(
        accuracy=int(correct.sum()) / n,
        decoded_accuracy=int(correct.sum()) / num_decoded if num_decoded else None,
        decoded=num_decoded / n,
        per_class=per_class,
        n=n,
        num_classes=num_classes,
        confusion=confusion,
        attributes=_attribute_spec(attributes),
        class_names=class_names,
    )


def class_mode_coverage(images, requested, attributes="hair_color") -> ClassCoverage:
    """Distinct toy-face modes each requested class reaches, against a uniform sampler's expectation.

    A class of the chosen attributes still contains m = num_modes() / K modes (576 / 4 = 144 per hair colour),
    the combinations of the other attributes. A generator that collapses *within* a class (Odena et al. 2017
    saw AC-GAN do this) obeys its labels perfectly and reaches few of them. For each class y it counts the
    samples that were requested as y, decode, and show y (the only ones that can reach y's modes; the rest is
    `conditional_accuracy`'s business), and the distinct modes (`mode_index` of all five attributes) among them.

    Whole faces of a young generator often do not decode where single attributes do, so it also counts, per
    class, the distinct values of each *other* attribute (read on its own, `read_toy_face_attributes`) among
    the samples that show their class: ``values_covered`` (a class drawn with one background scores 1 of 4).

    Few samples also reach few modes, so next to each count is what n uniform draws from the class's m modes
    reach on average, the coupon collector's m (1 - (1 - 1/m)^n): each mode is missed by all n draws with
    probability (1 - 1/m)^n. ``relative_coverage`` = Σ covered / Σ expected is about 1 for real data and well
    below it for a collapsed generator.

    ``images``, ``requested``, ``attributes`` as in `conditional_accuracy`.
    """
    class_names = _class_names(attributes)
    num_classes = len(class_names)
    requested = _check_requested(requested, images, num_classes)
    labels, decoded = decode_toy_faces(images)
    in_class = decoded & (_decoded_classes(labels, decoded, attributes) == requested)
    modes_per_class = num_modes() // num_classes
    # Distinct (class, mode) pairs, then how many pairs each class has.
    pairs = np.unique(requested[in_class].astype(np.int64) * num_modes() + mode_index(labels[in_class]))
    modes_covered = np.bincount(pairs // num_modes(), minlength=num_classes)
    counted = np.bincount(requested[in_class], minlength=num_classes)
    expected = modes_per_class * (1 - (1 - 1 / modes_per_class) ** counted.astype(np.float64))
    # the other attributes one at a time, each where it reads, among samples showing their requested class
    attribute_labels, readable = read_toy_face_attributes(images)
    columns = _attribute_columns(attributes)
    shows_class = readable[:, columns].all(1) & (_decoded_classes(attribute_labels, readable[:, columns].all(1), attributes)
                                                 == requested)
    values_covered, values_total = {}, {}
    for column, (name, values) in enumerate(TOY_FACE_ATTRIBUTES.items()):
        if column in columns:
            continue
        seen = shows_class & readable[:, column]
        pairs = np.unique(requested[seen].astype(np.int64) * len(values) + attribute_labels[seen, column])
        values_covered[name] = np.bincount(pairs // len(values), minlength=num_classes)
        values_total[name] = len(values)
    return ClassCoverage(
        values_covered=values_covered,
        values_total=values_total,
        modes_covered=modes_covered,
        modes_per_class=modes_per_class,
        expected_covered=expected,
        counted=counted,
        requested=np.bincount(requested, minlength=num_classes),
        n=len(requested),
        num_classes=num_classes,
        attributes=_attribute_spec(attributes),
        class_names=class_names,
    )


def code_agreement(codes, attribute_values, num_values=None, num_codes=None) -> CodeAgreement:
    """Best one-to-one agreement between InfoGAN's categorical codes and an attribute's values.

    InfoGAN (Chen et al. 2016) learns a categorical code c in [0, C) that often captures a discrete factor,
    but in an arbitrary order. With n[c, v] the images generated with code c that show value v, the score is

        agreement = max over one-to-one maps σ: codes → values of Σ_c n[c, σ(c)] / N,

    the assignment problem (Kuhn 1955, the Hungarian method), as InfoGAN scored its MNIST digit code (5 %
    error). For C > V each value takes one code and the other codes match nothing. It tries every assignment
    while there are at most 8! of them (C and V up to 8, or C up to 10 against 4 values); beyond that it
    matches greedily, largest count first, which can fall below the best, and says so with ``exact=False``.

    ``codes``: int ``[N]`` in [0, C), the code each image was generated with; ``attribute_values``: int ``[N]``
    in [0, V), the attribute decoded from those images (keep only the decodable ones, see `decode_toy_faces`).
    ``num_values`` V and ``num_codes`` C default to the largest value seen + 1. ``chance`` = 1/V is what a code
    unrelated to uniform values scores on average; the maximum over matchings sits a little above it at small N.
    """
    codes = _check_indices(codes, "codes")
    values = _check_indices(attribute_values, "attribute_values")
    if len(codes) != len(values):
        raise ValueError(f"codes and attribute_values must have the same length, got {len(codes)} and {len(values)}")
    if not len(codes):
        raise ValueError("code_agreement needs at least one image, got codes of length 0")
    num_codes = _check_count(num_codes, codes, "num_codes", "codes")
    num_values = _check_count(num_values, values, "num_values", "attribute_values")
    contingency = np.bincount(codes * num_values + values, minlength=num_codes * num_values).reshape(num_codes, num_values)
    mapping, exact = _best_assignment(contingency)
    matched = mapping >= 0
    agreed = int(contingency[np.flatnonzero(matched), mapping[matched]].sum())
    return CodeAgreement(
        agreement=agreed / len(codes),
        mapping=mapping,
        chance=1 / num_values,
        exact=exact,
        contingency=contingency,
        n=len(codes),
        num_codes=num_codes,
        num_values=num_values,
    )


# --------------------------------------------------------------------------
# Classes of attribute rows


def score_conditional_generator(generator, conditioning, labels, n=2000, seed=0):
    """What a conditional generator of toy faces does with its labels, as a JSON-ready dict with a `summary` line.

    `labels`: the toy-face attributes its classes are (projection / AC-GAN; ignored for InfoGAN).

    Projection / AC-GAN (`labels`: the toy-face attributes its classes are): n samples, an equal share per
    class, scored by `kgan.metrics.conditional_accuracy` (the decoded attribute is the requested class) and
    `class_mode_coverage` (the modes each class covers). InfoGAN: n samples of random codes, and for every
    attribute the agreement of the categorical code with it (`code_agreement`, best one-to-one matching).
    """
    num_classes = generator_classes(generator)
    requested = np.arange(n, dtype=np.int32) % num_classes
    images = to_uint8(generate_samples(generator, n, seed=seed, batch_size=250, labels=requested))
    if conditioning != "infogan":
        accuracy = conditional_accuracy(images, requested, labels)
        coverage = class_mode_coverage(images, requested, labels)
        return {
            "accuracy": accuracy.to_dict(), "coverage": coverage.to_dict(),
            "summary": f"conditional accuracy ({labels}, {n:,} samples): {accuracy}; modes per class: {coverage}",
        }
    attributes, readable = read_toy_face_attributes(images)
    agreement = {  # each attribute over the samples where it can be read
        name: {
            **code_agreement(requested[readable[:, column]], attributes[readable[:, column], column], len(values),
                             num_classes).to_dict(),
            "readable": float(readable[:, column].mean()),
        }
        for column, (name, values) in enumerate(TOY_FACE_ATTRIBUTES.items()) if readable[:, column].any()
    }
    best = max(agreement, key=lambda name: agreement[name]["agreement"], default=None)
    summary = (
        f"InfoGAN code ({num_classes} values, {n:,} samples): best matches {best} "
        f"({agreement[best]['agreement']:.1%} agreement over the {agreement[best]['readable']:.0%} where it reads; "
        f"chance {agreement[best]['chance']:.0%})" if best else "InfoGAN code: no attribute of any sample reads"
    )
    return {"code_agreement": agreement, "summary": summary}

def _class_names(attributes) -> tuple[str, ...]:
    """The K class names of an attribute spec (checked by `toy_face_classes`, which names the bad option)."""
    return toy_face_classes(np.zeros((0, len(TOY_FACE_ATTRIBUTES)), np.int32), attributes)[1]


def _attribute_spec(attributes) -> str:
    """The (already checked) spec as one "+"-joined string, for reports."""
    names = attributes.split("+") if isinstance(attributes, str) else attributes
    return "+".join(name.strip() for name in names)


def _attribute_columns(attributes) -> list[int]:
    """The columns of `TOY_FACE_ATTRIBUTES` a class spec is made of."""
    names = list(TOY_FACE_ATTRIBUTES)
    return [names.index(name) for name in _attribute_spec(attributes).split("+")]


def _decoded_classes(labels: np.ndarray, decoded: np.ndarray, attributes) -> np.ndarray:
    """Classes of decoded attribute rows; undecoded rows (best guesses, never counted) are zeroed first."""
    return toy_face_classes(np.where(decoded[:, None], labels, 0), attributes)[0].astype(np.int64)


# --------------------------------------------------------------------------
# Argument checks


def _check_indices(values, name: str) -> np.ndarray:
    """A 1D array of non-negative integers as int64, or a ValueError naming the argument."""
    array = np.asarray(values)
    if array.ndim != 1 or not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
        raise ValueError(f"{name} must be a 1D array of integers, got {array.dtype} {array.shape}")
    if array.size and array.min() < 0:
        raise ValueError(f"{name} must be non-negative class indices, got {array.min()}")
    return array.astype(np.int64)


def _check_requested(requested, images, num_classes: int) -> np.ndarray:
    requested = _check_indices(requested, "requested")
    count = len(np.asarray(images)) if np.ndim(images) else 0
    if len(requested) != count:
        raise ValueError(f"requested must hold one class per image: {len(requested)} classes for {count} images")
    if not count:
        raise ValueError("need at least one image, got 0")
    if requested.max() >= num_classes:
        raise ValueError(f"requested must be class indices in [0, {num_classes}), got {requested.max()}")
    return requested


def _check_count(count, indices: np.ndarray, name: str, of: str) -> int:
    seen = int(indices.max()) + 1
    if count is None:
        return seen
    if not isinstance(count, numbers.Integral) or isinstance(count, bool) or count < 1:
        raise ValueError(f"{name} must be a positive integer, got {count!r}")
    if seen > count:
        raise ValueError(f"{of} must lie in [0, {name}={count}), got {seen - 1}")
    return int(count)


# --------------------------------------------------------------------------
# Assignment


def _best_assignment(contingency: np.ndarray) -> tuple[np.ndarray, bool]:
    """Codes → values one-to-one maximising the matched count: (mapping [C] with -1 for unmatched, exact)."""
    num_codes, num_values = contingency.shape
    # Enumerate injective maps from the smaller side into the larger one.
    transposed = num_codes > num_values
    table = contingency.T if transposed else contingency
    rows, columns = table.shape
    mapping = np.full(num_codes, -1, np.int64)
    if math.perm(columns, rows) <= _MAX_EXACT_ASSIGNMENTS:
        choices = np.array(list(itertools.permutations(range(columns), rows)), np.int64).reshape(-1, rows)
        totals = table[np.arange(rows), choices].sum(1)
        best = choices[int(totals.argmax())]  # the first best in lexicographic order: deterministic on ties
        if transposed:
            mapping[best] = np.arange(rows)  # row v (a value) took code best[v]
        else:
            mapping[:] = best
        return mapping, True
    # Greedy: the largest remaining count first (first in row-major order on ties), then drop its row and column.
    remaining = contingency.astype(np.float64)
    for _ in range(min(num_codes, num_values)):
        code, value = np.unravel_index(int(remaining.argmax()), remaining.shape)
        mapping[code] = value
        remaining[code, :] = -np.inf
        remaining[:, value] = -np.inf
    return mapping, False
