"""The benchmarks: how long scratch and Keras take, where the time goes, how it grows with the work.

``mlp-compare bench`` (or ``python -m compare.bench``) times every implementation
on the same data from the same initial weights; docs/performance.md explains
the method and the figures. Import a name from the module that defines it:

* :mod:`.cases`: what is benchmarked (phases, implementations, networks, data, FLOP counts);
* :mod:`.measuring`: timing and peak memory of one row, throughput, GFLOP/s, the ratio to Keras;
* :mod:`.runners`: scratch's and Keras's forward, gradients and training epoch, ready to time;
* :mod:`.sweep`: every case in turn, the GEMM peaks and the notes on how the run went;
* :mod:`.render`: the tables (text, Markdown) and the CSV, JSON and plot files;
* :mod:`.command`: the command line of ``mlp-compare bench``;
* :mod:`.machine`: the CPU, BLAS and versions, and this machine's own GEMM throughput;
* :mod:`.timing`: median wall time of an operation, and ``mlp-compare``'s timing table (with the
  :class:`~.timing.EpochClock` that times each epoch of the run it checks);
* :mod:`.gemm_time`: how long a phase's matrix products take alone (the GEMM % column);
* :mod:`.seed_original`: the seed's original per-sample algorithm, the baseline;
* :mod:`.epoch_timer`: a Keras callback timing each epoch of ``fit`` (imports TensorFlow);
* :mod:`.scratch_bench`: ``python -m compare.bench.scratch_bench``, scratch against the seed and the BLAS;
* :mod:`.keras_bench`: ``python -m compare.bench.keras_bench``, training epochs only, three ways in Keras;
* :mod:`.before_after`: ``python -m compare.bench.before_after``, this tree's scratch against another version of it.

Importing this package, or any module but :mod:`.epoch_timer`, does not import
TensorFlow: the Keras rows import it when they are built.
"""
