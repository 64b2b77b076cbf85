"""``mlp-compare grade``: many submissions in one command, each in a process of its own.

- :mod:`compare.grade.pool` — spawned processes with time and memory limits, in parallel.
- :mod:`compare.grade.worker` — what runs in each: one submission graded against ``scratch.MLP``, or the
  one proof that ``scratch.MLP`` ≡ Keras on the configuration.
- :mod:`compare.grade.command` — the command: finding submissions, the table, CSV, JSON and Markdown.

Importing this package imports nothing heavy; workers never import TensorFlow (only the proof does).
"""
