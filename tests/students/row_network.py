"""A learner's row-layout network (samples as rows, kernels (in, out), no biases), written right,
and the ways learners get it wrong: an output layer without its activation's derivative, the MAE for
the MSE, a learning-rate decay kept across calls, an exception deep in their own helper, a misspelt
method, a ``train`` that never ends, one that allocates without bound."""

import numpy as np


class Plain:
    """Mini-batch SGD on the MSE, like Keras: correct."""

    def __init__(self, num_inputs, hidden_layers, num_outputs, seed=0, **_):
        sizes = [num_inputs, *hidden_layers, num_outputs]
        rng = np.random.default_rng(seed)
        self.weights = [rng.random((a, b)) for a, b in zip(sizes[:-1], sizes[1:])]  # noqa: RUF007

    def _activations(self, x):
        activations = [np.asarray(x, dtype=float)]
        for w in self.weights:
            activations.append(1 / (1 + np.exp(-activations[-1] @ w)))
        return activations

    def forward(self, x):
        return self._activations(x)[-1]

    def loss(self, output, y):
        return np.mean((output - y) ** 2)

    def loss_gradient(self, output, y):
        return 2 * (output - y) / output.size

    def output_delta(self, output, y):
        return self.loss_gradient(output, y) * output * (1 - output)

    def evaluate(self, x, y):
        return float(self.loss(self.forward(x), y))

    def gradients(self, x, y):
        activations = self._activations(x)
        delta = self.output_delta(activations[-1], y)
        grads = []
        for layer in reversed(range(len(self.weights))):
            grads.insert(0, activations[layer].T @ delta)
            a = activations[layer]
            delta = (delta @ self.weights[layer].T) * a * (1 - a)
        return grads

    def learning_rate(self, learning_rate):
        return learning_rate

    def train(self, x, y, epochs, learning_rate, batch_size=1, shuffle=None, verbose=False):
        history = []
        for _ in range(epochs):
            total = 0.0
            for start in range(0, len(x), batch_size):
                xb, yb = x[start:start + batch_size], y[start:start + batch_size]
                total += self.evaluate(xb, yb) * len(xb)
                self.step(self.gradients(xb, yb), self.learning_rate(learning_rate))
            history.append(total / len(x))
        return history

    def step(self, grads, learning_rate):
        for w, g in zip(self.weights, grads):
            w -= learning_rate * g

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w, dtype=float) for w in weights]


class OutputWithoutDerivative(Plain):
    """Forgets the output sigmoid's derivative: delta = dL/dŷ instead of dL/dŷ · ŷ(1 − ŷ)."""

    def output_delta(self, output, y):
        return self.loss_gradient(output, y)


class MeanAbsolute(Plain):
    """Descends the mean absolute error instead of the mean squared error."""

    def loss(self, output, y):
        return np.mean(np.abs(output - y))

    def loss_gradient(self, output, y):
        return np.sign(output - y) / output.size


class Decaying(Plain):
    """Decays its learning rate with a step counter kept in the object: lr / (1 + 0.05·steps)."""

    steps = 0

    def learning_rate(self, learning_rate):
        self.steps += 1
        return learning_rate / (1 + 0.05 * self.steps)


class Crashes(Plain):
    """Its update multiplies arrays of the wrong shapes on the first step."""

    def step(self, grads, learning_rate):
        for w, g in zip(self.weights, grads):
            w -= learning_rate * self.scaled(g)

    def scaled(self, gradient):
        return gradient @ np.ones((gradient.shape[0], 1))  # (in, out) @ (in, 1): the shapes do not fit


class Misspelt(Plain):
    """Calls its gradient method ``gradient``."""

    gradient = Plain.gradients
    gradients = None


class Forever(Plain):
    """``train`` never returns."""

    def train(self, x, y, epochs, learning_rate, batch_size=1, shuffle=None, verbose=False):
        while True:
            pass


class Hog(Plain):
    """``train`` allocates until something stops it."""

    def train(self, x, y, epochs, learning_rate, batch_size=1, shuffle=None, verbose=False):
        hoard = []
        while True:
            hoard.append(np.ones(50_000_000))
