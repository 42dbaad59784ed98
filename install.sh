#!/usr/bin/env bash
# Install opsdeck for the current user (default prefix ~/.local): the binary,
# shell completions (bash, zsh, fish) and a man page generated from the CLI.
# Re-running upgrades in place; --uninstall removes exactly what was installed.
#
#   ./install.sh                      build (cargo, release) and install into ~/.local
#   ./install.sh --prefix /opt/opsdeck
#   ./install.sh --binary PATH        install an already built binary (no cargo needed)
#   ./install.sh --uninstall [--prefix P]
set -euo pipefail
cd "$(dirname "$0")"

prefix="${HOME}/.local"
binary=""
uninstall=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#*=}"; shift ;;
    --binary) binary="$2"; shift 2 ;;
    --uninstall) uninstall=1; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

manifest="$prefix/share/opsdeck/installed-files"

remove_installed() {
  [ -f "$manifest" ] || return 0
  while IFS= read -r f; do rm -f "$f"; done < "$manifest"
  rm -f "$manifest"
  # Remove the directories we created, deepest first, when they are left empty.
  for d in share/opsdeck share/man/man1 share/man share/bash-completion/completions share/bash-completion \
           share/zsh/site-functions share/zsh share/fish/vendor_completions.d share/fish share bin; do
    rmdir "$prefix/$d" 2>/dev/null || true
  done
}

if [ "$uninstall" = 1 ]; then
  remove_installed
  echo "opsdeck removed from $prefix"
  exit 0
fi

if [ -z "$binary" ]; then
  command -v cargo >/dev/null || { echo "install.sh: cargo not found; install Rust (rustup) or pass --binary PATH" >&2; exit 1; }
  cargo build --release --locked
  binary=target/release/opsdeck
fi
[ -x "$binary" ] || { echo "install.sh: $binary is not an executable" >&2; exit 1; }

remove_installed   # an upgrade replaces everything the last install put down
files=(
  "$prefix/bin/opsdeck"
  "$prefix/share/bash-completion/completions/opsdeck"
  "$prefix/share/zsh/site-functions/_opsdeck"
  "$prefix/share/fish/vendor_completions.d/opsdeck.fish"
  "$prefix/share/man/man1/opsdeck.1"
)
for f in "${files[@]}"; do mkdir -p "$(dirname "$f")"; done
mkdir -p "$(dirname "$manifest")"
install -m 0755 "$binary" "$prefix/bin/opsdeck.new" && mv -f "$prefix/bin/opsdeck.new" "$prefix/bin/opsdeck"
"$prefix/bin/opsdeck" completions bash > "$prefix/share/bash-completion/completions/opsdeck"
"$prefix/bin/opsdeck" completions zsh > "$prefix/share/zsh/site-functions/_opsdeck"
"$prefix/bin/opsdeck" completions fish > "$prefix/share/fish/vendor_completions.d/opsdeck.fish"
"$prefix/bin/opsdeck" man > "$prefix/share/man/man1/opsdeck.1"
printf '%s\n' "${files[@]}" > "$manifest"
echo "installed $("$prefix/bin/opsdeck" --version) into $prefix"
case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "note: $prefix/bin is not on your PATH" ;; esac
