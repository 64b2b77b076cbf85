"""The pitfall gallery: classic mistakes, each written once, measured live by the harness.

- :mod:`compare.gallery.wrong` — deliberately wrong NumPy MLPs on top of
  ``scratch.MLP`` (NumPy only; the harness tests use them too).
- :mod:`compare.gallery.keras_wrong` — deliberately wrong Keras MLPs on top of ``KerasMLP``.
- :mod:`compare.gallery.pitfalls` — each pitfall applied alone to the base
  pair and run through :func:`compare.compare`.
- :mod:`compare.gallery.explain` — ``mlp-compare explain``, the table.

Importing this package, ``wrong`` or ``explain`` does not import TensorFlow;
running the gallery does.
"""
