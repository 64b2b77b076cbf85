"""A well-known online book's network: column vectors, kernels (out, in), biases (out, 1).

Quadratic cost C = ½·Σ‖a − y‖² per sample (its derivative ``a − y``), mini-batch
SGD that averages the per-sample gradients of each batch, and the book's own
shuffling of the training data every epoch (``random.shuffle``).
"""

import random

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


class Network:
    def __init__(self, sizes, seed=0, shuffle=True):
        rng = np.random.default_rng(seed)
        self.num_layers = len(sizes)
        self.biases = [np.zeros((y, 1)) for y in sizes[1:]]
        self.weights = [rng.random((y, x)) for x, y in zip(sizes[:-1], sizes[1:])]  # noqa: RUF007 (as the book writes it)
        self.shuffle = shuffle
        self.random = random.Random(seed)

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(np.dot(w, a) + b)
        return a

    def SGD(self, training_data, epochs, mini_batch_size, eta):
        training_data = list(training_data)
        for _ in range(epochs):
            if self.shuffle:
                self.random.shuffle(training_data)
            mini_batches = [training_data[k:k + mini_batch_size]
                            for k in range(0, len(training_data), mini_batch_size)]
            for mini_batch in mini_batches:
                self.update_mini_batch(mini_batch, eta)

    def update_mini_batch(self, mini_batch, eta):
        nabla_b, nabla_w = self.batch_gradient(mini_batch)
        self.weights = [w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

    def batch_gradient(self, mini_batch):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        return nabla_b, nabla_w

    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = self.cost_derivative(activations[-1], y) * sigmoid_prime(zs[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for layer in range(2, self.num_layers):
            z = zs[-layer]
            delta = np.dot(self.weights[-layer + 1].transpose(), delta) * sigmoid_prime(z)
            nabla_b[-layer] = delta
            nabla_w[-layer] = np.dot(delta, activations[-layer - 1].transpose())
        return (nabla_b, nabla_w)

    def cost_derivative(self, output_activations, y):
        return output_activations - y


# ------------------------------------------------------------ adapters
class RawAdapter:
    """Exposes the network's own arrays as they are: kernels (out, in), biases (out, 1)."""

    def __init__(self, num_inputs, hidden_layers, num_outputs, seed=0, shuffle=True, **_):
        self.net = Network([num_inputs, *hidden_layers, num_outputs], seed=seed, shuffle=shuffle)

    def _pairs(self, x, y):
        return [(xi.reshape(-1, 1), yi.reshape(-1, 1)) for xi, yi in zip(x, y)]

    def forward(self, x):
        return np.hstack([self.net.feedforward(xi.reshape(-1, 1)) for xi in x]).T

    def evaluate(self, x, y):
        """The book's quadratic cost: C = 1/n Σ ½‖y − a‖²."""
        return float(np.mean([0.5 * np.sum((self.net.feedforward(a) - b) ** 2) for a, b in self._pairs(x, y)]))

    def gradients(self, x, y):
        nabla_b, nabla_w = self.net.batch_gradient(self._pairs(x, y))
        return [a for w, b in zip(nabla_w, nabla_b) for a in self._layout(w / len(x), b / len(x))]

    def train(self, x, y, epochs, learning_rate, batch_size=1, shuffle=None, verbose=False):
        """The book's SGD loop (its shuffling included), recording each batch's cost before its update."""
        data = self._pairs(x, y)
        history = []
        for _ in range(epochs):
            if self.net.shuffle:
                self.net.random.shuffle(data)
            total = 0.0
            for k in range(0, len(data), batch_size):
                batch = data[k:k + batch_size]
                total += sum(0.5 * np.sum((self.net.feedforward(a) - b) ** 2) for a, b in batch)
                self.net.update_mini_batch(batch, learning_rate)
            history.append(total / len(data))
        return history

    def _layout(self, w, b):
        return [w, b]

    def get_weights(self):
        return [a.copy() for w, b in zip(self.net.weights, self.net.biases) for a in self._layout(w, b)]

    def set_weights(self, weights):
        self.net.weights = [self._kernel(w) for w in weights[0::2]]
        self.net.biases = [np.reshape(b, (-1, 1)).astype(float) for b in weights[1::2]]

    def _kernel(self, w):
        return np.array(w, dtype=float)


class Adapter(RawAdapter):
    """The protocol's layout: kernels transposed to (in, out), biases flattened to (n,)."""

    def _layout(self, w, b):
        return [w.T, b.ravel()]

    def _kernel(self, w):
        return np.array(w, dtype=float).T


class NoShuffleAdapter(Adapter):
    """The same network with the book's shuffling turned off."""

    def __init__(self, num_inputs, hidden_layers, num_outputs, seed=0, **_):
        super().__init__(num_inputs, hidden_layers, num_outputs, seed=seed, shuffle=False)
