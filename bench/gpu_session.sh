#!/usr/bin/env bash
# What a session with a GPU runs for issues 3 and 5, in parts that each fit one 10-minute call of
# the device tool (30 minutes of device time in all). Results go to bench/results/ (and to $OUT
# too when it is set, as on the device machine). Usage:
#
#   bash bench/gpu_session.sh tests    # GPU tests: parity on the device, PTX, packed state (~5 min)
#   bash bench/gpu_session.sh cars     # bench.gpu_bench 100k and 1M, orders lanes and full (~5 min)
#   bash bench/gpu_session.sh big      # 10M vehicles, lanes order, memory permitting
#   bash bench/gpu_session.sh drones   # bench.drone_bench on CUDA, 100k and 1M drones
#   bash bench/gpu_session.sh sumo     # bench.vs_sumo with mobsim's CUDA backend beside the CPU
#
# A second `cars` run in a new process shows whether the kernels' disk cache is hit (compile_s).
set -u
part=${1:-}
case "$part" in
  tests|cars|big|drones|sumo) ;;
  *) echo "usage: bash bench/gpu_session.sh tests|cars|big|drones|sumo" >&2; exit 2 ;;
esac
copy_out() { if [ -n "${OUT:-}" ]; then mkdir -p "$OUT" && cp -r bench/results/. "$OUT"/; fi; }
trap copy_out EXIT
nvidia-smi --query-gpu=name,memory.total,clocks.max.memory --format=csv || true
python -m pip install -q -e '.[gpu]' 2>&1 | tail -1
case "$part" in
  tests)
    python -m pytest -q -rs tests/test_backends.py tests/test_cuda_ptx.py tests/test_cuda_args.py \
      tests/test_kernel_cache.py tests/test_gpu_bench.py ;;
  cars)   python -m bench.gpu_bench --sizes 100k,1m --order lanes,full ;;
  big)    python -m bench.gpu_bench --sizes 10m --order lanes ;;
  drones) python -m bench.drone_bench --backend cuda --sizes 100k,1m ;;
  sumo)   python -m bench.vs_sumo --cuda yes ;;
esac
