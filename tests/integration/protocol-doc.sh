#!/bin/bash
# protocol-doc.sh - doc/protocol.md agrees with the codec.
#
# The generated blocks of doc/protocol.md (between the marker lines
# "<!-- BEGIN GENERATED: protodoc NAME -->" and "<!-- END GENERATED:
# protodoc NAME -->") must be exactly what tests/tools/protodoc prints
# from proto_describe, proto_msg_example and the limits in proto.h; every
# message type must have its own section. Starts no daemon.
#
# To regenerate the blocks after a change to the codec (build directory):
#     make tests/tools/protodoc
#     tests/tools/protodoc --update $(top_srcdir)/doc/protocol.md
# or: make protodoc-update

set -u
B=${CAIRN_BUILDDIR:-$(pwd)}
S=${CAIRN_SRCDIR:-$B}
PROTODOC=$B/tests/tools/protodoc
DOC=$S/doc/protocol.md
T=$(mktemp -d "${TMPDIR:-/tmp}/cairn-protodoc.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0
failed=0

ok () {                 # ok STATUS DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        failed=$((failed + 1))
    fi
}

diag () {
    printf '%s\n' "$@" | sed 's/^/# /'
}

regen_hint () {
    diag "regenerate the tables from the build directory with:" \
         "    make tests/tools/protodoc && tests/tools/protodoc --update $DOC" \
         "or: make protodoc-update"
}

if [ ! -x "$PROTODOC" ]; then
    echo "1..0 # SKIP $PROTODOC is not built"
    exit 0
fi

# 1. protodoc runs and its output is stable.
"$PROTODOC" >"$T/generated" 2>"$T/err"
ok $? "protodoc runs"
"$PROTODOC" >"$T/generated2" 2>>"$T/err"
cmp -s "$T/generated" "$T/generated2"
ok $? "protodoc's output is deterministic"
[ -s "$T/err" ] && diag "$(cat "$T/err")"

# 2. The document's generated blocks are exactly protodoc's output.
test -r "$DOC"
ok $? "doc/protocol.md exists"
awk '/^<!-- BEGIN GENERATED: protodoc .* -->$/ { inside = 1 }
     inside { print }
     /^<!-- END GENERATED: protodoc .* -->$/ { inside = 0 }' "$DOC" >"$T/documented" 2>/dev/null
if diff -u "$T/documented" "$T/generated" >"$T/diff"; then
    ok 0 "the generated blocks in doc/protocol.md match protodoc"
else
    ok 1 "the generated blocks in doc/protocol.md match protodoc"
    diag "--- doc/protocol.md  +++ protodoc (first 60 lines of the diff)"
    diag "$(head -60 "$T/diff")"
    regen_hint
fi

# 3. --update on a copy changes nothing (it also checks marker pairing).
cp "$DOC" "$T/copy.md"
"$PROTODOC" --update "$T/copy.md" >"$T/update.out" 2>&1
rc=$?
cmp -s "$DOC" "$T/copy.md"
same=$?
[ $rc -eq 0 ] && [ $same -eq 0 ]
ok $? "protodoc --update leaves doc/protocol.md unchanged"
[ $rc -ne 0 ] && diag "$(sed "s|$T/copy.md|doc/protocol.md|g" "$T/update.out")" && regen_hint

# 4. Every message type has a section of its own ("### NAME ...").
"$PROTODOC" --types >"$T/types"
ok $? "protodoc lists the message types"
missing=""
while read -r name; do
    grep -Eq "^### ${name}( |$)" "$DOC" || missing="$missing $name"
done <"$T/types"
[ -z "$missing" ]
ok $? "every message type has a '### NAME' section in doc/protocol.md"
[ -n "$missing" ] && diag "no section for:$missing"

echo "1..$n"
[ $failed -eq 0 ]
