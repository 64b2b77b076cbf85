"""The harness on pairs of scratch MLPs: identical ones pass, deliberately wrong ones
fail, and the localisation names the right epoch, batch, layer and cause."""

import os
import signal
import sys
import time

import numpy as np
import pytest

import compare
from compare import background
from compare.factors import match_factor, proportionality
from compare.gallery.wrong import (
    THRESHOLD,
    DropPartial,
    FitsDefaultBatchSize,
    IgnoresSetWeights,
    IgnoresShuffle,
    NoFactorTwo,
    PartialDividedByBatchSize,
    PlainEpochMean,
    Raises,
    SkipsLargeInputs,
    SumOverBatch,
)
from compare.harness import run_side
from scratch import MLP, sum_dataset

X, Y = sum_dataset(100, seed=0)


def pair(cls=MLP, **kwargs):
    """``a``: the implementation under test, of class ``cls``; ``b``: a correct scratch MLP
    with other initial weights (the CLI's order: --impl first, the reference second)."""
    return cls(2, [5], 1, seed=0, **kwargs), MLP(2, [5], 1, seed=1, **kwargs)


def test_identical_implementations_pass_every_check_in_order():
    a, b = pair()
    report = compare.compare(a, b, X, Y, epochs=3, learning_rate=0.1, batch_size=7, shuffle=5)
    assert report.passed, compare.table(report)
    assert [c.name for c in report.checks] == [
        "initial weights", "forward", "evaluate", "gradient W0", "gradient W1", "epoch losses", "final W0", "final W1",
        "optimizer iterations"]
    assert report.localisation is None
    assert len(report.losses_a) == 3 and report.losses_a == report.losses_b
    np.testing.assert_array_equal(a.get_weights()[0], b.get_weights()[0])


def test_bias_parameters_are_named_in_keras_order():
    a, b = MLP(2, [4, 3], 2, use_bias=True, seed=0), MLP(2, [4, 3], 2, use_bias=True, seed=1)
    report = compare.compare(a, b, X, np.hstack([Y, Y]), epochs=1, learning_rate=0.1)
    assert report.passed
    assert [c.name for c in report.checks if c.name.startswith("gradient")] == [
        "gradient W0", "gradient b0", "gradient W1", "gradient b1", "gradient W2", "gradient b2"]


def test_compare_copies_a_weights_into_b():
    a, b = pair()
    before = a.get_weights()
    compare.compare(a, b, X, Y, epochs=0, learning_rate=0.1)
    for wa, wb in zip(before, b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


@pytest.mark.parametrize(
    ("cls", "kwargs", "cause", "epoch", "batch", "words"),
    [
        (NoFactorTwo, {}, "loss convention", 1, 1, "0.5 ×"),
        (SumOverBatch, {"batch_size": 8}, "batch averaging", 1, 1, "100 ×"),
        (DropPartial, {"batch_size": 32}, "partial last batch", 1, 4, "drops the partial last batch"),
        (PartialDividedByBatchSize, {"batch_size": 32}, "partial last batch", 1, 4, "divides by batch_size"),
        (IgnoresShuffle, {"shuffle": 1}, "shuffling", 1, 1, "documented order"),
        (PlainEpochMean, {"batch_size": 32}, "epoch-loss averaging", 1, None, "plain mean"),
        (FitsDefaultBatchSize, {}, "batch size", 1, 2, "trains in batches of 32"),
    ],
)
def test_wrong_implementations_fail_and_are_localised(cls, kwargs, cause, epoch, batch, words):
    a, b = pair(cls)
    report = compare.compare(a, b, X, Y, epochs=4, learning_rate=0.5, **kwargs)
    assert not report.passed
    loc = report.localisation
    assert loc is not None
    assert (loc.cause, loc.epoch, loc.batch) == (cause, epoch, batch), loc
    assert words in loc.hint
    assert "compare." + cls.__name__ in loc.hint  # the side named package.Class


def test_plain_epoch_mean_reports_the_unweighted_mean_of_its_batch_losses():
    # Witness: a correct MLP stepped batch by batch (100 = 32 + 32 + 32 + 4), its losses averaged by hand.
    wrong, right = PlainEpochMean(2, [5], 1, seed=0), MLP(2, [5], 1, seed=0)
    history = wrong.train(X, Y, 2, 0.5, batch_size=32)
    for epoch_loss in history:
        losses = [right.train(X[s:s + 32], Y[s:s + 32], 1, 0.5, batch_size=32)[0] for s in range(0, 100, 32)]
        assert epoch_loss == pytest.approx(sum(losses) / 4, rel=1e-12)
        weighted = (32 * sum(losses[:3]) + 4 * losses[3]) / 100
        assert abs(epoch_loss - weighted) > 1e-6 * weighted  # the mistake shows
    for wa, wb in zip(wrong.get_weights(), right.get_weights()):
        np.testing.assert_array_equal(wa, wb)  # the same updates


def test_the_partial_batch_is_named_by_its_samples_and_the_layer_nearest_the_output():
    report = compare.compare(*pair(DropPartial), X, Y, epochs=2, learning_rate=0.5, batch_size=32)
    assert report.localisation.samples == (96, 100)
    assert report.localisation.layer == "W1"  # backpropagation order: the output layer first
    assert report.localisation.layers == ["W1", "W0"]


def test_a_late_disagreement_is_found_at_its_exact_batch():
    # Independent witness: the first sample whose inputs sum above THRESHOLD.
    first = int(np.argmax(X.sum(axis=1) > THRESHOLD))
    assert first > 10
    report = compare.compare(*pair(SkipsLargeInputs), X, Y, epochs=2, learning_rate=0.5)
    loc = report.localisation
    assert (loc.epoch, loc.batch, loc.samples) == (1, first + 1, (first, first + 1)), loc
    assert loc.cause == "update step"
    assert "gradients on this batch (1 samples): agree" in loc.evidence


def test_gradient_only_disagreement_at_batch_size_one():
    # Summing over the batch is invisible when every batch has one sample: training agrees,
    # the gradient on all samples does not.
    report = compare.compare(*pair(SumOverBatch), X, Y, epochs=2, learning_rate=0.1, batch_size=1)
    assert [c.name for c in report.failed_checks] == ["gradient W0", "gradient W1"]
    assert report.localisation.cause == "batch averaging"
    assert report.localisation.epoch is None


def test_seed_loss_against_mse_is_a_loss_convention():
    # L_seed = k/2 · L_mse: identical for k = 2, a factor 3/2 for k = 3.
    a, b = MLP(2, [5], 3, seed=0, loss="seed"), MLP(2, [5], 3, seed=1)
    report = compare.compare(a, b, X, np.hstack([Y, Y / 2, Y / 3]), epochs=1, learning_rate=0.1)
    assert report.localisation.cause == "loss convention"
    assert "1.5 ×" in report.localisation.hint and "k/2" in report.localisation.hint
    two = compare.compare(MLP(2, [5], 2, loss="seed"), MLP(2, [5], 2), X, np.hstack([Y, Y]), epochs=1,
                          learning_rate=0.1)
    assert two.passed


def test_missing_bias_is_reported_not_raised():
    a, b = MLP(2, [5], 1, seed=0), MLP(2, [5], 1, seed=0, use_bias=True)
    report = compare.compare(a, b, X, Y, epochs=1, learning_rate=0.1)
    assert not report.passed
    assert report.checks[0].name == "initial weights" and "2 weight arrays" in report.checks[0].note
    assert report.localisation.cause == "missing bias"


def test_different_architecture_is_reported():
    report = compare.compare(MLP(2, [5], 1), MLP(2, [4], 1), X, Y, epochs=1, learning_rate=0.1)
    assert report.localisation.cause == "architecture"
    assert "(2, 5)" in report.checks[0].note


def test_dtype_mismatch():
    a, b = MLP(2, [5], 1, seed=0, dtype="float32"), MLP(2, [5], 1, seed=0)
    report = compare.compare(a, b, X, Y, epochs=1, learning_rate=0.1)
    assert report.dtype == "float64"
    assert report.localisation.cause == "dtype mismatch"


def test_float32_pair_uses_float32_tolerance():
    a, b = MLP(2, [5], 1, seed=0, dtype="float32"), MLP(2, [5], 1, seed=1, dtype="float32")
    report = compare.compare(a, b, X, Y, epochs=1, learning_rate=0.1)
    assert report.passed and report.dtype == "float32"
    assert report.checks[0].rtol == 1e-5
    report = compare.compare(a, b, X, Y, epochs=1, learning_rate=0.1, rtol=1e-3, atol=0.0)
    counts = report.check("optimizer iterations")  # step counts must be equal: an exact check
    assert counts.passed and (counts.rtol, counts.atol) == (0.0, 0.0)
    measured = [c for c in report.checks if c is not counts]
    assert {c.rtol for c in measured} == {1e-3} and {c.atol for c in measured} == {0.0}


def test_different_initial_weights_when_set_weights_does_not_take():
    a, b = MLP(2, [5], 1, seed=0), IgnoresSetWeights(2, [5], 1, seed=1)
    report = compare.compare(a, b, X, Y, epochs=1, learning_rate=0.1)
    assert [c.name for c in report.failed_checks][:2] == ["initial weights", "forward"]
    assert report.localisation.cause == "different initial weights"


def test_a_side_that_raises_is_named():
    with pytest.raises(compare.SideError, match=r"Raises\.gradients raised RuntimeError: boom"):
        compare.compare(*pair(Raises), X, Y, epochs=1, learning_rate=0.1)


#: The forked child needs Linux and two cores (``can_fork`` also wants no TensorFlow loaded: other tests load it,
#: and the child here runs NumPy alone).
FORKS = pytest.mark.skipif(not sys.platform.startswith("linux") or background.usable_cores() < 2,
                           reason="needs fork (Linux) and two cores")


def reported_numbers(report):
    """Every number a report holds about the two sides, for bit-for-bit comparison."""
    checks = [(c.name, c.max_abs_error, c.max_rel_error, c.passed) for c in report.checks]
    return checks, report.losses_a, report.losses_b


@FORKS
def test_side_a_run_in_a_forked_child_gives_the_report_it_gives_in_process():
    settings = dict(epochs=3, learning_rate=0.1, batch_size=7, shuffle=5)
    a, b = pair(MLP, use_bias=True, optimizer="adam")
    in_process = compare.compare(a, b, X, Y, **settings)
    trained_here = a.get_weights() + b.get_weights()
    a, b = pair(MLP, use_bias=True, optimizer="adam")
    with background.in_background(run_side, a, X, Y, **settings) as a_half:
        a_run = a_half.result()
    np.testing.assert_array_equal(a.get_weights()[0], a_run.initial.weights[0])  # the child trained, not the parent
    forked = compare.compare(a, b, X, Y, a_run=a_run, **settings)
    assert reported_numbers(forked) == reported_numbers(in_process)
    for after_fork, after_in_process in zip(a.get_weights() + b.get_weights(), trained_here, strict=True):
        np.testing.assert_array_equal(after_fork, after_in_process)  # a ends trained, as if it had trained here


@FORKS
def test_what_the_forked_child_raises_is_raised_in_the_parent():
    with pytest.raises(compare.SideError, match=r"Raises\.gradients raised RuntimeError: boom"):
        with background.in_background(run_side, Raises(2, [5], 1), X, Y, epochs=1, learning_rate=0.1) as a_half:
            a_half.result()


@FORKS
def test_a_child_that_dies_without_answering_is_said_so():
    with pytest.raises(background.NoAnswer, match="without an answer"):
        with background.in_background(os._exit, 3) as child:
            child.result()


def stopped_by_ctrl_c() -> None:
    """What Ctrl-C does to the child: SIGINT arrives while it works."""
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(30)  # never finishes: the signal interrupts it


@FORKS
def test_a_child_stopped_by_ctrl_c_stops_the_parent_too():
    """KeyboardInterrupt, not NoAnswer: the parent may have missed its own Ctrl-C (Python drops one raised in a
    garbage-collection callback) and would otherwise take the child for one killed for memory and train a itself."""
    with pytest.raises(KeyboardInterrupt):
        with background.in_background(stopped_by_ctrl_c) as child:
            child.result()


def test_assert_equivalent_raises_with_the_table():
    compare.assert_equivalent(*pair(), X, Y, epochs=2)
    with pytest.raises(AssertionError) as info:
        compare.assert_equivalent(*pair(NoFactorTwo), X, Y, epochs=2)
    text = str(info.value)
    assert "FAIL" in text and "gradient W0" in text and "loss convention" in text


def test_factor_matching():
    assert proportionality([np.array([1.0, 2.0])], [np.array([2.0, 4.0])]) == pytest.approx(0.5)
    assert proportionality([np.array([1.0, 2.0])], [np.array([2.0, 1.0])]) is None
    assert [f.formula() for f in match_factor(0.5, 1, 1)] == ["1/2"]
    assert match_factor(1.0, 3, 8) == []
    assert {f.cause for f in match_factor(32.0, 1, 32)} == {"batch averaging"}
    assert [f.formula() for f in match_factor(1.5, 3, 1)] == ["k/2"]

