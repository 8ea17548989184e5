#!/bin/sh
# build.sh BUILD_DIR PREFIX -- build a plugin out of tree, the way a third party would.
#
# Installs the souk build in BUILD_DIR into PREFIX, then compiles
# tests/plugins/demo/demo.c into demo.so with nothing but the installed header and
# `pkg-config souk` (PKG_CONFIG_PATH=PREFIX/lib/pkgconfig), and checks that the
# result exports the descriptor symbol and needs no symbol from the souk binary.
# Exits non-zero with one "oot: ..." line on the first failure.
set -u

fail() {
    echo "oot: $*" >&2
    exit 1
}

[ $# -eq 2 ] || fail "usage: $0 BUILD_DIR PREFIX"
build=$1
prefix=$2
here=$(cd "$(dirname "$0")" && pwd) || fail "cannot find the script's directory"
src=$here/../demo/demo.c
cc=${CC:-cc}
symbol=souk_plugin # SOUK_PLUGIN_SYMBOL in souk.h

[ -d "$build" ] || fail "$build: no such build directory"
[ -f "$src" ] || fail "$src: missing"
command -v pkg-config >/dev/null || fail "pkg-config not found (Debian package 'pkg-config')"
command -v nm >/dev/null || fail "nm not found (Debian package 'binutils')"

mkdir -p "$prefix" || fail "$prefix: cannot create"
log=$prefix/oot-install.log
cmake --install "$build" --prefix "$prefix" >"$log" 2>&1 ||
    fail "cmake --install $build --prefix $prefix failed (see $log)"

# GNUInstallDirs may put libraries under lib/<multiarch>: search both.
pcdir=$prefix/lib/pkgconfig
if [ ! -f "$pcdir/souk.pc" ]; then
    found=$(find "$prefix" -name souk.pc -print | head -n 1)
    [ -n "$found" ] || fail "souk.pc was not installed under $prefix"
    pcdir=$(dirname "$found")
fi
PKG_CONFIG_PATH=$pcdir
export PKG_CONFIG_PATH

# The .pc file names the prefix chosen at configure time; --define-prefix makes
# pkg-config derive it from where the file really is (PREFIX/lib/pkgconfig), as
# it must for an install into a staging directory like this one.
pc="pkg-config --define-prefix"
cflags=$($pc --cflags souk) || fail "pkg-config --cflags souk failed (PKG_CONFIG_PATH=$pcdir)"
libs=$(pkg-config --libs jansson sqlite3) || fail "pkg-config --libs jansson sqlite3 failed"

out=$prefix/oot-plugin
mkdir -p "$out" || fail "$out: cannot create"
# shellcheck disable=SC2086 # the flags are meant to split
$cc $cflags -shared -o "$out/demo.so" "$src" $libs ||
    fail "compiling demo.c with: $cc $cflags -shared -o $out/demo.so $src $libs"

nm -D --defined-only "$out/demo.so" | awk '{print $NF}' | grep -qx "$symbol" ||
    fail "$out/demo.so does not export '$symbol'"
# A plugin reaches the host only through the api table: no souk_* imports.
imports=$(nm -D --undefined-only "$out/demo.so" | awk '{print $NF}' | grep '^souk_')
[ -z "$imports" ] || fail "$out/demo.so imports host symbols: $imports"

echo "oot: built $out/demo.so with pkg-config souk; exports $symbol"
