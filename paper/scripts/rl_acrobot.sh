#!/usr/bin/env bash
# Issue 5's real tuning run: hyperpilot against random search on PPO Acrobot-v1.
# Each study gets 1.5M environment steps (15 full-fidelity equivalents at 100k steps, the budget
# of rl-zoo's own tuner in ../shared/FACTS.md: 15 trials x 100k), Hyperband rungs 11.1k/33.3k/100k.
# Tuning seeds 0..S-1 (study master seeds, training seeds < 9000); each incumbent is then retrained
# from scratch on 10 fresh test seeds (10000..10009) by `hyperpilot test-incumbent`.
# One lane per method runs side by side, seed by seed (tune, then test), so a stopped run leaves
# both methods with the same number of finished seeds. Resumes: finished studies and tests are
# skipped.
# Usage: bash paper/scripts/rl_acrobot.sh [OUT=runs/rl/acrobot] [SEEDS=3]
set -u
OUT=${1:-runs/rl/acrobot}
SEEDS=${2:-3}
PY=${PYTHON:-.venv/bin/python}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
mkdir -p "$OUT"
lane() {
  local method=$1
  for ((s = 0; s < SEEDS; s++)); do
    local db="$OUT/$method-s$s.sqlite" res="$OUT/$method-s$s.test.json"
    if [ ! -f "$OUT/$method-s$s.done" ]; then
      "$PY" -m hyperpilot run --workload sb3 --algo ppo --env Acrobot-v1 \
        --min-steps 10000 --max-steps 100000 --eta 3 --budget 15 --workers 1 \
        --method "$method" --seed "$s" --storage "$db" --resume --no-progress \
        > "$OUT/$method-s$s.log" 2>&1 && touch "$OUT/$method-s$s.done" || return 1
    fi
    if [ ! -f "$res" ]; then
      "$PY" -m hyperpilot test-incumbent "$db" --seeds 10 --out "$res" \
        > "$OUT/$method-s$s.test.log" 2>&1 || return 1
    fi
  done
}
lane hyperpilot & a=$!
lane random & b=$!
wait $a; ra=$?
wait $b; rb=$?
echo "lanes finished: hyperpilot rc=$ra, random rc=$rb"
