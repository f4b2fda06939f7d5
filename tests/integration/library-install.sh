#!/bin/bash
# libcairn as a scheduler author gets it: `make install` into a staging
# directory, then the installed examples built with nothing but
# `pkg-config --cflags --libs cairn` (pointed at the staging directory)
# and run against a master and an agent with the installed library.
# Also: libcairn.so exports exactly the functions of cairn.h, and
# `make uninstall` takes the library's files away again.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
SO=$B/libframework/.libs/libcairn.so
[ -f "$SO" ] || skip_all "$SO is not built (a static-only build?)"
command -v nm >/dev/null || skip_all "nm is not installed (apt-get install binutils)"

# The exported symbols: exactly the functions cairn.h declares. libtool's
# -export-symbols-regex '^cairn_' gives the linker a version script with
# only those global, so not even _init/_fini are exported.
header=$(sed -e 's:/\*.*\*/::' -e '/\/\*/,/\*\//d' "$S/libframework/cairn.h" \
         | grep -oE '\bcairn_[a-z0-9_]+ *\(' | tr -d ' (' | sort -u)
exported=$(nm -D --defined-only "$SO" | awk '{ print $NF }' | sort -u)
is "$(comm -3 <(echo "$header") <(echo "$exported") | tr -d '\t' | paste -sd' ')" "" \
   "libcairn.so exports exactly the $(wc -l <<<"$header") functions of cairn.h"
is "$(grep -cv '^cairn_' <<<"$exported")" "0" "nm -D --defined-only shows only cairn_* symbols"
undefined_internal=$(nm -D --undefined-only "$SO" | awk '{ print $NF }' | grep -E '^(proto|resources|transport|error|log|util|jsonw|flags|ids)_' | paste -sd' ')
is "$undefined_internal" "" "the library carries its internal modules (no undefined internal symbols)"

# A sanitizer build cannot be used by a plain `cc` program: its library
# needs the sanitizer runtime loaded first.
if [ -n "${CAIRN_SANITIZE:-}" ] || nm -D "$SO" | grep -q '__asan_init\|__ubsan_handle'; then
    ok 0 "# SKIP installed-library build: libcairn is built with sanitizers, which a plain cc program cannot load"
    done_testing
fi
command -v pkg-config >/dev/null || skip_all "pkg-config is not installed"
command -v "${CC:-cc}" >/dev/null || skip_all "no C compiler"

STAGE=$T/stage
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$B" install DESTDIR="$STAGE" >"$T/install.log" 2>&1
rc=$?
[ $rc -eq 0 ] || tail -20 "$T/install.log" | sed 's/^/#   /'
ok_or_bail $rc "make install DESTDIR=\$STAGE"
pc=$(find "$STAGE" -name cairn.pc | head -1)
ok_or_bail "$([ -n "$pc" ]; echo $?)" "cairn.pc is installed"
export PKG_CONFIG_SYSROOT_DIR=$STAGE PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_LIBDIR=
flags=$(pkg-config --cflags --libs cairn)
ok $? "pkg-config --cflags --libs cairn: $flags"
like "$flags" "-I$STAGE/[^ ]*include.* -L$STAGE/[^ ]*lib .*-lcairn" "the flags point into the staging directory"
# pkgconf puts the sysroot in front of variables too; pkg-config may not.
libdir=$(pkg-config --variable=libdir cairn)
includedir=$(pkg-config --variable=includedir cairn)
case $libdir in "$STAGE"/*) ;; *) libdir=$STAGE$libdir ;; esac
case $includedir in "$STAGE"/*) ;; *) includedir=$STAGE$includedir ;; esac
docdir=$(dirname "$(find "$STAGE" -name libframework.md | head -1)")
mandir=$(dirname "$(find "$STAGE" -name cairn_driver.3 | head -1)")
is "$(pkg-config --modversion cairn)" "$(awk -F'"' '/^#define PACKAGE_VERSION/ { print $2 }' "$B/config.h")" \
   "pkg-config --modversion is the package's version"

[ -f "$includedir/cairn.h" ] && [ -e "$libdir/libcairn.so" ]
ok $? "cairn.h and libcairn.so are installed"
is "$(cd "$docdir/examples" 2>/dev/null && ls | paste -sd' ')" \
   "dispatch.c failover.c hello.c killtask.c tutorial.c" "the examples are installed in \$(docdir)/examples"
[ -f "$docdir/libframework.md" ]
ok $? "the guide is installed in \$(docdir)"
is "$(ls "$mandir" | grep -c '^cairn.*\.3$')" "$(( $(wc -l <<<"$header") + 7 ))" \
   "7 man pages, and an alias page for each function"
is "$(cat "$mandir/cairn_driver_accept.3")" ".so man3/cairn_driver.3" \
   "cairn_driver_accept(3) is an alias of cairn_driver(3)"
if command -v man >/dev/null; then
    like "$(MANPATH=$(dirname "$mandir") MANWIDTH=80 man cairn_task_set_argv 2>/dev/null | head -3)" \
         "CAIRN_TASK\(3\)" "man cairn_task_set_argv shows cairn_task(3)"
fi

# Each installed example, built exactly as the docs say (plus warnings).
for src in "$docdir"/examples/*.c; do
    name=$(basename "$src" .c)
    # shellcheck disable=SC2086
    "${CC:-cc}" -Wall -Wextra -Wno-unused-parameter -Werror "$src" $flags -o "$T/$name" \
        2>"$T/$name.cc"
    ok $? "cc $name.c \$(pkg-config --cflags --libs cairn)"
    sed 's/^/#   /' "$T/$name.cc" | head -10
done

export LD_LIBRARY_PATH=$libdir
like "$(ldd "$T/tutorial" 2>/dev/null | grep libcairn)" "$libdir/libcairn.so" \
     "the program loads the installed libcairn"
start_master --allocation-interval=100ms
ok_or_bail $? "master starts"
start_agent agent1 --resources="cpus:1;mem:512"
ok_or_bail $? "agent1 registers"
timeout 60 "$T/tutorial" "$MASTER" >"$T/tutorial.out" 2>&1
is "$?" "0" "the installed tutorial runs its three tasks and exits 0"
LOGS+=("$T/tutorial.out")
is "$(tail -1 "$T/tutorial.out")" "tutorial: 3 of 3 tasks finished" "tutorial: 3 of 3 tasks finished"
timeout 60 "$T/killtask" "$MASTER" 0.5 >"$T/killtask.out" 2>&1
is "$?" "0" "the installed killtask kills its task and exits 0"
LOGS+=("$T/killtask.out")
stop_all
unset LD_LIBRARY_PATH

env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$B" uninstall DESTDIR="$STAGE" >"$T/uninstall.log" 2>&1
ok $? "make uninstall DESTDIR=\$STAGE"
left=$(find "$STAGE" -type f \( -name 'cairn*' -o -name 'libcairn*' -o -name '*.md' -o -path '*/examples/*' \) \
       | sed "s|^$STAGE||" | paste -sd' ')
is "$left" "" "make uninstall removes the library, header, pc file, man pages, guide and examples"

done_testing
