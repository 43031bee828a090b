#!/usr/bin/env bash
# Build the project's pinned CPU environment in .venv/ at the repository root.
#
# Idempotent: a stamp file records the hash of everything that decides the environment, so a second
# run with nothing changed returns in seconds. Every step prints its name and duration; a failure
# names the failed step and exits non-zero.
#
# mmcv 2.1.0 has no CPU wheel for torch 2.14 on PyPI: it is compiled from its sdist with its CPU ops
# once (~25 min on 2 cores) and cached outside the repository, keyed by torch version and Python ABI.
# A prebuilt wheel in ../shared/wheels/ is used instead when present and its sha256 matches.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON_BIN="${PYTHON_BIN:-python3.11}"
TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
MMCV_VERSION=2.1.0
MMPOSE_VERSION=1.3.2
MMDET_VERSION=3.3.0
CACHE_DIR="${REFINE_PLUGIN_CACHE:-$HOME/.cache/refine_plugin}"
SHARED_WHEELS="${REFINE_PLUGIN_SHARED_WHEELS:-$ROOT/../shared/wheels}"

step_name=""
step_start=0
start_step() {
    step_name="$1"
    step_start=$(date +%s)
    echo "[setup] $step_name ..."
}
end_step() {
    echo "[setup] $step_name done in $(( $(date +%s) - step_start ))s"
}
trap 'echo "[setup] FAILED at step: ${step_name:-start}" >&2' ERR

stamp_inputs() {
    # Everything whose change must rebuild the environment.
    cat "$ROOT/tools/setup_env.sh" "$ROOT/requirements/env.txt" "$ROOT/setup.py"
}
STAMP="$VENV/.refine_plugin_env_stamp"
want_stamp="$(stamp_inputs | sha256sum | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want_stamp" ]] && "$VENV/bin/python" -c 'import refine_plugin' 2>/dev/null; then
    echo "[setup] .venv is up to date"
    exit 0
fi

start_step "create virtualenv $VENV"
if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON_BIN" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)
pip_install() {
    # This machine's pip config adds local file mirrors that lack most packages; pip warns about
    # each such miss, which would drown the real output.
    "${PIP[@]}" install -q "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}
pip_install --upgrade "pip>=24" "setuptools>=77.0.3,<80" wheel
end_step

start_step "torch $TORCH_VERSION + torchvision $TORCHVISION_VERSION"
# The CPU-only torch 2.13.0 file on this machine cannot load any torchvision, and MMPose's visualizer
# and MMEngine's torchvision:// weights need torchvision: pin the pair pip finds on the local mirror.
pip_install "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
end_step

start_step "pinned runtime requirements (requirements/env.txt)"
pip_install -r "$ROOT/requirements/env.txt"
end_step

py_tag="$("$PY" -c 'import sys; print(f"cp{sys.version_info.major}{sys.version_info.minor}")')"
MMCV_WHEEL_DIR="$CACHE_DIR/wheels/torch$TORCH_VERSION-$py_tag"
MMCV_WHEEL_NAME="mmcv-$MMCV_VERSION-$py_tag-$py_tag-linux_x86_64.whl"

build_mmcv_wheel() {
    local build_dir
    build_dir="$(mktemp -d)"
    # --no-build-isolation: its metadata step needs pkg_resources, gone from the newest setuptools.
    "${PIP[@]}" download -q --no-deps --no-build-isolation --no-binary :all: -d "$build_dir" "mmcv==$MMCV_VERSION"
    tar -xzf "$build_dir"/mmcv-"$MMCV_VERSION".tar.gz -C "$build_dir"
    # torch 2.14's headers need C++20; mmcv 2.1.0's setup.py asks for C++17.
    sed -i 's/-std=c++17/-std=c++20/g' "$build_dir/mmcv-$MMCV_VERSION/setup.py"
    # -g0 after Python's own -g: the debug info makes the compile slower and the wheel 32 MB.
    (cd "$build_dir/mmcv-$MMCV_VERSION" && \
        MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=2 CFLAGS="-g0" CXXFLAGS="-g0" \
        "${PIP[@]}" wheel -q --no-build-isolation --no-deps -w "$MMCV_WHEEL_DIR" .)
    rm -rf "$build_dir"
}

start_step "mmcv $MMCV_VERSION with CPU ops"
mkdir -p "$MMCV_WHEEL_DIR"
if [[ ! -f "$MMCV_WHEEL_DIR/$MMCV_WHEEL_NAME" ]]; then
    if [[ -f "$SHARED_WHEELS/$MMCV_WHEEL_NAME" ]] && \
        (cd "$SHARED_WHEELS" && grep " $MMCV_WHEEL_NAME\$" SHA256SUMS | sha256sum -c --quiet -); then
        echo "[setup] using the prebuilt wheel in $SHARED_WHEELS (checksum ok)"
        cp "$SHARED_WHEELS/$MMCV_WHEEL_NAME" "$MMCV_WHEEL_DIR/"
    else
        echo "[setup] no cached mmcv wheel: compiling from the sdist (about 25 minutes on 2 cores)"
        build_mmcv_wheel
    fi
fi
pip_install --no-deps "$MMCV_WHEEL_DIR/$MMCV_WHEEL_NAME"
# mmcv's own runtime requirements (it is installed without deps so pip cannot swap torch or numpy).
pip_install addict packaging pyyaml regex yapf
end_step

start_step "mmpose $MMPOSE_VERSION, mmdet $MMDET_VERSION, openmim (--no-deps)"
# --no-deps: mmpose's requirements pull chumpy (does not build, never imported) and mmdet's would
# not stop at mmcv<2.2; their real runtime requirements are listed in requirements/env.txt.
pip_install --no-deps "mmpose==$MMPOSE_VERSION" "mmdet==$MMDET_VERSION" "openmim==0.3.9"
end_step

start_step "refine_plugin (editable)"
pip_install --no-deps --no-build-isolation -e "$ROOT"
end_step

start_step "import check"
"$PY" - <<'EOF'
import mmcv.ops, mmdet.models, mmpose.models, torchvision  # noqa: F401
import refine_plugin  # noqa: F401
EOF
end_step

echo "$want_stamp" > "$STAMP"
echo "[setup] environment ready: $VENV"
