#!/usr/bin/env bash
# Build the sellbot image with podman and run it for real (`make container-check`; not part of CI).
#
# Prerequisites (this script installs nothing): run as root on Debian/Ubuntu with
#   apt-get install -y podman runc debootstrap
# debootstrap is needed only when python:3.11-slim cannot be pulled: a stand-in with Debian's
# Python 3.11 is then made from the Debian archive (set DEBIAN_MIRROR to use another mirror).
#
# Checks, one PASS/FAIL line each: the image builds (docker format, so HEALTHCHECK is kept);
# pip and setuptools are absent at run time; `run --simulate --once` exits 0; a detached
# `run --simulate` answers /healthz, /readyz and /metrics, runs as a non-root uid, logs json and is
# healthy; SIGTERM ends it with exit 0; the health check passes with the ops port disabled; an
# unreachable database ends `run` with exit 1 and one line after SELLBOT_DB_WAIT_S.
set -euo pipefail

cd "$(dirname "$0")/.."
IMAGE=${IMAGE:-localhost/sellbot:check}
BASE=docker.io/library/python:3.11-slim
PORT=${PORT:-18080}
NAME=sellbot-check-$$
WORK=$(mktemp -d /tmp/sellbot-container-check.XXXXXX)
FAILED=0
STARTED=()

cleanup() {
    for c in "${STARTED[@]}"; do podman rm --force --time 0 "$c" >/dev/null 2>&1 || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'say "FAIL line $LINENO: $BASH_COMMAND"' ERR

say() { printf '%s\n' "$*"; }
pass() { say "PASS $1"; }
fail() {
    say "FAIL $1"
    FAILED=1
}
die() {
    say "FAIL $1"
    exit 1
}

for tool in podman runc; do
    command -v "$tool" >/dev/null || die "prerequisite: $tool not found (apt-get install -y podman runc debootstrap)"
done

# This sandbox's limits: podman's default nofile/nproc ulimits exceed them, and crun is absent
export CONTAINERS_CONF="$WORK/containers.conf"
cat >"$CONTAINERS_CONF" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
EOF

standin_base() {
    command -v debootstrap >/dev/null || die "base: cannot pull $BASE and debootstrap is not installed"
    say "base: making a stand-in $BASE with debootstrap (Debian bookworm's Python 3.11; minutes)"
    # shellcheck disable=SC2086  # DEBIAN_MIRROR is optional: empty means debootstrap's default
    if ! debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        bookworm "$WORK/rootfs" ${DEBIAN_MIRROR:-} >"$WORK/debootstrap.log" 2>&1; then
        tail -5 "$WORK/debootstrap.log"
        die "base: debootstrap failed (log above)"
    fi
    # Like the official image: `python` on PATH, pip and setuptools installed outside dpkg (so
    # pip can uninstall them), no PEP 668 marker. Debian's own wheels: nothing is downloaded.
    cat >"$WORK/rootfs/tmp/wheels.py" <<'PY'
import glob, sysconfig, zipfile
for wheel in glob.glob("/usr/share/python-wheels/*.whl"):
    zipfile.ZipFile(wheel).extractall(sysconfig.get_path("purelib"))
PY
    chroot "$WORK/rootfs" sh -c 'rm -f /usr/lib/python3*/EXTERNALLY-MANAGED \
        && python3 /tmp/wheels.py && rm /tmp/wheels.py \
        && ln -sf /usr/bin/python3 /usr/local/bin/python \
        && apt-get clean && rm -rf /var/lib/apt/lists/*'
    tar -C "$WORK/rootfs" -c . | podman import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'LABEL org.sellbot.stand-in=debootstrap' \
        --change 'CMD ["python3"]' - "$BASE" >"$WORK/import.log" 2>&1
    rm -rf "$WORK/rootfs"
}

if podman image exists "$BASE"; then
    label=$(podman image inspect --format '{{index .Labels "org.sellbot.stand-in"}}' "$BASE")
    say "base: $BASE already in local storage${label:+ (stand-in made with $label)}"
elif timeout "${PULL_TIMEOUT_S:-90}" podman pull --quiet "$BASE" >/dev/null 2>"$WORK/pull.err"; then
    say "base: pulled $BASE"
else
    say "base: cannot pull $BASE: $(tail -1 "$WORK/pull.err" | cut -c1-200)"
    standin_base
fi

# A TLS-intercepting proxy's CA (PIP_CERT on the host) must reach pip inside the build too;
# build-time mounts are not kept in the image.
build_mounts=()
if [[ -n ${PIP_CERT:-} && -f $PIP_CERT ]]; then
    cp "$PIP_CERT" "$WORK/ca.pem"
    printf '[global]\ncert = /run/host-ca.pem\n' >"$WORK/pip.conf"
    build_mounts+=(-v "$WORK/ca.pem:/run/host-ca.pem:ro" -v "$WORK/pip.conf:/etc/pip.conf:ro")
fi

say "build: podman build --format docker -t $IMAGE . (minutes)"
if podman build --format docker --pull=never "${build_mounts[@]}" -t "$IMAGE" . >"$WORK/build.log" 2>&1; then
    pass "image built: $(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"
else
    tail -20 "$WORK/build.log"
    die "podman build (log above)"
fi

healthcheck=$(podman image inspect --format '{{json .Config.Healthcheck}}' "$IMAGE")
if [[ $healthcheck == *healthz* ]]; then pass "HEALTHCHECK kept in the image"; else fail "HEALTHCHECK missing: $healthcheck"; fi

for py in python /usr/local/bin/python; do # the app's venv, then the base interpreter
    if podman run --rm --entrypoint "$py" "$IMAGE" -c \
        'import importlib.util as u, sys; found = [m for m in ("pip", "setuptools") if u.find_spec(m)]; print(found or ""); sys.exit(bool(found))' >"$WORK/pip.out" 2>&1; then
        pass "no pip or setuptools for $py"
    else
        fail "pip/setuptools present for $py: $(cat "$WORK/pip.out")"
    fi
done

say "run --simulate --once (a demo cycle; up to a few minutes)"
if timeout 600 podman run --rm "$IMAGE" run --simulate --once >"$WORK/once.log" 2>&1; then
    pass "run --simulate --once exit 0 ($(grep -c '"event"' "$WORK/once.log") json log lines)"
else
    rc=$?
    tail -5 "$WORK/once.log"
    fail "run --simulate --once exit $rc"
fi

STARTED+=("$NAME")
# Without systemd podman cannot schedule the periodic health check (it says so on stderr);
# `podman healthcheck run` below runs the image's HEALTHCHECK by hand instead.
podman run --detach --name "$NAME" -p "127.0.0.1:$PORT:8080" "$IMAGE" run --simulate >/dev/null 2>"$WORK/detach.err"
fetch() { curl --silent --show-error --max-time 5 --output "$WORK/body" --write-out '%{http_code}' "http://127.0.0.1:$PORT$1" 2>&1 || true; }
for _ in $(seq 60); do
    [[ $(fetch /readyz) == 200 ]] && break
    sleep 1
done
for path in /healthz /readyz /metrics; do
    code=$(fetch "$path")
    if [[ $code == 200 ]]; then pass "GET $path 200 ($(head -c 80 "$WORK/body" | tr '\n' ' '))"; else fail "GET $path: $code"; fi
done
uid=$(podman exec "$NAME" id -u)
if [[ $uid != 0 ]]; then pass "runs as uid $uid"; else fail "runs as root"; fi
podman logs "$NAME" >"$WORK/detached.log" 2>&1
first_log=$(head -1 "$WORK/detached.log")
if python3 -c 'import json, sys; json.loads(sys.argv[1])' "$first_log" 2>/dev/null; then
    pass "logs are json: ${first_log:0:100}"
else
    fail "logs are not json: ${first_log:0:100}"
fi
if podman healthcheck run "$NAME" >/dev/null 2>&1; then
    pass "healthy ($(podman inspect --format '{{.State.Health.Status}}' "$NAME"))"
else
    fail "health check: $(podman inspect --format '{{.State.Health.Status}}' "$NAME")"
fi
podman kill --signal TERM "$NAME" >/dev/null
rc=$(timeout 60 podman wait "$NAME" || echo timeout)
if [[ $rc == 0 ]]; then
    podman logs "$NAME" >"$WORK/detached.log" 2>&1
    pass "SIGTERM: exit 0 (last line: $(tail -1 "$WORK/detached.log" | cut -c1-120))"
else
    podman logs "$NAME" 2>&1 | tail -5
    fail "SIGTERM: exit $rc"
fi

STARTED+=("$NAME-noport")
podman run --detach --name "$NAME-noport" -e SELLBOT_HTTP_PORT=0 "$IMAGE" run --simulate >/dev/null 2>"$WORK/detach.err"
sleep 5
if podman healthcheck run "$NAME-noport" >/dev/null 2>&1; then
    pass "healthy with the ops port disabled (SELLBOT_HTTP_PORT=0)"
else
    fail "health check fails with SELLBOT_HTTP_PORT=0"
fi

rc=0
timeout 120 podman run --rm -e SELLBOT_DB_WAIT_S=3 \
    -e DATABASE_URL=postgresql+asyncpg://sellbot:secret@127.0.0.1:1/sellbot \
    "$IMAGE" run --simulate --once >"$WORK/nodb.out" 2>"$WORK/nodb.err" || rc=$?
last=$(tail -1 "$WORK/nodb.err")
if [[ $rc == 1 && $last == sellbot:* ]] && ! grep -q Traceback "$WORK/nodb.err"; then
    pass "unreachable database: exit 1, one line: $last"
else
    tail -5 "$WORK/nodb.err"
    fail "unreachable database: exit $rc"
fi

if [[ $FAILED == 0 ]]; then say "container-check: all passed"; else say "container-check: FAILED"; fi
exit "$FAILED"
