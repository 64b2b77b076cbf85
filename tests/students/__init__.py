"""From-scratch MLPs written as other people write them, each with thin adapters to the protocol.

None of them uses this project: column vectors with ``(out, in)`` kernels, the
seed's own lesson code, a full-batch tutorial, per-sample book code, and a few
broken ones. The adapters expose the protocol without fixing the math, so the
harness's diagnosis of them can be tested (and ``mlp-compare grade`` run on them).
"""
