"""The diagnosis on code written as other people write it: every cause, the side it lies in, the place.

The implementations are either deliberately wrong scratch subclasses
(:mod:`compare.gallery.wrong`) or student-style networks that do not use this
project at all (``tests/students``), each behind a thin adapter that does not
fix its math. Expectations come from the math of each network (worked out in
the comments), never from the harness's output.
"""

import numpy as np
import pytest
from students import book_per_sample, column_network, full_batch_tutorial, row_network, seed_lesson

import compare
from compare import Cause
from compare.factors import named_conventions
from compare.gallery import wrong
from compare.localise import batch_size_candidates
from compare.report import report_dict, table
from scratch import MLP, sum_dataset

X2, Y2 = sum_dataset(40, seed=3)  # the seed's task: k = 1 output
X3 = np.random.default_rng(4).random((40, 3)) / 2
Y3 = X3 + np.roll(X3, -1, axis=1)  # pairwise sums: k = 3 outputs, so k/2 = 1.5
RUN = dict(epochs=3, learning_rate=0.5)


def causes(report):
    """(cause, side, layer, epoch, batch) of every cause found, in order."""
    return [(c.cause, c.side, c.layer, c.epoch, c.batch) for c in report.localisation.causes]


def reference(num_inputs, hidden, num_outputs, **kwargs):
    return MLP(num_inputs, hidden, num_outputs, seed=9, **kwargs)


# ------------------------------------------------------ signed, per-layer factors
def test_the_seeds_sign_and_half_sum_are_named_as_conventions_at_the_output_layer():
    # The lesson back-propagates t − o and adds: its derivative is −∂(½(t−o)²)/∂W, and Keras's MSE
    # gradient is ∂((t−o)²)/∂W for k = 1: a ratio of −1/2 = sign × k/2.
    report = compare.compare(seed_lesson.Adapter(2, [5], 1), reference(2, [5], 1), X2, Y2, **RUN)
    side = "students.Adapter"
    assert causes(report) == [(Cause.SIGN_CONVENTION, side, "W1", 1, 1), (Cause.LOSS_CONVENTION, side, "W1", 1, 1)]
    assert [c.convention for c in report.localisation.causes] == ["sign", "half-sum"]
    assert "-0.5 ×" in report.localisation.hint


def test_an_output_layer_convention_and_a_hidden_layer_bug_are_two_causes_output_first():
    # The book's output layer steps by (t − o)·o(1 − o)·hᵀ: −k/2 × Keras's MSE gradient (k = 3).
    # Its hidden errors are whoᵀ·(t − o), without the output sigmoid's derivative: no constant ratio.
    report = compare.compare(book_per_sample.Adapter(3, [4], 3), reference(3, [4], 3), X3, Y3, **RUN)
    side = "students.Adapter"
    assert causes(report) == [(Cause.SIGN_CONVENTION, side, "W1", 1, 1), (Cause.LOSS_CONVENTION, side, "W1", 1, 1),
                              (Cause.BACKWARD_PASS, side, "W0", 1, 1)]
    assert "-1.5 ×" in report.localisation.hint


def test_an_output_layer_bug_is_placed_at_the_output_layer_not_the_first_weights():
    # The output sigmoid's derivative left out: every gradient is off, the output layer first.
    report = compare.compare(row_network.OutputWithoutDerivative(2, [5], 1), reference(2, [5], 1), X2, Y2, **RUN)
    assert causes(report) == [(Cause.BACKWARD_PASS, "students.OutputWithoutDerivative", "W1", 1, 1)]
    assert report.localisation.layers == ["W1", "W0"]
    assert "output layer" in report.localisation.hint


class BiasSummedOverBatch(MLP):
    """Reports dL/db summed over the batch (B times too large); the kernels' gradients are right."""

    def gradients(self, x, y):
        return [g * len(x) if g.ndim == 1 else g for g in super().gradients(x, y)]


class AveragesTwice(MLP):
    """Divides its gradients by the batch size once more: 1/B of the right ones."""

    def gradients(self, x, y):
        return [g / len(x) for g in super().gradients(x, y)]


class TrainsInTens(MLP):
    """Trains in batches of 10 whatever batch_size says."""

    def train(self, x, y, epochs, learning_rate, batch_size=1, shuffle=None, verbose=False):
        return super().train(x, y, epochs, learning_rate, 10, shuffle, verbose)


class HalvedGradientsOnly(MLP):
    """Reports −½ of its gradients (sign and k/2 for k = 1) but trains like Keras."""

    def gradients(self, x, y):
        return [-0.5 * g for g in super().gradients(x, y)]


def test_biases_and_kernels_are_analysed_apart():
    report = compare.compare(BiasSummedOverBatch(2, [5], 1, use_bias=True), reference(2, [5], 1, use_bias=True),
                             X2, Y2, **RUN)
    found = causes(report)
    assert found == [(Cause.BATCH_AVERAGING, "test_diagnosis.BiasSummedOverBatch", "b1", None, None),
                     (Cause.BATCH_AVERAGING, "test_diagnosis.BiasSummedOverBatch", "b0", None, None)]


@pytest.mark.parametrize(("a", "x", "y", "cause", "words"), [
    (AveragesTwice(2, [5], 1), X2, Y2, Cause.BATCH_AVERAGING, "= 1/B"),
    (wrong.NoFactorTwo(3, [4], 3), X3, Y3, Cause.LOSS_CONVENTION, "= 1/2"),  # not ½·Σ: that would be 1.5
])
def test_factors_that_are_no_named_convention_are_read_but_never_accepted(a, x, y, cause, words):
    b = reference(a.num_inputs, list(a.hidden_layers), a.num_outputs)
    report = compare.compare(a, b, x, y, accept=["any"], **RUN)
    (found,) = report.localisation.causes
    assert (found.cause, found.side, found.layer, found.convention) == (cause, compare.harness.side_name(a), "W1",
                                                                       None)
    assert words in found.hint and not report.equivalent


def test_named_conventions_by_hand():
    assert named_conventions(1.5, 3, 40) == ("half-sum",)  # ½·Σ over 3 outputs vs their mean
    assert named_conventions(0.5, 1, 40) == ("half-sum",)  # k/2 with k = 1
    assert named_conventions(20.0, 1, 40) == ("half-sum", "batch-sum")  # k/2 · B
    assert named_conventions(1.0, 3, 40) == ()
    assert named_conventions(0.3, 3, 40) is None


# ----------------------------------------------------------------- batch size
def test_per_sample_training_is_batch_size_1_on_whichever_side_does_it():
    report = compare.compare(wrong.PerSample(2, [5], 1), reference(2, [5], 1), X2, Y2, batch_size=8, **RUN)
    assert causes(report) == [(Cause.BATCH_SIZE, "compare.PerSample", "W1", 1, 1)]
    assert report.localisation.convention == "per-sample" and "one step per sample" in report.localisation.hint
    swapped = compare.compare(reference(2, [5], 1), wrong.PerSample(2, [5], 1), X2, Y2, batch_size=8, **RUN)
    assert causes(swapped) == [(Cause.BATCH_SIZE, "compare.PerSample", "W1", 1, 1)]


@pytest.mark.parametrize("samples", [16, 40])
def test_full_batch_training_is_the_whole_data_set_not_kerass_default(samples):
    # With 16 samples, Keras's default of 32 also covers the whole set; the hint must say the data set.
    x, y = X2[:samples], Y2[:samples]
    report = compare.compare(wrong.FullBatch(2, [5], 1), reference(2, [5], 1), x, y, **RUN)
    # Batch 1 holds one sample (the same step either way); the second sample is the first that differs.
    assert causes(report) == [(Cause.BATCH_SIZE, "compare.FullBatch", "W1", 1, 2)]
    assert "whole data set as one batch" in report.localisation.hint
    assert f"batch_size={samples}" in report.localisation.hint and "default" not in report.localisation.hint


def test_a_batch_size_that_divides_the_data_is_found():
    report = compare.compare(TrainsInTens(2, [5], 1), reference(2, [5], 1), X2, Y2, batch_size=4, **RUN)
    assert causes(report) == [(Cause.BATCH_SIZE, "test_diagnosis.TrainsInTens", "W1", 1, 2)]
    assert "batches of 10" in report.localisation.hint


def test_batch_size_candidates_by_hand():
    assert batch_size_candidates(12, 1) == [12, 2, 3, 4, 6, 8]  # 32 is 12 here; 1 was asked
    assert batch_size_candidates(100, 32)[:4] == [1, 100, 2, 4]


# ------------------------------------------------------------------ shuffling
def test_shuffling_is_put_on_the_side_that_shuffles():
    for a, b, side in ((wrong.OwnShuffle(2, [5], 1), reference(2, [5], 1), "compare.OwnShuffle"),
                       (reference(2, [5], 1), wrong.OwnShuffle(2, [5], 1), "compare.OwnShuffle")):
        report = compare.compare(a, b, X2, Y2, batch_size=4, **RUN)
        (found,) = causes(report)
        assert found[:3] == (Cause.SHUFFLING, side, "W1") and found[3] == 1, found
        assert "its own shuffling" in report.localisation.hint


def test_two_causes_at_once_half_sum_and_own_shuffling():
    # The book's network: ½·Σ cost (k/2 = 1.5 × the MSE) and random.shuffle of its data every epoch.
    report = compare.compare(column_network.Adapter(3, [4], 3), reference(3, [4], 3, use_bias=True), X3, Y3,
                             batch_size=8, **RUN)
    side = "students.Adapter"
    assert [(c.cause, c.side, c.convention) for c in report.localisation.causes] == [
        (Cause.LOSS_CONVENTION, side, "half-sum"), (Cause.SHUFFLING, side, None)]
    assert report.localisation.others[0].epoch == 1 and report.localisation.others[0].batch > 1
    scratch_twin = compare.compare(wrong.OwnShuffle(3, [4], 3, loss="seed"), reference(3, [4], 3), X3, Y3,
                                   batch_size=8, **RUN)
    assert [c.cause for c in scratch_twin.localisation.causes] == [Cause.LOSS_CONVENTION, Cause.SHUFFLING]


# --------------------------------------------------- optimizer rule and state
# The reference is scratch's optimizer, which test_optimizers.py shows equal to Keras's step for step.
MOMENTUM = {"name": "sgd", "momentum": 0.9}


def test_momentum_kept_without_the_learning_rate_is_placed_by_its_state_and_slot_ratio():
    # PyTorch keeps v ← μv + g and steps −ηv; Keras keeps m ← μm − ηg and steps m. At one η the steps are the
    # same and m = −η·v: only the states differ after training, by v/m = −1/η, from the first step on.
    learning_rate = 0.05
    report = compare.compare(wrong.PyTorchMomentum(2, [5], 1, seed=9), reference(2, [5], 1, optimizer=MOMENTUM),
                             X2, Y2, epochs=2, learning_rate=learning_rate, batch_size=8)
    assert {c.name for c in report.failed_checks} == {"optimizer momentum W0", "optimizer momentum W1"}
    assert causes(report) == [(Cause.OPTIMIZER_STATE, "compare.PyTorchMomentum", "W1", 1, 1)]
    assert any(f"r = {-1 / learning_rate:g} = −1/η" in line for line in report.localisation.evidence)


def test_a_momentum_carried_in_the_other_form_differs_from_a_fresh_state_but_not_without_it():
    # Trained at η = 0.1, the PyTorch-form v is copied into the reference, which reads it as m: the first step
    # at η = 0.05 differs; from zero slots (nothing carried) both take −η·g and agree.
    a = wrong.PyTorchMomentum(2, [5], 1, seed=9)
    a.train(X2, Y2, 1, 0.1, batch_size=8)
    report = compare.compare(a, reference(2, [5], 1, optimizer=MOMENTUM), X2, Y2, epochs=1, learning_rate=0.05,
                             batch_size=8)
    assert [causes(report)[0][i] for i in (0, 1, 3, 4)] == [Cause.OPTIMIZER_STATE, "compare.PyTorchMomentum", 1, 1]
    where = report.localisation
    assert "one step on this batch from a fresh optimizer state (iterations 0, zero slots): agrees" in where.evidence
    assert "compare.PyTorchMomentum keeps its momentum without the learning rate" in where.hint


def test_a_momentum_not_rounded_to_float32_is_measured_decaying_by_another_factor():
    # μ·m is 0 on the first step, so the sides part on the second batch, where the carried momentum is
    # multiplied by 0.9 on a and by 0.9 rounded to float32 on b (as TensorFlow's ops.cast rounds it).
    exact = reference(2, [5], 1, optimizer=MOMENTUM | {"hyperparameter_dtype": None})
    report = compare.compare(exact, reference(2, [5], 1, optimizer=MOMENTUM), X2, Y2, epochs=1, learning_rate=0.5,
                             batch_size=8)
    assert [causes(report)[0][i] for i in (0, 1, 3, 4)] == [Cause.UPDATE_STEP, "scratch.MLP (a)", 1, 2]
    rounded = f"{float(np.float32(0.9)):.10g}"
    assert rounded != "0.9"
    assert any(f"multiplied by 0.9 on scratch.MLP (a), by {rounded} on scratch.MLP (b)" in line
               for line in report.localisation.evidence), report.localisation.evidence
    assert "factor rounded to float32" in report.localisation.hint
    # the hint says what each side does, not only its label (a) or (b)
    assert (f"scratch.MLP (b) multiplies the carried momentum by {rounded}" in report.localisation.hint
            and "scratch.MLP (a) keeps 0.9 exact" in report.localisation.hint)


def test_an_adam_of_another_rule_is_placed_at_its_first_step_with_the_slots_agreeing():
    # The paper's Adam adds ε to √v̂, Keras's to √v: the moments m, v are the same, the step from them is not.
    report = compare.compare(wrong.TextbookAdam(2, [5], 1, seed=9), reference(2, [5], 1, optimizer="adam"),
                             X2, Y2, epochs=1, learning_rate=0.01, batch_size=8)
    assert report.check("gradient W0").passed
    assert [causes(report)[0][i] for i in (0, 1, 3, 4)] == [Cause.UPDATE_STEP, "compare.TextbookAdam", 1, 1]
    assert "this is the optimizer's first step (iterations 0, zero slots)" in report.localisation.evidence
    assert "the optimizer slots after that first step agree" in report.localisation.evidence


# ------------------------------------------------------ loss, state, conformance
def test_a_different_loss_function_is_named_by_evaluate_and_nothing_is_blamed_on_backprop():
    report = compare.compare(row_network.MeanAbsolute(2, [5], 1), reference(2, [5], 1), X2, Y2, **RUN)
    assert causes(report) == [(Cause.LOSS_FUNCTION, "students.MeanAbsolute", None, None, None)]
    assert "MAE vs MSE" in report.localisation.hint


@pytest.mark.parametrize("cls", [wrong.StatefulDecay, row_network.Decaying])
def test_state_kept_between_train_calls_is_named_instead_of_a_wrong_batch(cls):
    report = compare.compare(cls(2, [5], 1), reference(2, [5], 1), X2, Y2, batch_size=4, **RUN)
    (found,) = causes(report)
    assert found[:2] == (Cause.TRAIN_STATE, cls.__module__.split(".")[0] + "." + cls.__qualname__)
    assert found[3:] == (None, None)  # no batch is reported: replays of such a train cannot be trusted


@pytest.mark.parametrize(("a", "layers", "words"), [
    (wrong.KernelsOutIn(2, [5], 1), ["W0", "W1"], "your kernels are (out, in)"),
    (wrong.BiasesAsRows(2, [5], 1, use_bias=True), ["b0", "b1"], "your biases are 2-D"),
    (full_batch_tutorial.RawAdapter(2, [5], 1), ["b0", "b1"], "b.ravel()"),
])
def test_layouts_of_another_convention_are_conformance_problems_with_the_fix(a, layers, words):
    report = compare.compare(a, reference(2, [5], 1, use_bias=len(a.get_weights()) == 4), X2, Y2, **RUN)
    assert [(c.cause, c.layer) for c in report.localisation.causes] == [(Cause.CONFORMANCE, name) for name in layers]
    assert {c.side for c in report.localisation.causes} == {compare.harness.side_name(a)}
    assert words in report.localisation.hint and "Fix:" in report.localisation.hint
    assert [c.name for c in report.checks] == [f"conformance {compare.harness.side_name(a)}.get_weights"] * 2


def test_column_vectors_name_both_kernels_and_biases():
    report = compare.compare(column_network.RawAdapter(3, [4], 3), reference(3, [4], 3, use_bias=True), X3, Y3,
                             **RUN)
    assert [c.layer for c in report.localisation.causes] == ["W0", "b0", "W1", "b1"]
    assert "(4, 3): your kernels are (out, in); expected (3, 4)" in report.localisation.hint


@pytest.mark.parametrize(("a", "method", "words"), [
    (wrong.ReturnsNone(2, [5], 1), "train", "returned None"),
    (seed_lesson.ThinAdapter(2, [5], 1), "train", "returned None"),
    (wrong.MisspeltGradients(2, [5], 1), "gradients", "rename gradient to gradients"),
    (row_network.Misspelt(2, [5], 1), "gradients", "rename gradient to gradients"),
])
def test_broken_protocol_is_reported_before_any_math(a, method, words, capsys):
    report = compare.compare(a, reference(2, [5], 1), X2, Y2, **RUN)
    (found,) = report.localisation.causes
    assert (found.cause, found.side) == (Cause.CONFORMANCE, compare.harness.side_name(a))
    assert words in found.hint and report.checks[0].name.endswith(f".{method}")
    assert not report.losses_a  # nothing was trained


def test_outputs_and_signatures_of_the_wrong_shape_are_refused_with_the_fix():
    class FlatOutputs(row_network.Plain):
        def forward(self, x):
            return super().forward(x).ravel()

    class NoBatchSize(row_network.Plain):
        def train(self, x, y, epochs, learning_rate):
            return super().train(x, y, epochs, learning_rate)

    flat = compare.compare(FlatOutputs(2, [5], 1), reference(2, [5], 1), X2, Y2, **RUN).localisation
    assert flat.cause == Cause.CONFORMANCE and "shape (40,)" in flat.hint and "reshape(-1, 1)" in flat.hint
    narrow = compare.compare(NoBatchSize(2, [5], 1), reference(2, [5], 1), X2, Y2, **RUN).localisation
    assert narrow.cause == Cause.CONFORMANCE and "batch_size" in narrow.hint


def test_an_exception_in_the_users_code_shows_their_own_frames():
    with pytest.raises(compare.SideError) as info:
        compare.compare(row_network.Crashes(2, [5], 1), reference(2, [5], 1), X2, Y2, **RUN)
    assert str(info.value).startswith("students.Crashes.train raised ValueError")
    details = info.value.details
    assert details.count("row_network.py") == 3  # train → step → scaled, the line that failed last
    assert "def scaled" not in details and "gradient @ np.ones" in details
    assert "compare/" not in details and "numpy" not in details.replace("np.ones", "")


# ----------------------------------------------------------------- conventions
def test_seed_code_is_equivalent_up_to_its_conventions_when_they_are_accepted():
    # Witness by hand: the lesson's per-sample steps are scratch's MSE steps at lr·k/2, batch 1.
    a = seed_lesson.Adapter(2, [5], 1)
    start = a.get_weights()
    report = compare.compare(a, reference(2, [5], 1), X2, Y2, batch_size=8, accept=["sign", "half-sum", "per-sample"],
                             **RUN)
    assert not report.passed and report.equivalent
    assert report.accepted == ["sign", "half-sum", "per-sample"]
    twin = MLP(2, [5], 1)
    twin.set_weights(start)
    twin.train(X2, Y2, RUN["epochs"], RUN["learning_rate"] * 1 / 2, batch_size=1)
    for wa, wb in zip(a.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-12)
    assert "EQUIVALENT up to: sign, half-sum, per-sample" in table(report)
    partial = compare.compare(seed_lesson.Adapter(2, [5], 1), reference(2, [5], 1), X2, Y2, batch_size=8,
                              accept=["sign", "half-sum"], **RUN)
    assert not partial.equivalent and partial.accepted == []


def test_full_batch_tutorial_is_equivalent_up_to_half_sum_batch_sum_and_full_batch():
    report = compare.compare(full_batch_tutorial.Adapter(2, [5], 1), reference(2, [5], 1, use_bias=True), X2, Y2,
                             batch_size=4, accept=["any"], **RUN)
    assert report.accepted == ["half-sum", "batch-sum", "full-batch"]
    assert [c.side for c in report.localisation.causes] == ["students.Adapter"] * 3


def test_no_convention_makes_a_mistake_equivalent():
    for a, b, x, y in ((book_per_sample.Adapter(3, [4], 3), reference(3, [4], 3), X3, Y3),
                       (column_network.Adapter(3, [4], 3), reference(3, [4], 3, use_bias=True), X3, Y3)):
        report = compare.compare(a, b, x, y, batch_size=8, accept=["any"], **RUN)
        assert not report.equivalent, table(report)
    no_shuffle = compare.compare(column_network.NoShuffleAdapter(3, [4], 3), reference(3, [4], 3, use_bias=True),
                                 X3, Y3, batch_size=8, accept=["half-sum"], **RUN)
    assert no_shuffle.accepted == ["half-sum"]


def test_gradients_in_a_convention_that_training_does_not_follow_are_not_accepted():
    report = compare.compare(HalvedGradientsOnly(2, [5], 1), reference(2, [5], 1), X2, Y2, accept=["any"], **RUN)
    assert [c.convention for c in report.localisation.causes] == ["sign", "half-sum"]
    assert report.accepted == [] and not report.equivalent


def test_unknown_conventions_are_refused_before_anything():
    a = MLP(2, [5], 1)
    before = a.get_weights()
    with pytest.raises(ValueError, match=r"accept: unknown convention.*known: any, sign, half-sum"):
        compare.compare(a, reference(2, [5], 1), X2, Y2, accept=["half"], **RUN)
    np.testing.assert_array_equal(a.get_weights()[0], before[0])


def test_the_json_lists_every_cause_with_its_side():
    report = compare.compare(book_per_sample.Adapter(3, [4], 3), reference(3, [4], 3), X3, Y3, **RUN)
    document = report_dict(report)
    assert document["localisation"]["cause"] == "sign convention"
    assert [(c["cause"], c["layer"], c["side"]) for c in document["localisation"]["causes"]] == [
        ("sign convention", "W1", "students.Adapter"), ("loss convention", "W1", "students.Adapter"),
        ("backward pass", "W0", "students.Adapter")]
    assert document["equivalent"] is False and document["accepted"] == []
