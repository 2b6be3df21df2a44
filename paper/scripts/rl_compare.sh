#!/usr/bin/env bash
# Issue 5's real tuning runs: hyperpilot against random search on PPO, side by side.
#   acrobot:  PPO Acrobot-v1. Each study gets 1.5M environment steps: 15 full-fidelity
#             equivalents at 100k steps, the budget of rl-zoo's own tuner in ../shared/FACTS.md
#             (15 trials x 100k). Hyperband rungs 11.1k / 33.3k / 100k; value = mean evaluation
#             return over the last 3 evaluations (every 5k steps, 10 episodes).
#   cartpole: PPO CartPole-v1, where random configs already reach 500, so the tuners are compared
#             on how fast the incumbent learns: value = area under the evaluation curve (every
#             2.5k steps, 5 episodes), 750k steps per study (15 x 50k), rungs 5.6k / 16.7k / 50k;
#             the test records each test seed's curve for steps-to-475.
# Tuning seeds 0..S-1 are study master seeds (training seeds < 9000); each incumbent is then
# retrained from scratch at the max budget on 10 fresh test seeds (10000..10009) by
# `hyperpilot test-incumbent`. One lane per method runs side by side, seed by seed (tune, then
# test), so a stopped run leaves both methods with the same number of finished seeds. Resumes:
# finished studies and tests are skipped. Summarise with paper/scripts/rl_report.py OUT.
# Usage: bash paper/scripts/rl_compare.sh acrobot|cartpole [OUT=runs/rl/NAME] [SEEDS=3]
set -u
NAME=${1:?usage: rl_compare.sh acrobot|cartpole [OUT] [SEEDS]}
OUT=${2:-runs/rl/$NAME}
SEEDS=${3:-3}
PY=${PYTHON:-.venv/bin/python}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
case $NAME in
  acrobot)  RUN=(--env Acrobot-v1 --min-steps 10000 --max-steps 100000); TEST=() ;;
  cartpole) RUN=(--env CartPole-v1 --min-steps 5000 --max-steps 50000 --eval-every 2500
                 --eval-episodes 5 --workload-options '{"value": "auc"}'); TEST=(--eval-every 2500) ;;
  *) echo "unknown experiment $NAME (acrobot | cartpole)" >&2; exit 2 ;;
esac
mkdir -p "$OUT"
lane() {
  local method=$1
  for ((s = 0; s < SEEDS; s++)); do
    local db="$OUT/$method-s$s.sqlite" res="$OUT/$method-s$s.test.json"
    if [ ! -f "$OUT/$method-s$s.done" ]; then
      "$PY" -m hyperpilot run --workload sb3 --algo ppo "${RUN[@]}" --eta 3 --budget 15 \
        --workers 1 --method "$method" --seed "$s" --storage "$db" --resume --no-progress \
        > "$OUT/$method-s$s.log" 2>&1 && touch "$OUT/$method-s$s.done" || return 1
    fi
    if [ ! -f "$res" ]; then
      "$PY" -m hyperpilot test-incumbent "$db" --seeds 10 ${TEST[@]+"${TEST[@]}"} --out "$res" \
        > "$OUT/$method-s$s.test.log" 2>&1 || return 1
    fi
  done
}
lane hyperpilot & a=$!
lane random & b=$!
wait $a; ra=$?
wait $b; rb=$?
echo "lanes finished: hyperpilot rc=$ra, random rc=$rb"
