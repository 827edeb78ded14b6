#!/bin/sh
# Turn the extracted busybox-static package into a usable rootfs: one symlink per
# applet, the usual top-level folders, root and nobody accounts.
set -eu
R=$1
rm -rf "$R/usr/share"
for a in $("$R/bin/busybox" --list); do [ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"; done
mkdir -p "$R/etc" "$R/tmp" "$R/var/www" "$R/root" "$R/usr/bin" "$R/usr/sbin" "$R/sbin" "$R/proc" "$R/sys" "$R/dev" "$R/run"
chmod 1777 "$R/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$R/etc/group"
