#!/usr/bin/env bash
# Run a queue of long jobs one at a time (issue 21's re-run outlives a session).
# Each line of QUEUE is "run ARCH TASK SEED [MORE modbench run FLAGS]", "sweep ARGS..." (convergence_sweep.py) or "sh CMD".
# Finished lines are appended to QUEUE.done, so a restarted runner resumes; touch PAUSE to stop
# before the next item. Runs from a clean clone CODE of main so the staged code cannot drift.
# Start (or restart in a new session) from the committed queues, issue 21's first:
#   python3 -m venv /work/venv && /work/venv/bin/pip install -q -e '/work/main[test]'   # a new machine has none
#   git clone -q /work/main /tmp/stage/code && cat rerun/QUEUE ground_truth/QUEUE > /tmp/stage/queue
#   cd /tmp/stage && nohup code/benchmarks/run_queue.sh >> runner.log 2>&1 &
# Nothing else may run on the 2-core CPU meanwhile: test files beside a run slowed it 2.4× (2,063 s, alone about 870 s).
set -u
STAGE=${STAGE:-/tmp/stage}; CODE=${CODE:-$STAGE/code}; PY=${PY:-/work/venv/bin/python}; MODBENCH=${MODBENCH:-$(dirname "$PY")/modbench}
QUEUE=$STAGE/queue; DONE=$STAGE/queue.done; touch "$DONE"
export PYTHONPATH=$CODE HF_HUB_OFFLINE=1
while true; do
  [ -e "$STAGE/PAUSE" ] && { echo "paused"; exit 0; }
  item=$(grep -vxF -f "$DONE" "$QUEUE" | grep -v '^\s*$' | head -1)
  [ -z "$item" ] && { echo "queue empty"; exit 0; }
  set -- $item; kind=$1; shift
  echo "== $(date -u +%FT%TZ) $item"
  case $kind in
    run) (cd "$CODE" && "$MODBENCH" run --arch "$1" --task "$2" --tier quick --seeds "$3" \
            --out "$STAGE/out" --workers 2 "${@:4}") ;;  # a later --out overrides
    sweep) (cd "$CODE" && "$PY" benchmarks/convergence_sweep.py --cache "$STAGE/cache" "$@") ;;
    sh) bash -c "$*" ;;
  esac
  echo "== $(date -u +%FT%TZ) exit $? $item"
  echo "$item" >> "$DONE"
done
