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
# the docstring examples of the models run too (--doctest-modules on the package only)
exec "$ROOT/.venv/bin/python" -m pytest tests refine_plugin/models --doctest-modules "$@"
