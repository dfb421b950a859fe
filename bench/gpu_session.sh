#!/usr/bin/env bash
# What a session with a GPU runs for issues 3 and 5. A task lent a GPU gets 15 minutes of device
# time in all (the machine's start, a minute or more, included) and 10 minutes per call, so the
# part `first` fits the figures both issues still miss into one call, each command under a time
# limit of its own; the other parts are for the time that is left, or a later session. Results go
# to bench/results/, and to $OUT too when it is set (as on the device machine); logs to $OUT.
#
#   bash bench/gpu_session.sh first    # < 10 min (device tool: timeout_s 600): parity on the GPU
#                                      # (incl. the CUDA graph) and PTX; gpu_bench 100k and 1M;
#                                      # drone_bench 1M; gpu_bench 10k with graphs on and off
#   bash bench/gpu_session.sh tests    # the GPU tests alone (parity on the device, PTX, packed state)
#   bash bench/gpu_session.sh cars     # bench.gpu_bench 100k and 1M, orders lanes and full
#   bash bench/gpu_session.sh big      # 10M vehicles, lanes order, memory permitting
#   bash bench/gpu_session.sh drones   # bench.drone_bench on CUDA, 100k and 1M drones
#   bash bench/gpu_session.sh sumo     # bench.vs_sumo with mobsim's CUDA backend beside the CPU
#
# The device machine reaches no package index: mobsim is installed from this checkout without its
# dependencies and without build isolation, or where that fails runs from the checkout as it is
# (mobsim/__init__.py finds kernels/ beside it) (numba, numba-cuda, cupy, h5py, pandas, matplotlib, tqdm
# and pytest are in that machine's image; sumolib is not, so `sumo` needs its wheels carried).
# A second run in a new process shows whether the kernels' disk cache is hit (compile_s).
set -u
part=${1:-}
case "$part" in
  first|tests|cars|big|drones|sumo) ;;
  *) echo "usage: bash bench/gpu_session.sh first|tests|cars|big|drones|sumo" >&2; exit 2 ;;
esac
logdir=${OUT:-/tmp/mobsim-gpu-session}
mkdir -p "$logdir" bench/results
marker=$(mktemp)
# Only this run's result files go to $OUT (the device tool returns at most 8 files).
copy_out() {
  if [ -n "${OUT:-}" ]; then find bench/results -maxdepth 1 -name '*.json' -newer "$marker" -exec cp {} "$OUT"/ \; ; fi
  true
}
trap copy_out EXIT
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,clocks.max.memory --format=csv || true
python3 -m pip install -q --no-deps --no-build-isolation -e . >/tmp/mobsim-pip.log 2>&1 ||
  { tail -3 /tmp/mobsim-pip.log; echo "(not installed: mobsim runs from this checkout, see mobsim/__init__.py)"; }
python3 -c "import mobsim.kernels, numba_cuda, cupy; print('mobsim, numba-cuda', numba_cuda.__version__, \
'and cupy', cupy.__version__, 'import')" || exit 1
gpu_tests="tests/test_backends.py tests/test_cuda_ptx.py tests/test_cuda_scan.py tests/test_cuda_args.py \
tests/test_kernel_cache.py tests/test_gpu_bench.py"
# run LIMIT_S NAME CMD...: CMD under a time limit, its output on stdout and in $logdir/NAME.log
run() {
  local limit=$1 name=$2
  shift 2
  echo "== $name (limit ${limit}s): $*"
  local t0=$SECONDS
  timeout "$limit" "$@" 2>&1 | tee "$logdir/$name.log"
  echo "== $name: exit ${PIPESTATUS[0]} after $((SECONDS - t0)) s"
}
case "$part" in
  first)
    # Most needed first. Building the 1M scenario on the host takes ~80 s on a 2-core VM (after
    # session 14's fix of the grid's signal programs, which took 700 s); the simulator and CPU-only
    # GPU tests run in CI anyway.
    run 200 tests python3 -m pytest -q -rs -x tests/test_backends.py tests/test_cuda_ptx.py
    run 190 cars python3 -m bench.gpu_bench --sizes 100k,1m --order lanes
    run 110 drones python3 -m bench.drone_bench --backend cuda --sizes 1m --seconds 20
    run 60 cars_small python3 -m bench.gpu_bench --sizes 10k --window 60 --order lanes --graphs auto,off ;;
  # shellcheck disable=SC2086
  tests)  run 590 tests python3 -m pytest -q -rs $gpu_tests ;;
  cars)   run 590 cars python3 -m bench.gpu_bench --sizes 100k,1m --order lanes,full ;;
  big)    run 590 big python3 -m bench.gpu_bench --sizes 10m --order lanes ;;
  drones) run 590 drones python3 -m bench.drone_bench --backend cuda --sizes 100k,1m ;;
  sumo)   run 590 sumo python3 -m bench.vs_sumo --cuda yes ;;
esac
