"""A popular book's network: column vectors, ``wih`` (hidden, in) and ``who`` (out, hidden), no biases.

``train`` takes one sample: ``output_errors = targets - final_outputs``, then
``self.who += self.lr * dot(output_errors * o * (1 - o), hidden.T)``.
"""

import numpy as np


class NeuralNetwork:
    def __init__(self, inputnodes, hiddennodes, outputnodes, learningrate, seed=0):
        rng = np.random.default_rng(seed)
        self.wih = rng.random((hiddennodes, inputnodes))
        self.who = rng.random((outputnodes, hiddennodes))
        self.lr = learningrate
        self.activation_function = lambda x: 1 / (1 + np.exp(-x))

    def train(self, inputs_list, targets_list):
        inputs = np.array(inputs_list, ndmin=2).T
        targets = np.array(targets_list, ndmin=2).T
        hidden_outputs = self.activation_function(np.dot(self.wih, inputs))
        final_outputs = self.activation_function(np.dot(self.who, hidden_outputs))
        output_errors = targets - final_outputs
        hidden_errors = np.dot(self.who.T, output_errors)
        self.who += self.lr * np.dot(output_errors * final_outputs * (1.0 - final_outputs), hidden_outputs.T)
        self.wih += self.lr * np.dot(hidden_errors * hidden_outputs * (1.0 - hidden_outputs), inputs.T)

    def query(self, inputs_list):
        inputs = np.array(inputs_list, ndmin=2).T
        hidden_outputs = self.activation_function(np.dot(self.wih, inputs))
        return self.activation_function(np.dot(self.who, hidden_outputs))


class Adapter:
    """The protocol over the book's network: kernels transposed to (in, out); one ``train`` call per sample."""

    def __init__(self, num_inputs, hidden_layers, num_outputs, seed=0, **_):
        (hidden,) = hidden_layers
        self.net = NeuralNetwork(num_inputs, hidden, num_outputs, 0.1, seed=seed)

    def forward(self, x):
        return np.hstack([self.net.query(row) for row in x]).T

    def evaluate(self, x, y):
        return float(np.mean((self.forward(x) - y) ** 2))

    def gradients(self, x, y):
        """The step ``train`` takes per sample, divided by lr, averaged over the samples."""
        saved = self.get_weights()
        steps = [np.zeros_like(w) for w in saved]
        self.net.lr = 1.0
        for row, target in zip(x, y):
            self.set_weights(saved)
            self.net.train(row, target)
            steps = [s + (w - w0) for s, w, w0 in zip(steps, self.get_weights(), saved)]
        self.set_weights(saved)
        return [s / len(x) for s in steps]

    def train(self, x, y, epochs, learning_rate, batch_size=1, shuffle=None, verbose=False):
        self.net.lr = learning_rate
        history = []
        for _ in range(epochs):
            total = 0.0
            for row, target in zip(x, y):
                total += float(np.mean((self.net.query(row).ravel() - target) ** 2))
                self.net.train(row, target)
            history.append(total / len(x))
        return history

    def get_weights(self):
        return [self.net.wih.T.copy(), self.net.who.T.copy()]

    def set_weights(self, weights):
        self.net.wih, self.net.who = (np.array(w, dtype=float).T.copy() for w in weights)
