"""The seed's own lesson code (``mlp.py`` of "Deep Learning for Audio with Python", lesson 08), as written.

One 1-D sample at a time, sigmoid everywhere, no biases, ``error = target -
output`` back-propagated and *added* (``weights += derivatives * lr``), so it
descends ½·Σ(t − o)² per sample; ``train`` prints the epoch error and returns
nothing.
"""

import numpy as np


class MLP:
    def __init__(self, num_inputs=3, hidden_layers=(3, 3), num_outputs=2, seed=0):
        self.num_inputs = num_inputs
        self.hidden_layers = hidden_layers
        self.num_outputs = num_outputs
        layers = [num_inputs] + list(hidden_layers) + [num_outputs]  # noqa: RUF005 (as the lesson writes it)
        rng = np.random.default_rng(seed)
        self.weights = [rng.random((layers[i], layers[i + 1])) for i in range(len(layers) - 1)]
        self.derivatives = [np.zeros((layers[i], layers[i + 1])) for i in range(len(layers) - 1)]
        self.activations = [np.zeros(layers[i]) for i in range(len(layers))]

    def forward_propagate(self, inputs):
        activations = inputs
        self.activations[0] = activations
        for i, w in enumerate(self.weights):
            net_inputs = np.dot(activations, w)
            activations = self._sigmoid(net_inputs)
            self.activations[i + 1] = activations
        return activations

    def back_propagate(self, error):
        for i in reversed(range(len(self.derivatives))):
            activations = self.activations[i + 1]
            delta = error * self._sigmoid_derivative(activations)
            delta_re = delta.reshape(delta.shape[0], -1).T
            current_activations = self.activations[i]
            current_activations = current_activations.reshape(current_activations.shape[0], -1)
            self.derivatives[i] = np.dot(current_activations, delta_re)
            error = np.dot(delta, self.weights[i].T)

    def train(self, inputs, targets, epochs, learning_rate):
        for i in range(epochs):
            sum_errors = 0
            for j, input in enumerate(inputs):
                target = targets[j]
                output = self.forward_propagate(input)
                error = target - output
                self.back_propagate(error)
                self.gradient_descent(learning_rate)
                sum_errors += self._mse(target, output)
            print(f"Error: {sum_errors / len(inputs)} at epoch {i + 1}")

    def gradient_descent(self, learningRate=1):
        for i in range(len(self.weights)):
            weights = self.weights[i]
            derivatives = self.derivatives[i]
            weights += derivatives * learningRate

    def _sigmoid(self, x):
        return 1.0 / (1 + np.exp(-x))

    def _sigmoid_derivative(self, x):
        return x * (1.0 - x)

    def _mse(self, target, output):
        return np.average((target - output) ** 2)


# ------------------------------------------------------------ adapters
class ThinAdapter:
    """The protocol over the lesson's methods, its math untouched; ``train`` is the lesson's own."""

    def __init__(self, num_inputs, hidden_layers, num_outputs, seed=0, **_):
        self.mlp = MLP(num_inputs, hidden_layers, num_outputs, seed=seed)

    def forward(self, x):
        return np.array([self.mlp.forward_propagate(row) for row in x])

    def evaluate(self, x, y):
        return float(np.mean([self.mlp._mse(t, self.mlp.forward_propagate(row)) for row, t in zip(x, y)]))

    def gradients(self, x, y):
        """The lesson's derivatives (from t − o), averaged over the samples."""
        total = [np.zeros_like(w) for w in self.mlp.weights]
        for row, target in zip(x, y):
            self.mlp.back_propagate(target - self.mlp.forward_propagate(row))
            total = [t + d for t, d in zip(total, self.mlp.derivatives)]
        return [t / len(x) for t in total]

    def train(self, x, y, epochs, learning_rate, batch_size=1, shuffle=None, verbose=False):
        return self.mlp.train(x, y, epochs, learning_rate)

    def get_weights(self):
        return [w.copy() for w in self.mlp.weights]

    def set_weights(self, weights):
        self.mlp.weights = [np.array(w, dtype=float) for w in weights]


class Adapter(ThinAdapter):
    """The lesson's training loop with the epoch errors returned instead of printed."""

    def train(self, x, y, epochs, learning_rate, batch_size=1, shuffle=None, verbose=False):
        history = []
        for _ in range(epochs):
            sum_errors = 0.0
            for row, target in zip(x, y):
                output = self.mlp.forward_propagate(row)
                self.mlp.back_propagate(target - output)
                self.mlp.gradient_descent(learning_rate)
                sum_errors += self.mlp._mse(target, output)
            history.append(sum_errors / len(x))
        return history
