"""A tutorial's two-layer network: rows of samples, biases as rows (1, n), full-batch gradient descent.

The loss is the MSE, but the gradient is written ``dZ2 = (A2 - Y) * A2 * (1 - A2)``
and summed over the samples (``A1.T @ dZ2``): the factor 2/(n·k) left out.
"""

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


class TwoLayerNet:
    def __init__(self, n_x, n_h, n_y, seed=0):
        rng = np.random.default_rng(seed)
        self.W1 = rng.random((n_x, n_h))
        self.b1 = np.zeros((1, n_h))
        self.W2 = rng.random((n_h, n_y))
        self.b2 = np.zeros((1, n_y))

    def forward(self, X):
        self.A1 = sigmoid(X @ self.W1 + self.b1)
        self.A2 = sigmoid(self.A1 @ self.W2 + self.b2)
        return self.A2

    def loss(self, X, Y):
        return np.mean((self.forward(X) - Y) ** 2)

    def backward(self, X, Y):
        A2 = self.forward(X)
        dZ2 = (A2 - Y) * A2 * (1 - A2)
        dW2 = self.A1.T @ dZ2
        db2 = np.sum(dZ2, axis=0, keepdims=True)
        dZ1 = (dZ2 @ self.W2.T) * self.A1 * (1 - self.A1)
        dW1 = X.T @ dZ1
        db1 = np.sum(dZ1, axis=0, keepdims=True)
        return dW1, db1, dW2, db2

    def fit(self, X, Y, epochs, lr):
        losses = []
        for _ in range(epochs):
            losses.append(self.loss(X, Y))
            dW1, db1, dW2, db2 = self.backward(X, Y)
            self.W1 -= lr * dW1
            self.b1 -= lr * db1
            self.W2 -= lr * dW2
            self.b2 -= lr * db2
        return losses


class RawAdapter:
    """The protocol over the tutorial's net; its arrays shown as they are (biases (1, n))."""

    def __init__(self, num_inputs, hidden_layers, num_outputs, seed=0, **_):
        (hidden,) = hidden_layers
        self.net = TwoLayerNet(num_inputs, hidden, num_outputs, seed=seed)

    def forward(self, x):
        return self.net.forward(x)

    def evaluate(self, x, y):
        return float(self.net.loss(x, y))

    def gradients(self, x, y):
        return [self._shown(g) for g in self.net.backward(x, y)]

    def train(self, x, y, epochs, learning_rate, batch_size=1, shuffle=None, verbose=False):
        return self.net.fit(x, y, epochs, learning_rate)

    def _shown(self, array):
        return array.copy()

    def get_weights(self):
        return [self._shown(a) for a in (self.net.W1, self.net.b1, self.net.W2, self.net.b2)]

    def set_weights(self, weights):
        w1, b1, w2, b2 = (np.array(w, dtype=float) for w in weights)
        self.net.W1, self.net.b1, self.net.W2, self.net.b2 = w1, b1.reshape(1, -1), w2, b2.reshape(1, -1)


class Adapter(RawAdapter):
    """Biases shown flat, (n,), as the protocol asks."""

    def _shown(self, array):
        return array.ravel().copy() if array.shape[0] == 1 and array is not self.net.W1 else array.copy()
