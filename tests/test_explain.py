"""``mlp-compare explain``: each pitfall shows the discrepancy it should, and the fixes agree.

The gallery runs once (quick size) through the real command; its numbers are
then checked against expectations worked out independently — by hand, from
the formulas, or by a second, differently built run — never against numbers
copied from its output.
"""

from __future__ import annotations

import json
import logging
import math
import sys

import numpy as np
import pytest

from compare import cli, compare

pytestmark = pytest.mark.keras

pitfalls = pytest.importorskip("compare.gallery.pitfalls")  # needs TensorFlow
keras_wrong = pytest.importorskip("compare.gallery.keras_wrong")
BACKEND_PITFALLS = pytest.importorskip("compare.gallery.backend_pitfalls").BACKEND_PITFALLS

K = 3  # the base network's outputs: (x0+x1, x1+x2, x2+x0)
FLOAT64_RTOL = 1e-10
SETTING = pitfalls.QUICK
#: The gallery's own lines; the Keras-backend lines start worker processes and are tested per backend
#: (tests/test_backends_jax.py, tests/test_backends_torch.py).
CORE_KEYS = [p.key for p in pitfalls.PITFALLS if p.key not in {b.key for b in BACKEND_PITFALLS}]


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, dict]:
    """Run ``mlp-compare explain --quick --json PATH`` once; (exit code, stdout, JSON)."""
    path = tmp_path_factory.mktemp("explain") / "gallery.json"
    capture = _Capture()
    with capture:
        code = cli.main(["explain", "--quick", "--only", ",".join(CORE_KEYS), "--json", str(path)])
    GALLERY_LOGS.extend(capture.logs)
    return code, capture.text, json.loads(path.read_text())


#: What TensorFlow logged (warnings and above) while the gallery ran.
GALLERY_LOGS: list[str] = []


class _Capture(logging.Handler):
    """Collect what the command prints (capsys is function-scoped) and what TensorFlow logs."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.logs: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.logs.append(record.getMessage())

    def __enter__(self) -> None:
        import io

        self._saved, sys.stdout = sys.stdout, io.StringIO()
        logging.getLogger("tensorflow").addHandler(self)

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("tensorflow").removeHandler(self)
        self.text = sys.stdout.getvalue()
        sys.stdout = self._saved


def pitfall(gallery: tuple[int, str, dict], key: str) -> dict:
    return next(p for p in gallery[2]["pitfalls"] if p["key"] == key)


@pytest.mark.slow
def test_the_command_succeeds_with_one_line_per_pitfall(gallery):
    code, text, document = gallery
    assert code == 0 and document["passed"] is True
    assert GALLERY_LOGS == []  # ten pairs of fresh Keras models, and not one TensorFlow warning (retracing included)
    assert [p["key"] for p in document["pitfalls"]] == CORE_KEYS
    for number, p in enumerate(document["pitfalls"], start=1):
        assert f"\n{number} " in text, f"row {number} ({p['key']}) missing from the table"
    assert "as expected" in text


@pytest.mark.slow
def test_every_mistake_disagrees_and_the_fixes_agree(gallery):
    for p in gallery[2]["pitfalls"]:
        assert p["agrees"] is p["expect_agree"], p["key"]
    agreeing = {p["key"] for p in gallery[2]["pitfalls"] if p["agrees"]}
    assert agreeing == {"baseline", "seed_rule_scaled", "double_softmax"}


@pytest.mark.slow
def test_the_base_pair_agrees_to_float64_rounding(gallery):
    p = pitfall(gallery, "baseline")
    assert p["report"]["passed"] and p["discrepancy"] < 1e-12


@pytest.mark.slow
def test_float32_gap_is_above_float64_tolerance_and_below_float32_resolution(gallery):
    p = pitfall(gallery, "float32")
    assert p["cause"] == "dtype mismatch"
    eps32 = np.finfo(np.float32).eps  # 1.19e-7: a float32 rounding is at most eps/2 relative
    for gap in (p["discrepancy"], p["details"]["forward_error"], p["details"]["epoch_losses_error"]):
        assert FLOAT64_RTOL < gap < 1e-4
    assert p["discrepancy"] <= eps32 / 2  # the weight copy rounds each weight once


@pytest.mark.slow
def test_seed_rule_gradients_are_exactly_k_over_2(gallery):
    p = pitfall(gallery, "seed_rule")
    # ½·Σ_j (ŷ_j − y_j)² = (k/2) · (1/k)·Σ_j (ŷ_j − y_j)²: the gradient ratio is k/2, by hand
    assert p["details"]["k"] == K
    assert math.isclose(p["discrepancy"], K / 2, rel_tol=1e-12)
    # the seed's loss is itself k/2 × the mse, so evaluate on identical weights is the first check to differ
    assert p["cause"] == "loss convention" and p["shows_first"].startswith("evaluate")


@pytest.mark.slow
def test_seed_rule_at_lr_k_over_2_takes_the_same_steps(gallery):
    p = pitfall(gallery, "seed_rule_scaled")
    assert p["discrepancy"] < FLOAT64_RTOL
    finals = [c for c in p["report"]["checks"] if c["name"].startswith("final")]
    assert finals and all(c["passed"] for c in finals)
    assert math.isclose(p["details"]["loss_ratio"], K / 2, rel_tol=1e-10)
    assert math.isclose(p["details"]["scaled_learning_rate"], SETTING.learning_rate * K / 2)


@pytest.mark.slow
def test_default_batch_and_shuffle_show_in_training_not_before(gallery):
    for key in ("default_batch", "default_shuffle"):
        p = pitfall(gallery, key)
        checks = {c["name"]: c["passed"] for c in p["report"]["checks"]}
        assert checks["forward"] and all(v for n, v in checks.items() if n.startswith("gradient")), key
        assert not checks["epoch losses"] and p["shows_first"].startswith("epoch losses (epoch 1"), key
        assert p["discrepancy"] > 1e-6, key


@pytest.mark.slow
def test_plain_mean_changes_only_the_reported_loss(gallery):
    p = pitfall(gallery, "plain_mean")
    assert p["cause"] == "epoch-loss averaging"
    assert p["details"]["final_weights_error"] < FLOAT64_RTOL  # the same updates
    assert p["details"]["last_batch"] == SETTING.samples % SETTING.partial_batch  # 40 = 32 + 8
    assert p["discrepancy"] > 1e-6


@pytest.mark.slow
def test_flat_targets_broadcast_in_numpy_and_are_refused_here(gallery):
    p = pitfall(gallery, "flat_targets")
    n = SETTING.samples
    assert tuple(p["details"]["broadcast_shape"]) == (n, n)
    assert f"({n}, 1)" in p["details"]["refusal"] and "reshape(-1, 1)" in p["details"]["refusal"]
    # independently: the mean over all n² pairs is mean(y²) − 2·mean(y)·mean(ŷ) + mean(ŷ²)
    x, y = pitfalls.pairwise_sums(n, SETTING.seed)
    target, output = y[:, 0], pitfalls.base_mlp(SETTING, num_outputs=1).forward(x)[:, 0]
    pairs = np.mean(target**2) - 2 * target.mean() * output.mean() + np.mean(output**2)
    assert math.isclose(p["details"]["raw_numpy_mse"], pairs, rel_tol=1e-12)
    assert math.isclose(p["details"]["correct_mse"], np.mean((target - output) ** 2), rel_tol=1e-12)
    assert math.isclose(p["details"]["keras_mse"], p["details"]["correct_mse"], rel_tol=1e-12)  # Keras reshapes


@pytest.mark.slow
def test_missing_bias_cannot_even_copy_the_weights(gallery):
    p = pitfall(gallery, "missing_bias")
    assert p["cause"] == "missing bias" and p["shows_first"].startswith("initial weights")
    assert p["details"]["weight_arrays"] == [4, 2]  # [W0, b0, W1, b1] vs [W0, W1]
    assert p["discrepancy"] > 1e-6


@pytest.mark.slow
def test_own_init_keeps_keras_glorot_weights(gallery):
    p = pitfall(gallery, "own_init")
    assert p["cause"] == "different initial weights" and p["shows_first"].startswith("initial weights")
    sizes = [3, *SETTING.hidden, K]
    kernels = [np.array(w) for w in p["details"]["keras_initial_weights"] if np.ndim(w) == 2]
    for kernel, n_in, n_out in zip(kernels, sizes[:-1], sizes[1:]):
        assert np.all(np.abs(kernel) <= math.sqrt(6 / (n_in + n_out)))  # glorot_uniform's limit
    assert any(np.any(kernel < 0) for kernel in kernels)  # not the copied U[0, 1) weights


# -------------------------------------- the wrappers do what their names say
def test_keras_default_batch_is_batch_32():
    x, y = pitfalls.pairwise_sums(40)
    a = pitfalls.base_mlp(SETTING)
    b = pitfalls.keras_twin(a, keras_wrong.KerasDefaultBatch)
    b.set_weights(a.get_weights())
    a.train(x, y, 1, 0.5, batch_size=32)
    b.train(x, y, 1, 0.5, batch_size=1)  # ignored: fit's default is 32
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wb, wa, rtol=1e-12)


def test_shuffling_cannot_matter_for_a_single_sample():
    x, y = pitfalls.pairwise_sums(1)
    a = pitfalls.base_mlp(SETTING)
    assert compare(a, pitfalls.keras_twin(a, keras_wrong.KerasDefaultShuffle), x, y, epochs=2,
                   learning_rate=0.5).passed


def test_plain_mean_agrees_when_no_batch_is_partial():
    outcome = pitfalls.run_pitfall("plain_mean", pitfalls.Setting(samples=64, epochs=1))
    assert outcome.agrees and outcome.report is not None and outcome.report.passed


# ------------------------------------------------------------ the command
def test_only_and_bad_keys(capsys):
    assert cli.main(["explain", "--only", "baseline"]) == 0
    assert capsys.readouterr().out.count("\n1 ") == 1
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["explain", "--only", "no_such_pitfall"])
    assert exit_info.value.code == 2 and "--only takes keys from" in capsys.readouterr().err


# --------------------------------------------- optimizers and classification
def by_hand_forward(weights: list, x: np.ndarray) -> np.ndarray:
    """The base pair's network (sigmoid hidden layer, biases): the output layer's z."""
    w0, b0, w1, b1 = (np.array(w) for w in weights)
    return (1 / (1 + np.exp(-(x @ w0 + b0)))) @ w1 + b1


@pytest.mark.slow
def test_textbook_adam_first_steps_follow_each_formula(gallery):
    p = pitfall(gallery, "textbook_adam")
    d = p["details"]
    g, lr, eps = np.array(d["gradients"][0]), d["learning_rate"], 1e-7
    beta_1_t, beta_2_t = float(np.float32(0.9)), float(np.float32(0.999))  # βᵗ through float32, as TF rounds them
    # the paper, t = 1: m̂ = (1 − β₁)g/(1 − β₁ᵗ), v̂ = (1 − β₂)g²/(1 − β₂ᵗ), step −η m̂ / (√v̂ + ε)
    m_hat, v_hat = 0.1 * g / (1 - beta_1_t), 0.001 * g * g / (1 - beta_2_t)
    np.testing.assert_allclose(d["textbook_first_step"][0], -lr * m_hat / (np.sqrt(v_hat) + eps), rtol=1e-9)
    # Keras: α = η √(1 − β₂ᵗ)/(1 − β₁ᵗ), m = (1 − β₁)g, v = (1 − β₂)g², step −α m/(√v + ε)
    alpha = lr * math.sqrt(1 - beta_2_t) / (1 - beta_1_t)
    keras_step = -alpha * (0.1 * g) / (np.sqrt(0.001 * g * g) + eps)
    np.testing.assert_allclose(d["keras_first_step"][0], keras_step, rtol=1e-9)
    assert not p["agrees"] and p["cause"] == "update step"


@pytest.mark.slow
def test_clipped_bce_against_both_formulas_by_hand(gallery):
    p = pitfall(gallery, "clipped_bce")
    d = p["details"]
    x, _ = pitfalls.pairwise_sums(SETTING.samples, SETTING.seed)
    y = np.array(d["labels"]).reshape(-1, 1)
    z = by_hand_forward(d["start_weights"], x)
    probability = np.clip(1 / (1 + np.exp(-z)), 1e-7, 1 - 1e-7)
    clipped = np.mean(-(y * np.log(probability) + (1 - y) * np.log(1 - probability)))
    from_logits = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    assert d["clipped_loss"] == pytest.approx(clipped, rel=1e-12)
    assert d["logits_loss"] == pytest.approx(from_logits, rel=1e-12)
    assert np.abs(z).max() > 37  # saturated: sigmoid(z) rounds to 1 in float64
    assert d["clipped_loss"] <= -math.log(1e-7) < d["logits_loss"]
    assert not p["agrees"] and p["cause"] == "loss function"


@pytest.mark.slow
def test_exact_adam_hyperparameters_disagree_and_tensorflows_rounding_agrees(gallery):
    p = pitfall(gallery, "float32_hyperparameters")
    assert p["details"]["beta_1_keras_uses"] == float(np.float32(0.9)) != 0.9
    assert p["details"]["fix_agrees"] is True and p["agrees"] is False
    assert 1e-9 < p["discrepancy"] < 1e-3  # far above float64 rounding, far below a wrong formula


@pytest.mark.slow
def test_pytorch_momentum_holds_the_gradient_keras_the_step(gallery):
    p = pitfall(gallery, "pytorch_momentum")
    d = p["details"]
    # v = Σ μᵏ g (PyTorch) and m = −η Σ μᵏ g (Keras): v/m = −1/η, by hand
    assert d["slot_ratio"] == pytest.approx(-1 / d["learning_rate"], rel=1e-9)
    assert d["weights_gap_after_rate_change"] > 1e-6
    assert p["cause"] == "optimizer state" and p["shows_first"].startswith("optimizer momentum")


@pytest.mark.slow
def test_double_softmax_does_not_happen_on_tensorflow(gallery):
    p = pitfall(gallery, "double_softmax")
    d = p["details"]
    x, _ = pitfalls.pairwise_sums(SETTING.samples, SETTING.seed)
    z = by_hand_forward(d["start_weights"], x)
    labels = np.array(d["classes"]).argmax(axis=1)

    def crossentropy(logits: np.ndarray) -> float:
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(-log_softmax[np.arange(len(labels)), labels].mean())

    probabilities = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert d["right_loss"] == pytest.approx(crossentropy(z), rel=1e-12)
    assert d["double_softmax_loss"] == pytest.approx(crossentropy(z), rel=1e-12)  # the logits, not a 2nd softmax
    assert abs(crossentropy(probabilities) - crossentropy(z)) > 1e-3  # what a second softmax would have given (1e-2)
    assert d["keras_warned"] is True and p["agrees"] is True
