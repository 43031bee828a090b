#!/usr/bin/env bash
# The README's test command: build/refresh .venv (a no-op when up to date), then run the test suite.
# Tests that need ../shared/data find it through REFINE_PLUGIN_DATA; they skip when it is unset
# and fail when it names a folder without the samples.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/setup_env.sh"
if [[ -z "${REFINE_PLUGIN_DATA:-}" && -d "$ROOT/../shared/data" ]]; then
    export REFINE_PLUGIN_DATA="$ROOT/../shared/data"
fi
cd "$ROOT"
# the docstring examples of the models run too (--doctest-modules on the package only).
# A passed test's tmp_path is deleted at once: the suite writes about 1.8 GB of checkpoints and
# ONNX files, which pytest would otherwise keep for the last three runs, and a full disk shows up
# as a truncated file deep inside a library (ONNX's shape inference does not check its writes).
exec "$ROOT/.venv/bin/python" -m pytest tests refine_plugin/models --doctest-modules \
    -o tmp_path_retention_policy=failed "$@"
