#!/usr/bin/env bash
# The README's main command: build/refresh .venv (a no-op when up to date), then run the main job
# (generate data if absent, train, evaluate, refine with PoseFix, visualise, summarise).
# Arguments go to tools/main_job.py, e.g. --work-dir work_dirs/main_job --data-root data/synthetic
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" "$ROOT/tools/main_job.py" "$@"
