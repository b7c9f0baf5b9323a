# The install: `cmake --install` into a temp prefix, then what a user does
# with it: compile a program against <wire.h> with pkg-config, and build a
# find_package(wire) CMake project against the prefix; both must run (the
# program calls wire_strerror and creates and closes a loop), both against
# the shared and the static library.
. "$(dirname "$0")/lib.sh"
prefix="$TMP/prefix"
cmake --install "$WIRE_BUILD" --prefix "$prefix" >"$TMP/install.log" ||
  { cat "$TMP/install.log" >&2; fail "cmake --install"; }
[ -f "$prefix/include/wire.h" ] || fail "no include/wire.h in the prefix"
[ -x "$prefix/bin/wire" ] || fail "no bin/wire in the prefix"
# GNUInstallDirs picks lib, lib64 or lib/<multiarch>: find what it chose.
pc=$(find "$prefix" -name wire.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || fail "no wire.pc in the prefix"
libdir=$(dirname "$(dirname "$pc")")
for f in libwire.a libwire.so; do
  [ -e "$libdir/$f" ] || fail "no $f in $libdir"
done
echo "ok: installed into $prefix (libdir ${libdir#"$prefix"/})"
"$prefix/bin/wire" --version | grep -q '^wire ' || fail "installed wire --version"

# A sanitizer build's library needs the sanitizer runtime at link time.
extra=()
if grep -q 'WIRE_SANITIZE:BOOL=ON' "$WIRE_BUILD/CMakeCache.txt" 2>/dev/null; then
  extra=(-fsanitize=address,undefined)
fi

cat >"$TMP/prog.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <wire.h>

int main(void)
{
  wire_loop_t *loop;
  if (wire_loop_create(&loop) != 0)
    return 1;
  if (wire_loop_close(loop) != 0)
    return 2;
  printf("%s|%s|%s\n", WIRE_VERSION_STRING,
         wire_strerror(WIRE_ECONNREFUSED), wire_err_name(WIRE_EOF));
  return 0;
}
C
want="$(sed -n 's/^Version: //p' "$pc")|connection refused|EOF"

# -- pkg-config, shared library.
export PKG_CONFIG_PATH="$libdir/pkgconfig"
flags=$(pkg-config --cflags --libs wire) || fail "pkg-config wire"
echo "pkg-config: $flags"
cc "${extra[@]}" -o "$TMP/prog-pc" "$TMP/prog.c" $flags ||
  fail "compile with pkg-config flags"
out=$(LD_LIBRARY_PATH="$libdir" "$TMP/prog-pc") || fail "prog-pc exited $?"
expect_eq "pkg-config build runs" "$want" "$out"
ldd_line=$(LD_LIBRARY_PATH="$libdir" ldd "$TMP/prog-pc" | grep 'libwire\.so')
case "$ldd_line" in
  *"$libdir/"*) echo "ok: linked against the installed libwire.so" ;;
  *) fail "prog-pc does not use $libdir/libwire.so: $ldd_line" ;;
esac

# -- pkg-config --static, the archive.
flags=$(pkg-config --cflags --libs --static wire) || fail "pkg-config --static"
cc "${extra[@]}" -o "$TMP/prog-static" "$TMP/prog.c" -static-libgcc \
  $(pkg-config --cflags wire) "$libdir/libwire.a" \
  $(pkg-config --libs-only-l --static wire | sed 's/-lwire//') ||
  fail "compile against libwire.a"
out=$("$TMP/prog-static") || fail "prog-static exited $?"
expect_eq "static build runs" "$want" "$out"

# -- find_package(wire) from a CMake project.
mkdir -p "$TMP/proj"
cp "$TMP/prog.c" "$TMP/proj/prog.c"
cat >"$TMP/proj/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(use_wire C)
find_package(wire 0.1 REQUIRED)
add_executable(prog prog.c)
target_link_libraries(prog PRIVATE wire::wire)
add_executable(prog_static prog.c)
target_link_libraries(prog_static PRIVATE wire::wire_static)
CM
cmake_extra=()
if [ ${#extra[@]} -gt 0 ]; then
  cmake_extra=(-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined)
fi
cmake -S "$TMP/proj" -B "$TMP/proj/build" -DCMAKE_PREFIX_PATH="$prefix" \
  "${cmake_extra[@]}" >"$TMP/proj.log" 2>&1 ||
  { cat "$TMP/proj.log" >&2; fail "configure the find_package project"; }
cmake --build "$TMP/proj/build" >>"$TMP/proj.log" 2>&1 ||
  { cat "$TMP/proj.log" >&2; fail "build the find_package project"; }
out=$(LD_LIBRARY_PATH="$libdir" "$TMP/proj/build/prog") ||
  fail "find_package prog exited $?"
expect_eq "find_package(wire) build runs" "$want" "$out"
out=$("$TMP/proj/build/prog_static") || fail "prog_static exited $?"
expect_eq "find_package(wire) static build runs" "$want" "$out"
