"""The scalar suite alone: time per call of symback's gradients, the hand-written ones and the peers.

    python benchmarks/bench_call.py [run.py's options]     # = run.py --suites scalar

The functions (programs.py): neuron4 (3Blue1Brown's four-layer network),
10-D Rosenbrock, a random 200-statement chain (--chain, --seed), three
Euler steps of a projectile with drag, a softmax cross-entropy through a
stable logsumexp, and a 10,000-step Euler loop (--steps). See run.py and
benchmarks/README.md for what is checked and how it is timed.
"""

import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import run
    run.main(["--suites", "scalar", *sys.argv[1:]])
