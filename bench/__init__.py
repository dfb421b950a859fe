"""mobsim benchmark suite: scenarios by scale and a runner (python -m bench.run_bench)."""
