"""The optimizers: each update rule against its formula worked by hand, their state, and Keras as the witness.

NumPy-only tests check one or two steps of every optimizer against the
formula of Keras's ``update_step``, written out here independently; the
refusal of unknown names, arguments, values and states; and the state's round
trip. The tests marked ``keras`` train the scratch network beside its Keras
twin through :func:`compare.compare` over a covering design of the settings,
show that float32-rounded hyperparameters are what makes float64 agree, and
that the harness localises a wrong optimizer to its first differing step.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from equivalence_helpers import make_data, make_mlp

import scratch
from compare import compare
from compare.causes import Cause
from compare.gallery import wrong
from scratch.optimizers import OPTIMIZERS, make_optimizer, optimizer_config

#: TensorFlow's ``ops.cast(x, "float64")`` of a Python float goes through float32.
F32 = {x: float(np.float32(x)) for x in (0.9, 0.999, 0.5)}

# Two steps on a kernel and a bias: the second with another gradient and another learning rate.
W0, B0 = np.array([[0.3, -0.7, 1.1], [0.05, 0.0, -2.0]]), np.array([0.2, -0.1, 0.4])
GRADIENTS = [(np.array([[0.5, -1.5, 0.02], [2.0, 0.0, -0.3]]), np.array([1.0, -0.25, 0.0])),
             (np.array([[0.1, 0.4, -0.02], [-1.0, 0.3, 0.03]]), np.array([-0.01, 0.05, 0.2]))]
LEARNING_RATES = [0.1, 0.03]


def two_steps(spec: str | dict) -> tuple[list[np.ndarray], dict]:
    """``[W, b]`` after the two steps of the scratch optimizer ``spec``, and its state."""
    optimizer = make_optimizer(spec)
    parameters = [W0.copy(), B0.copy()]
    optimizer.build(parameters)
    for gradients, learning_rate in zip(GRADIENTS, LEARNING_RATES):
        optimizer.apply(parameters, [g.copy() for g in gradients], learning_rate)
    return parameters, optimizer.get_state()


# ------------------------------------------------- the formulas, by hand
def sgd_by_hand(mu: float, nesterov: bool) -> tuple[list[np.ndarray], dict]:
    """velocity = mu * velocity - lr * g; w = w + velocity (Nesterov: w = w + mu * velocity - lr * g)."""
    w, velocity = [W0.copy(), B0.copy()], [np.zeros((2, 3)), np.zeros(3)]
    for gradients, lr in zip(GRADIENTS, LEARNING_RATES):
        for i, g in enumerate(gradients):
            velocity[i] = mu * velocity[i] - lr * g
            w[i] = w[i] + (mu * velocity[i] - lr * g if nesterov else velocity[i])
    return w, {"iterations": 2} | ({"momentum": velocity} if mu else {})  # Keras keeps no momentum at mu = 0


def adam_by_hand(beta_1: float, beta_2: float, rounded: bool, amsgrad: bool,
                 epsilon: float = 1e-7) -> tuple[list[np.ndarray], dict]:
    """Keras's Adam: α = lr·√(1−β2^t)/(1−β1^t); m += (g−m)(1−β1); v += (g²−v)(1−β2); w −= α·m/(√v+ε)."""
    power_1, power_2 = (F32[beta_1], F32[beta_2]) if rounded else (beta_1, beta_2)
    w = [W0.copy(), B0.copy()]
    m, v, v_hat = ([np.zeros((2, 3)), np.zeros(3)] for _ in range(3))
    for t, (gradients, lr) in enumerate(zip(GRADIENTS, LEARNING_RATES), start=1):
        alpha = lr * math.sqrt(1 - power_2**t) / (1 - power_1**t)
        for i, g in enumerate(gradients):
            m[i] = m[i] + (g - m[i]) * (1 - beta_1)
            v[i] = v[i] + (g**2 - v[i]) * (1 - beta_2)
            v_hat[i] = np.maximum(v_hat[i], v[i])
            w[i] = w[i] - alpha * m[i] / (np.sqrt(v_hat[i] if amsgrad else v[i]) + epsilon)
    return w, {"iterations": 2, "momentum": m, "velocity": v} | ({"velocity_hat": v_hat} if amsgrad else {})


def rmsprop_by_hand(rho: float, mu: float, centered: bool, epsilon: float = 1e-7) -> tuple[list[np.ndarray], dict]:
    """v = ρv + (1−ρ)g²; ḡ = ρḡ + (1−ρ)g; Δ = lr·g/√(v − ḡ² + ε) (or √(v + ε)); m = μm + Δ, w −= m (or Δ)."""
    w = [W0.copy(), B0.copy()]
    v, g_bar, m = ([np.zeros((2, 3)), np.zeros(3)] for _ in range(3))
    for gradients, lr in zip(GRADIENTS, LEARNING_RATES):
        for i, g in enumerate(gradients):
            v[i] = rho * v[i] + (1 - rho) * g**2
            g_bar[i] = rho * g_bar[i] + (1 - rho) * g
            increment = lr * g / np.sqrt(v[i] - g_bar[i] ** 2 + epsilon if centered else v[i] + epsilon)
            m[i] = mu * m[i] + increment
            w[i] = w[i] - (m[i] if mu > 0 else increment)
    state = {"iterations": 2, "velocity": v} | ({"momentum": m} if mu > 0 else {})
    return w, state | ({"average_gradient": g_bar} if centered else {})


HAND_CASES = {
    "sgd": ("sgd", lambda: sgd_by_hand(0.0, False)),
    "sgd momentum": ({"name": "sgd", "momentum": 0.9}, lambda: sgd_by_hand(F32[0.9], False)),
    "sgd momentum unrounded": ({"name": "sgd", "momentum": 0.9, "hyperparameter_dtype": None},
                               lambda: sgd_by_hand(0.9, False)),
    "sgd nesterov": ({"name": "sgd", "momentum": 0.5, "nesterov": True}, lambda: sgd_by_hand(0.5, True)),
    "adam": ("adam", lambda: adam_by_hand(0.9, 0.999, rounded=True, amsgrad=False)),
    "adam unrounded": ({"name": "adam", "hyperparameter_dtype": None},
                       lambda: adam_by_hand(0.9, 0.999, rounded=False, amsgrad=False)),
    "adam amsgrad": ({"name": "adam", "amsgrad": True, "beta_1": 0.5},
                     lambda: adam_by_hand(0.5, 0.999, rounded=True, amsgrad=True)),
    "rmsprop": ("rmsprop", lambda: rmsprop_by_hand(0.9, 0.0, centered=False)),
    "rmsprop centered momentum": ({"name": "rmsprop", "centered": True, "momentum": 0.5, "epsilon": 1e-3},
                                  lambda: rmsprop_by_hand(0.9, 0.5, centered=True, epsilon=1e-3)),
}


@pytest.mark.parametrize("case", HAND_CASES)
def test_two_steps_follow_the_formula_worked_by_hand(case):
    spec, by_hand = HAND_CASES[case]
    parameters, state = two_steps(spec)
    expected_parameters, expected_state = by_hand()
    for got, expected in zip(parameters, expected_parameters):
        np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-16)
    assert state.keys() == expected_state.keys()
    assert state["iterations"] == 2
    for slot in set(state) - {"iterations"}:
        for got, expected in zip(state[slot], expected_state[slot]):
            np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-16, err_msg=slot)


@pytest.mark.parametrize("case", HAND_CASES)
def test_a_step_on_the_flat_arrays_is_the_step_per_parameter_bit_for_bit(case):
    """``apply_flat`` (every parameter end to end, one call) against ``apply`` (one update each, checked above)."""
    spec, _ = HAND_CASES[case]
    expected_parameters, expected_state = two_steps(spec)
    optimizer = make_optimizer(spec)
    parameters = np.concatenate([W0.ravel(), B0])
    optimizer.build([W0, B0])
    for gradients, learning_rate in zip(GRADIENTS, LEARNING_RATES):
        optimizer.apply_flat(parameters, np.concatenate([g.ravel() for g in gradients]), learning_rate)
    np.testing.assert_array_equal(parameters, np.concatenate([p.ravel() for p in expected_parameters]))
    state = optimizer.get_state()
    assert [a.shape for slot in set(state) - {"iterations"} for a in state[slot]] == [(2, 3), (3,)] * (len(state) - 1)
    assert_same_state(state, expected_state)


def test_a_rule_written_per_parameter_is_applied_per_parameter_on_the_flat_arrays():
    """A subclass that overrides ``update`` (the gallery's optimizers) sees one parameter at a time, by index."""
    seen = []

    class Halving(OPTIMIZERS["sgd"]):
        def update(self, index, parameter, gradient, learning_rate):
            seen.append((index, parameter.shape))
            parameter *= 0.5

    optimizer = Halving()
    optimizer.build([W0, B0])
    parameters = np.concatenate([W0.ravel(), B0])
    optimizer.apply_flat(parameters, np.zeros_like(parameters), 0.1)
    assert seen == [(0, (2, 3)), (1, (3,))] and optimizer.iterations == 1
    np.testing.assert_array_equal(parameters, np.concatenate([W0.ravel(), B0]) * 0.5)


def test_a_step_on_the_flat_arrays_needs_the_optimizer_built():
    with pytest.raises(RuntimeError, match="must be built on the parameters before apply_flat"):
        make_optimizer("sgd").apply_flat(np.zeros(3), np.zeros(3), 0.1)


def test_slots_are_views_of_one_flat_array_that_set_state_writes_into():
    optimizer = make_optimizer("adam")
    optimizer.build([W0, B0])
    flat = optimizer.flat_slots["momentum"]
    state = optimizer.get_state() | {"momentum": [np.full((2, 3), 1.0), np.full(3, 2.0)], "iterations": 4}
    optimizer.set_state(state)
    assert optimizer.flat_slots["momentum"] is flat
    assert flat.tolist() == [1.0] * 6 + [2.0] * 3
    assert all(np.shares_memory(view, flat) for view in optimizer.slot_arrays["momentum"])


def test_amsgrad_case_really_lowers_the_velocity_below_its_maximum():
    """Else the amsgrad case above could not tell max(v̂, v) from v."""
    _, state = two_steps({"name": "adam", "amsgrad": True, "beta_1": 0.5})
    assert any(np.any(hat > v) for hat, v in zip(state["velocity_hat"], state["velocity"]))


def test_momentum_is_rounded_through_float32_only_where_tensorflow_rounds_it():
    float64 = np.dtype("float64")
    assert make_optimizer({"name": "sgd", "momentum": 0.9}).hyperparameter("momentum", float64) == 0.8999999761581421
    assert make_optimizer({"name": "sgd", "momentum": 0.9, "hyperparameter_dtype": None}).hyperparameter(
        "momentum", float64) == 0.9
    adam = make_optimizer("adam")
    assert adam.hyperparameter("beta_2", float64) == float(np.float32(0.999)) != 0.999
    assert adam.hyperparameter("epsilon", float64) == 1e-7  # converted straight to float64
    float32 = np.dtype("float32")
    for hyperparameter_dtype in ("float32", None):
        sgd = make_optimizer({"name": "sgd", "momentum": 0.9, "hyperparameter_dtype": hyperparameter_dtype})
        assert sgd.hyperparameter("momentum", float32) == np.float32(0.9)


@pytest.mark.parametrize("spec, slots", [
    ("sgd", set()),
    ({"name": "sgd", "momentum": 0.9}, {"momentum"}),
    ({"name": "sgd", "nesterov": True}, set()),  # Keras keeps no momentum at momentum 0, Nesterov or not
    ("adam", {"momentum", "velocity"}),
    ({"name": "adam", "amsgrad": True}, {"momentum", "velocity", "velocity_hat"}),
    ("rmsprop", {"velocity"}),
    ({"name": "rmsprop", "momentum": 0.2, "centered": True}, {"velocity", "momentum", "average_gradient"}),
])
def test_an_optimizer_keeps_the_slots_keras_creates_for_its_arguments(spec, slots):
    state = scratch.MLP(2, [3], 1, seed=0, use_bias=True, optimizer=spec).get_optimizer_state()
    assert set(state) == {"iterations", *slots}
    assert all(len(state[slot]) == 4 and not any(np.any(a) for a in state[slot]) for slot in slots)


# ------------------------------------------------------- configuration
def test_config_fills_in_keras_defaults_and_repr_shows_only_what_differs():
    assert optimizer_config("adam") == {"name": "adam", "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
                                        "amsgrad": False, "hyperparameter_dtype": "float32"}
    assert optimizer_config({"name": "rmsprop", "momentum": 1}) == {
        "name": "rmsprop", "rho": 0.9, "momentum": 1.0, "epsilon": 1e-7, "centered": False}
    assert type(optimizer_config({"name": "sgd", "momentum": 0})["momentum"]) is float  # Keras's SGD wants a float
    assert "optimizer='adam'" in repr(scratch.MLP(2, [3], 1, optimizer="adam"))
    assert "optimizer={'name': 'sgd', 'momentum': 0.9}" in repr(scratch.MLP(2, [3], 1, optimizer={
        "name": "sgd", "momentum": 0.9}))


BAD_SPECS = {
    "unknown name": ("nadam", ValueError, r"optimizer must be one of adam, rmsprop, sgd; got 'nadam'"),
    "unsupported Keras argument": ({"name": "adam", "weight_decay": 0.004}, ValueError, r"no argument "
                                   r"'weight_decay' \(known: beta_1, beta_2, epsilon, amsgrad, hyperparameter_dtype\)"),
    "misspelt argument": ({"name": "sgd", "momentun": 0.9}, ValueError, "no argument 'momentun'"),
    "rounding option where nothing is rounded": ({"name": "rmsprop", "hyperparameter_dtype": None}, ValueError,
                                                 "no argument 'hyperparameter_dtype'"),
    "learning rate in the optimizer": ({"name": "sgd", "learning_rate": 0.1}, ValueError, "'learning_rate'"),
    "momentum above 1": ({"name": "sgd", "momentum": 1.5}, ValueError, r"momentum must be a finite number in \[0, 1\]"),
    "beta_1 of 1": ({"name": "adam", "beta_1": 1.0}, ValueError, r"beta_1 must be a finite number in \[0, 1\)"),
    "negative epsilon": ({"name": "rmsprop", "epsilon": -1e-7}, ValueError, "epsilon must be a finite number"),
    "NaN rho": ({"name": "rmsprop", "rho": float("nan")}, ValueError, "rho must be a finite number"),
    "string beta": ({"name": "adam", "beta_2": "0.999"}, TypeError, "beta_2 must be a real number"),
    "bool momentum": ({"name": "sgd", "momentum": True}, TypeError, "momentum must be a real number"),
    "flag not a bool": ({"name": "adam", "amsgrad": 1}, TypeError, "amsgrad must be True or False"),
    "rounding dtype": ({"name": "adam", "hyperparameter_dtype": "float16"}, ValueError, "'float32' or None"),
    "no name": ({"momentum": 0.9}, TypeError, "a dict with a 'name'"),
}


@pytest.mark.parametrize("case", BAD_SPECS)
def test_bad_optimizer_is_refused_before_a_network_exists(case):
    spec, error, message = BAD_SPECS[case]
    with pytest.raises(error, match=message):
        scratch.MLP(2, [3], 1, optimizer=spec)
    with pytest.raises(error, match=message):
        scratch.MLPConfig(2, [3], 1, optimizer=spec)


# ---------------------------------------------------------------- state
def assert_same_state(state: dict, reference: dict) -> None:
    assert state.keys() == reference.keys() and state["iterations"] == reference["iterations"]
    for slot in set(state) - {"iterations"}:
        for a, b in zip(state[slot], reference[slot]):
            np.testing.assert_array_equal(a, b)


def small_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (10, 2)), rng.random((10, 1))


@pytest.mark.parametrize("spec", [{"name": "adam", "amsgrad": True},
                                  {"name": "rmsprop", "centered": True, "momentum": 0.3},
                                  {"name": "sgd", "momentum": 0.9, "nesterov": True}])
def test_state_round_trips_and_training_continues_bit_for_bit(spec, tmp_path):
    x, y = small_data()
    net = scratch.MLP(2, [4], 1, use_bias=True, seed=0, optimizer=spec)
    net.train(x, y, 3, 0.05, batch_size=4)
    copy = scratch.MLP(net.config)
    copy.set_weights(net.get_weights())
    copy.set_optimizer_state(net.get_optimizer_state())
    net.save(tmp_path / "net.npz")
    loaded = scratch.MLP.load(tmp_path / "net.npz")
    assert loaded.get_optimizer_state()["iterations"] == 9
    histories = [side.train(x, y, 2, 0.02, batch_size=4) for side in (net, copy, loaded)]
    assert histories[0] == histories[1] == histories[2]
    assert net.get_optimizer_state()["iterations"] == 15
    for side in (copy, loaded):
        for a, b in zip(side.get_weights(), net.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert_same_state(side.get_optimizer_state(), net.get_optimizer_state())


BAD_STATES = {
    "not a dict": (lambda s: [s["iterations"]], TypeError, "state must be a dict with 'iterations'"),
    "no iterations": (lambda s: {k: v for k, v in s.items() if k != "iterations"}, TypeError, "'iterations'"),
    "negative iterations": (lambda s: s | {"iterations": -1}, ValueError, r"state\['iterations'\] must be >= 0"),
    "float iterations": (lambda s: s | {"iterations": 2.0}, TypeError, r"state\['iterations'\] must be an int"),
    "missing slot": (lambda s: {k: v for k, v in s.items() if k != "velocity"}, ValueError,
                     r"state lacks the slots \['velocity'\] that adam keeps"),
    "unknown slot": (lambda s: s | {"velocity_hat": s["velocity"]}, ValueError,
                     r"state has entries \['velocity_hat'\] that adam does not keep"),
    "slot count": (lambda s: s | {"momentum": s["momentum"][:-1]}, ValueError,
                   r"state\['momentum'\] must be a list of 4 arrays, got 3"),
    "slot shape": (lambda s: s | {"momentum": [a.T for a in s["momentum"]]}, ValueError,
                   r"state\['momentum'\]\[0\] must have shape \(2, 3\)"),
    "slot NaN": (lambda s: s | {"velocity": [a * np.nan for a in s["velocity"]]}, ValueError,
                 r"state\['velocity'\]\[0\] contains NaN"),
}


@pytest.mark.parametrize("case", BAD_STATES)
def test_bad_state_is_refused_and_changes_nothing(case):
    make_bad, error, message = BAD_STATES[case]
    x, y = small_data()
    net = scratch.MLP(2, [3], 1, use_bias=True, seed=0, optimizer="adam")
    net.train(x, y, 1, 0.05, batch_size=4)
    before = net.get_optimizer_state()
    with pytest.raises(error, match=message):
        net.set_optimizer_state(make_bad(net.get_optimizer_state()))
    assert before["iterations"] == 3
    assert_same_state(net.get_optimizer_state(), before)


# ------------------------------------------------ Keras as the witness
#: The optimizer settings, each with a learning rate that moves the weights visibly in 15 epochs.
SETTINGS = {
    "sgd-momentum": ({"name": "sgd", "momentum": 0.9}, 0.05),
    "sgd-nesterov": ({"name": "sgd", "momentum": 0.8, "nesterov": True}, 0.05),
    "adam": ("adam", 0.01),
    "adam-amsgrad": ({"name": "adam", "amsgrad": True, "beta_1": 0.8}, 0.01),
    "rmsprop": ("rmsprop", 0.005),
    "rmsprop-centered-momentum": ({"name": "rmsprop", "centered": True, "momentum": 0.5, "rho": 0.8}, 0.005),
}
EPOCHS = 15
#: Relative tolerance of the harness per dtype (the issue's bounds).
RTOL = {"float64": 1e-12, "float32": 1e-5}
#: (setting, dtype, use_bias, batch_size, shuffle, warm): every setting in both dtypes and, across its two
#: cases, with both values of every other factor; any two of dtype, bias, batch size (8 and 32, each leaving a
#: partial last batch of 45 samples), shuffle and warm start take all four pairs of values (checked below).
#: ``warm``: the scratch side first trains 3 epochs at twice the learning rate, and the Keras twin is built
#: from it then (weights and optimizer state copied), so the compared run continues after a change of rate.
DESIGN = [
    ("sgd-momentum", "float64", False, 32, None, False),
    ("sgd-momentum", "float32", True, 8, 11, True),
    ("sgd-nesterov", "float64", False, 8, 11, False),
    ("sgd-nesterov", "float32", True, 32, None, True),
    ("adam", "float64", True, 8, None, False),
    ("adam", "float32", False, 32, 11, True),
    ("adam-amsgrad", "float64", False, 8, 11, True),
    ("adam-amsgrad", "float32", True, 32, None, False),
    ("rmsprop", "float64", True, 32, 11, True),
    ("rmsprop", "float32", False, 8, None, False),
    ("rmsprop-centered-momentum", "float64", True, 32, 11, False),
    ("rmsprop-centered-momentum", "float32", False, 8, None, True),
]


def test_design_covers_every_setting_and_every_pair_of_the_other_factors():
    for setting in SETTINGS:
        first, second = [row[1:] for row in DESIGN if row[0] == setting]
        assert all(a != b for a, b in zip(first, second)), setting  # both values of every factor
    columns = list(zip(*DESIGN))[1:]
    for one, other in itertools.combinations(columns, 2):
        assert len(set(zip(one, other))) == 4


def scratch_network(setting: str, dtype: str, use_bias: bool, **optimizer_changes) -> scratch.MLP:
    """The 3-[7,4]-2 tanh-relu-sigmoid network of the equivalence tests, with the setting's optimizer."""
    spec, _ = SETTINGS[setting]
    spec = {"name": spec} if isinstance(spec, str) else spec
    template = make_mlp("3-[7,4]-2", "mix", use_bias, dtype)
    net = scratch.MLP(template.config.replace(optimizer=spec | optimizer_changes))
    net.set_weights(template.get_weights())
    return net


def optimizer_check_names(net: scratch.MLP) -> set[str]:
    names = ["W0", "b0", "W1", "b1", "W2", "b2"] if net.use_bias else ["W0", "W1", "W2"]
    slots = set(net.get_optimizer_state()) - {"iterations"}
    return {"optimizer iterations"} | {f"optimizer {slot} {name}" for slot in slots for name in names}


def scratch_case(setting: str, dtype: str, use_bias: bool, batch_size: int, shuffle: int | None, warm: bool,
                 **optimizer_changes) -> tuple[scratch.MLP, dict]:
    """A design row's scratch network (warm-started if asked) and ``compare``'s arguments."""
    net = scratch_network(setting, dtype, use_bias, **optimizer_changes)
    x, y = make_data(net)
    learning_rate = SETTINGS[setting][1]
    if warm:
        net.train(x, y, 3, 2 * learning_rate, batch_size=batch_size)
    kwargs = dict(epochs=EPOCHS, learning_rate=learning_rate, batch_size=batch_size, shuffle=shuffle, rtol=RTOL[dtype])
    return net, dict(x=x, y=y, **kwargs)


def run_case(*row) -> tuple[scratch.MLP, object, dict]:
    """A design row: :func:`scratch_case` and the Keras twin built from its network."""
    from keras_equiv import KerasMLP

    net, kwargs = scratch_case(*row)
    return net, KerasMLP.from_scratch(net), kwargs


def assert_agrees(net: scratch.MLP, twin: object, kwargs: dict) -> None:
    report = compare(net, twin, **kwargs)
    assert report.passed, "\n" + "\n".join(f"{c.name}: {c.max_rel_error:.3g}" for c in report.failed_checks)
    assert optimizer_check_names(net) <= {c.name for c in report.checks}
    assert report.losses_a[-1] < report.losses_a[0]  # it trained: the agreement is not that of two idle sides


#: The design rows that the rounding test runs (it checks their agreement too).
ROUNDING_ROWS = [row for row in DESIGN if row[0] in ("sgd-momentum", "adam") and row[1] == "float64"]


@pytest.mark.keras
@pytest.mark.parametrize("row", [row for row in DESIGN if row not in ROUNDING_ROWS],
                         ids=lambda row: "-".join(map(str, row)))
def test_training_agrees_with_keras(row):
    net, twin, kwargs = run_case(*row)
    assert set(twin.get_optimizer_state()) == set(net.get_optimizer_state())
    assert_agrees(net, twin, kwargs)


@pytest.mark.keras
@pytest.mark.parametrize("row", ROUNDING_ROWS, ids=lambda row: "-".join(map(str, row)))
def test_float32_rounded_hyperparameters_are_what_makes_float64_agree(row):
    """Keras rounds μ (and β1, β2 in βᵗ) through float32 even in float64; unrounded, scratch drifts off."""
    rounded, twin, kwargs = run_case(*row)
    exact, _ = scratch_case(*row, hyperparameter_dtype=None)  # compare() copies its weights and state into twin

    agreeing = compare(rounded, twin, **kwargs)
    drifting = compare(exact, twin, **kwargs)

    def gap(report):
        return max(c.max_abs_error for c in report.checks if c.name.startswith("final"))

    assert agreeing.passed
    assert not drifting.passed and gap(drifting) > 1e4 * max(gap(agreeing), 1e-17)
    # Plain momentum's μ·m is zero on a fresh optimizer's first step, so it first differs on the second
    # batch, where the harness measures the factor each side decays the carried momentum by; Adam's α uses
    # βᵗ from the first step on.
    where = drifting.localisation
    if row[0] == "sgd-momentum" and not row[-1]:
        assert (where.cause, where.epoch, where.batch) == (Cause.UPDATE_STEP, 1, 2), where
        assert ("keras_equiv.KerasMLP multiplies the carried momentum by 0.8999999762, which is scratch.MLP's "
                "factor rounded to float32 (scratch.MLP keeps 0.9 exact)") in where.hint
        assert any("multiplied by 0.9 on scratch.MLP, by 0.8999999762 on keras_equiv.KerasMLP" in line
                   for line in where.evidence), where.evidence
    else:
        assert (where.cause, where.epoch, where.batch) == (Cause.UPDATE_STEP, 1, 1), where


@pytest.fixture(scope="module")
def trained_adam_pair():
    """A scratch network trained 3 steps with Adam and its Keras twin built from it (state copied)."""
    from keras_equiv import KerasMLP

    x, y = small_data()
    net = scratch.MLP(2, [3], 1, use_bias=True, seed=0, optimizer="adam")
    net.train(x, y, 1, 0.05, batch_size=4)
    return net, KerasMLP.from_scratch(net)


@pytest.mark.keras
def test_state_round_trips_through_keras_bit_for_bit(trained_adam_pair):
    net, twin = trained_adam_pair
    assert_same_state(twin.get_optimizer_state(), net.get_optimizer_state())
    assert_same_state(twin.to_scratch().get_optimizer_state(), net.get_optimizer_state())


@pytest.mark.keras
@pytest.mark.parametrize("case", BAD_STATES)
def test_keras_side_refuses_the_same_bad_states_with_the_same_words(trained_adam_pair, case):
    make_bad, error, message = BAD_STATES[case]
    net, twin = trained_adam_pair
    before = twin.get_optimizer_state()
    with pytest.raises(error, match=message):
        twin.set_optimizer_state(make_bad(net.get_optimizer_state()))
    assert_same_state(twin.get_optimizer_state(), before)


@pytest.mark.keras
# TextbookAdam's first step: test_diagnosis.py (against scratch's Adam) and test_explain.py (against Keras's)
@pytest.mark.parametrize("wrong_class", [wrong.AdamEpsilonInsideRoot])
def test_harness_localises_a_wrong_adam_to_its_first_step(wrong_class):
    from keras_equiv import KerasMLP

    net = wrong_class(3, [5], 2, use_bias=True, init="glorot_uniform", seed=3)
    twin = KerasMLP.from_scratch(net)
    x, y = make_data(net)
    right = scratch.MLP(net.config)
    right.set_weights(net.get_weights())
    first = slice(0, 8)
    right.train(x[first], y[first], 1, 0.01, batch_size=8)
    net_copy = wrong_class(net.config)
    net_copy.set_weights(net.get_weights())
    net_copy.train(x[first], y[first], 1, 0.01, batch_size=8)
    assert any(np.max(np.abs(a - b)) > 1e-9 for a, b in zip(net_copy.get_weights(), right.get_weights()))

    report = compare(net, twin, x, y, epochs=2, learning_rate=0.01, batch_size=8)

    where = report.localisation
    assert not report.passed and report.check("gradient W0").passed
    assert (where.cause, where.epoch, where.batch, where.samples) == (Cause.UPDATE_STEP, 1, 1, (0, 8))
    assert "this is the optimizer's first step (iterations 0, zero slots)" in where.evidence
    assert "the optimizer slots after that first step agree" in where.evidence


@pytest.mark.keras
def test_pytorch_momentum_departs_from_keras_after_a_change_of_learning_rate():
    from keras_equiv import KerasMLP

    pytorch_form = wrong.PyTorchMomentum(3, [5], 2, use_bias=True, init="glorot_uniform", seed=3)
    keras_form = scratch.MLP(pytorch_form.config)
    keras_form.set_weights(pytorch_form.get_weights())
    twin = KerasMLP.from_scratch(keras_form)
    x, y = make_data(keras_form)

    def close_to_keras(side: scratch.MLP) -> bool:
        return all(np.allclose(a, b, rtol=1e-12, atol=1e-14) for a, b in zip(side.get_weights(), twin.get_weights()))

    for side in (pytorch_form, keras_form, twin):
        side.train(x, y, 2, 0.1, batch_size=8)
    assert close_to_keras(pytorch_form) and close_to_keras(keras_form)
    start = pytorch_form.get_weights(), pytorch_form.get_optimizer_state()
    for side in (pytorch_form, keras_form, twin):  # each from its own state, at a new rate
        side.train(x, y, 1, 0.05, batch_size=8)
    assert close_to_keras(keras_form) and not close_to_keras(pytorch_form)

    pytorch_form.set_weights(start[0])
    pytorch_form.set_optimizer_state(start[1])
    report = compare(pytorch_form, twin, x, y, epochs=1, learning_rate=0.05, batch_size=8)

    where = report.localisation
    assert (where.cause, where.epoch, where.batch) == (Cause.OPTIMIZER_STATE, 1, 1)
    assert "one step on this batch from a fresh optimizer state (iterations 0, zero slots): agrees" in where.evidence
    assert "compare.PyTorchMomentum keeps its momentum without the learning rate" in where.hint


def test_every_optimizer_has_a_hand_case():
    assert {optimizer_config(spec)["name"] for spec, _ in HAND_CASES.values()} == set(OPTIMIZERS)
