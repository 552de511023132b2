#!/bin/bash
# rootfs.sh OUT.tar: build the root filesystem shared by the runtime images.
#
# A Debian bookworm minbase with python3-minimal + libpython3.11-stdlib (json, base64, ...)
# and Debian's nodejs (18), a non-root user sbx (uid/gid 1000), docs/man/locales stripped.
# The sha256 of this file is part of the images' content version (scripts/build-images.sh):
# edit it and the rootfs is rebuilt.
set -euo pipefail

out=${1:?usage: rootfs.sh OUT.tar}
mirror=${LAMBDA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
packages=python3-minimal,libpython3.11-stdlib,nodejs

work=$(mktemp -d "$(dirname "$out")/rootfs.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

root=$work/root
debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" >&2

# Nothing in the image installs packages: drop apt state, caches, docs and translations.
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
	"$root"/usr/share/locale/* "$root"/usr/share/lintian "$root"/usr/share/common-licenses \
	"$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old "$root"/var/lib/apt/lists/* \
	"$root"/var/log/* "$root"/tmp/* "$root"/var/tmp/*

# The sandbox user: functions run as uid/gid 1000, never root.
grep -q '^sbx:' "$root/etc/passwd" ||
	echo 'sbx:x:1000:1000:lambda sandbox:/tmp:/usr/sbin/nologin' >>"$root/etc/passwd"
grep -q '^sbx:' "$root/etc/group" || echo 'sbx:x:1000:' >>"$root/etc/group"
grep -q '^sbx:' "$root/etc/shadow" || echo 'sbx:!:19000::::::' >>"$root/etc/shadow"

# Debian byte-compiles only part of the stdlib at install: compile all of it now, so that no
# container compiles (or, read-only, recompiles on every start) what its bootstrap imports.
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot "$root" /usr/bin/python3 -m compileall -q -j 0 \
	-x '/(test|tests|idle_test|lib2to3|tkinter|turtledemo)/' /usr/lib/python3.11 >/dev/null

# Smoke test inside the new root before anything is published.
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot "$root" /usr/bin/python3 -c 'import json, base64, traceback, importlib, io, signal'
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot "$root" /usr/bin/node -e 'require("async_hooks").AsyncLocalStorage'

tar --numeric-owner --sort=name -C "$root" -cf "$work/rootfs.tar" .
mv "$work/rootfs.tar" "$out"
