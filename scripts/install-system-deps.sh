#!/usr/bin/env bash
# Installs the Debian packages the course needs, each only when its command is
# missing, so a second run costs a few `command -v` look-ups and nothing else.
#
#   command   Debian package      why
#   dot       graphviz            renders the engine's architecture/trace diagrams
#   etcd      etcd-server         the real etcd backend of engine/store (tests start it on loopback)
#   etcdctl   etcd-client         the etcd chapter and a test show what the API server stores in etcd
#   chromium  chromium            the browser test drives JupyterLab with Playwright (never `playwright install`)
#   kubectl   kubernetes-client   real-client tests point kubectl at the engine's HTTP front
#   bwrap     bubblewrap          isolates each submission while autograding
#
# Runs `apt-get update` only when something is missing, uses sudo only when not
# root, and installs without recommends (chromium's recommends pull in systemd).
set -euo pipefail

needs=(
    "dot:graphviz"
    "etcd:etcd-server"
    "etcdctl:etcd-client"
    "chromium:chromium"
    "kubectl:kubernetes-client"
    "bwrap:bubblewrap"
)

missing=()
for need in "${needs[@]}"; do
    command_name=${need%%:*}
    package=${need#*:}
    if ! command -v "$command_name" >/dev/null 2>&1; then
        missing+=("$package")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install-system-deps: missing Debian packages: ${missing[*]}" >&2
        echo "install-system-deps: not root and no sudo; install them as root: apt-get install ${missing[*]}" >&2
        exit 1
    fi
    as_root=(sudo)
fi
apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)

echo "install-system-deps: installing ${missing[*]}"
"${apt[@]}" update -qq

# Fail with a clear message, before installing anything, if this Debian lacks a package.
for package in "${missing[@]}"; do
    candidate=$(apt-cache policy "$package" | awk '/Candidate:/ {print $2}')
    if [ -z "$candidate" ] || [ "$candidate" = "(none)" ]; then
        echo "install-system-deps: Debian package '$package' is not available here (apt-cache policy $package)" >&2
        exit 1
    fi
done

"${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

for need in "${needs[@]}"; do
    command_name=${need%%:*}
    if ! command -v "$command_name" >/dev/null 2>&1; then
        echo "install-system-deps: '$command_name' is still missing after installing ${need#*:}" >&2
        exit 1
    fi
done
echo "install-system-deps: done"
