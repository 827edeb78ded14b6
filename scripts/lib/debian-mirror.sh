#!/usr/bin/env bash
# Prints the Debian mirror this machine's apt uses (the first URIs:/deb line of the
# main archive, not -security), so no mirror host is written into the repository.
# LAB_DEBIAN_MIRROR overrides it.
set -euo pipefail
if [[ -n ${LAB_DEBIAN_MIRROR:-} ]]; then echo "$LAB_DEBIAN_MIRROR"; exit 0; fi
uri=""
shopt -s nullglob
for f in /etc/apt/sources.list.d/*.sources; do
  # deb822: the URIs of a stanza whose Suites has no "-security".
  uri=$(awk 'BEGIN{RS=""; FS="\n"} /(^|\n)Types:[^\n]*deb/ && !/Suites:[^\n]*-security/ {
      for (i = 1; i <= NF; i++) if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); print a[2]; exit } }' "$f")
  [[ -n $uri && $uri != *security* ]] && break
  uri=""
done
if [[ -z $uri ]]; then
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f")
    [[ -n $uri ]] && break
  done
fi
[[ -n $uri ]] || { echo "debian-mirror: no Debian mirror in /etc/apt (set LAB_DEBIAN_MIRROR)" >&2; exit 1; }
echo "${uri%/}"
