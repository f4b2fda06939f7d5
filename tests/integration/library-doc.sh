#!/bin/bash
# The framework library's documentation against its code, no daemons:
# - the tutorial in doc/libframework.md is examples/tutorial.c, block by
#   block, and that program has fewer than 100 lines;
# - every other C block of the guide and every code example of the man
#   pages is a verbatim excerpt of the example file it names, so all the
#   C in the docs is compiled (and run) by make check;
# - every function of cairn.h has its prototype in the SYNOPSIS of the
#   man page whose NAME lists it, and is mentioned in the guide; the man
#   pages document no function that does not exist;
# - the man pages render without warnings and have the usual sections;
# - every man page and every example is installed.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
GUIDE=$S/doc/libframework.md
MAN=$S/doc/man
HEADER=$S/libframework/cairn.h
[ -f "$GUIDE" ] || skip_all "$GUIDE is missing"

# The prototypes of cairn.h, one per line, whitespace collapsed, no ';'.
prototypes () {
    awk '
    {
        line = $0; out = ""
        while (length (line) > 0) {
            if (incomment) {
                e = index (line, "*/")
                if (e == 0) { line = ""; break }
                line = substr (line, e + 2); incomment = 0
            } else {
                s = index (line, "/*")
                if (s == 0) { out = out line; line = ""; break }
                out = out substr (line, 1, s - 1); line = substr (line, s + 2); incomment = 1
            }
        }
        if (out ~ /^[ \t]*#/ || out ~ /^extern "C"/ || out ~ /^}[ \t]*$/) next
        text = text " " out
    }
    END {
        n = split (text, stmts, ";")
        for (i = 1; i <= n; i++) {
            s = stmts[i]
            gsub (/[ \t]+/, " ", s); sub (/^ /, "", s); sub (/ $/, "", s)
            if (s ~ /typedef/ || s ~ /\(\*/ || s ~ /[{}]/) {
                if (s ~ /}/) { sub (/.*} ?[a-z_]*/, "", s); sub (/^ /, "", s) }
                else continue
            }
            if (s ~ /(^|[ *])cairn_[a-z0-9_]+ \(/) print s
        }
    }' "$HEADER"
}
proto_name () { sed -E 's/.*[ *](cairn_[a-z0-9_]+) \(.*/\1/'; }

# Troff text to plain text: the escapes the pages use.
untroff () { sed -e 's/\\e/\\/g' -e 's/\\-/-/g' -e 's/\\&//g' -e 's/\\(dq/"/g'; }

# The SYNOPSIS of a man page as prototypes, one per line.
man_synopsis () {
    sed -n '/^\.SH SYNOPSIS/,/^\.SH /p' "$1" | grep '^\.B "' \
        | sed -e 's/^\.B "//' -e 's/"$//' | grep -v '^#' | untroff | tr '\n' ' ' | tr ';' '\n' \
        | sed -e 's/[ \t][ \t]*/ /g' -e 's/^ //' -e 's/ $//' | grep -E '(^|[ *])cairn_[a-z0-9_]+ \('
}
# The function names in the NAME section of a man page.
man_names () {
    sed -n '/^\.SH NAME/,/^\.SH /p' "$1" | sed '1d;$d' | untroff | tr '\n' ' ' \
        | sed 's/ - .*//' | tr ',' '\n' | sed -e 's/^ *//' -e 's/ *$//' | grep '^cairn_'
}

# contains_block BLOCK FILE: BLOCK's lines, each trimmed, blank lines
# dropped, appear one after the other in FILE (trimmed likewise).
contains_block () {
    awk 'function trim (s) { sub (/^[ \t]+/, "", s); sub (/[ \t]+$/, "", s); return s }
         FNR == NR { t = trim ($0); if (t != "") b[nb++] = t; next }
         { t = trim ($0); if (t != "") f[nf++] = t }
         END {
             for (i = 0; i + nb <= nf; i++) {
                 for (k = 0; k < nb && f[i + k] == b[k]; k++) ;
                 if (k == nb) exit 0
             }
             exit 1
         }' "$1" "$2"
}

protos=$(prototypes)
is "$(wc -l <<<"$protos")" "$(grep -cE '^[a-z].*\bcairn_[a-z0-9_]+ \(' "$HEADER")" \
   "every declaration of cairn.h is read as a prototype"
names=$(proto_name <<<"$protos" | sort)

# 1. The tutorial.
tut_file=$(sed -n 's/^<!-- tutorial: \(.*\) -->$/\1/p' "$GUIDE")
is "$tut_file" "frameworks/examples/tutorial/tutorial.c" "the guide names the tutorial's program"
awk '/^<!-- tutorial: /{ on = 1 } /^<!-- end tutorial -->/{ on = 0 }
     on && /^```/ { inblock = !inblock; next }
     on && inblock' "$GUIDE" >"$T/tutorial.md.c"
if diff -u <(grep -v '^[[:space:]]*$' "$T/tutorial.md.c") \
           <(grep -v '^[[:space:]]*$' "$S/$tut_file") >"$T/tutorial.diff"; then
    ok 0 "the tutorial's code blocks, in order, are $tut_file"
else
    ok 1 "the tutorial's code blocks, in order, are $tut_file"
    sed 's/^/#   /' "$T/tutorial.diff" | head -40
fi
n=$(wc -l <"$S/$tut_file")
[ "$n" -lt 100 ]
ok $? "the tutorial's program has fewer than 100 lines ($n)"
# The tutorial compiles as extracted from the guide (the build and
# library-examples.sh compile and run the shipped file).
if command -v "${CC:-cc}" >/dev/null && [ -f "$B/libframework/.libs/libcairn.so" ]; then
    "${CC:-cc}" -std=gnu11 -Wall -Werror -Wno-unused-parameter -I"$S/libframework" \
        -o "$T/tutorial" -x c "$T/tutorial.md.c" -L"$B/libframework/.libs" -lcairn 2>"$T/cc.err"
    ok $? "the tutorial as extracted from the guide compiles without warnings"
    sed 's/^/#   /' "$T/cc.err" | head -20
fi

# 2. The guide's other C blocks are excerpts of the files they name.
awk -v dir="$T" '
    /^<!-- tutorial: /{ tut = 1 } /^<!-- end tutorial -->/{ tut = 0 }
    /^<!-- from .* -->$/ { from = $3; next }
    /^```c$/ && !tut { n++; file = dir "/guide-block-" n; print (from ? from : "-") " " file; inblock = 1; from = ""; next }
    /^```/ && inblock { inblock = 0; next }
    inblock { print > file; next }
    NF { from = "" }' "$GUIDE" >"$T/guide-blocks"
nblocks=0
bad=""
while read -r from file; do
    nblocks=$((nblocks + 1))
    if [ "$from" = "-" ] || [ ! -f "$S/$from" ] || ! contains_block "$file" "$S/$from"; then
        bad="$bad $(basename "$file")<-$from"
    fi
done <"$T/guide-blocks"
[ "$nblocks" -gt 5 ]
ok $? "the guide has C blocks besides the tutorial ($nblocks)"
is "$bad" "" "every C block of the guide is an excerpt of the example it names"

# 3. The man pages.
pages=$(cd "$MAN" && ls *.3 | sort)
for p in cairn cairn_driver cairn_framework_info cairn_offer cairn_resources cairn_task cairn_status; do
    [ -f "$MAN/$p.3" ]
    ok $? "man page $p(3) exists"
done
bad=""
nex=0
for p in $pages; do
    # .EX blocks: after a '.\" from FILE' comment, an excerpt of FILE.
    awk -v dir="$T" -v page="$p" '
        /^\.\\" from / { from = $3; next }
        /^\.\\" text$/ { from = "text"; next }
        /^\.EX/ { n++; file = dir "/" page ".ex" n; print (from ? from : "-") " " file; inblock = 1; from = ""; next }
        /^\.EE/ { inblock = 0; next }
        inblock { print > file; next }
        /^\.in/ { next }
        { from = "" }' "$MAN/$p" >"$T/$p.blocks"
    while read -r from file; do
        nex=$((nex + 1))
        [ "$from" = "text" ] && continue
        untroff <"$file" >"$file.c"
        if [ "$from" = "-" ] || [ ! -f "$S/$from" ] || ! contains_block "$file.c" "$S/$from"; then
            bad="$bad $(basename "$file")<-$from"
        fi
    done <"$T/$p.blocks"
    for sect in NAME SYNOPSIS DESCRIPTION "RETURN VALUE" ERRORS "SEE ALSO"; do
        grep -q "^\.SH $sect\$" "$MAN/$p" || bad="$bad $p:no-$sect"
    done
done
is "$bad" "" "every man page has NAME ... SEE ALSO, and its code examples are excerpts of the examples ($nex blocks)"

if command -v groff >/dev/null; then
    warnings=""
    for p in $pages; do
        w=$(groff -man -Tutf8 -ww -z "$MAN/$p" 2>&1)
        [ -n "$w" ] && warnings="$warnings $p: $w"
    done
    is "$warnings" "" "every man page renders with groff -ww without a warning"
else
    ok 0 "# SKIP groff is not installed"
fi

# 4. Every function: in a NAME, with its prototype in that page's
#    SYNOPSIS, and in the guide; nothing documented that does not exist.
: >"$T/man-names"
: >"$T/man-protos"
for p in $pages; do
    man_names "$MAN/$p" | sed "s/\$/ $p/" >>"$T/man-names"
    man_synopsis "$MAN/$p" | sed "s/\$/	$p/" >>"$T/man-protos"
done
no_page="" no_proto="" no_guide=""
while IFS= read -r proto; do
    f=$(proto_name <<<"$proto")
    page=$(awk -v f="$f" '$1 == f { print $2; exit }' "$T/man-names")
    if [ -z "$page" ]; then
        no_page="$no_page $f"
        continue
    fi
    grep -qxF "$proto	$page" "$T/man-protos" || no_proto="$no_proto $f"
    grep -q "\`$f\`\|\b$f (" "$GUIDE" || no_guide="$no_guide $f"
done <<<"$protos"
is "$no_page" "" "every function of cairn.h is in the NAME of a man page"
is "$no_proto" "" "... with its exact prototype in that page's SYNOPSIS"
is "$no_guide" "" "every function of cairn.h is in the guide"
extra=$(awk '{ print $1 }' "$T/man-names" | sort | comm -23 - <(echo "$names") | grep -v '^cairn$' | paste -sd' ')
is "$extra" "" "the man pages name no function that cairn.h lacks"
extra=$(cut -f1 "$T/man-protos" | sort -u | comm -23 - <(sort -u <<<"$protos") | paste -sd'|')
is "$extra" "" "the man pages' prototypes are all in cairn.h"
dups=$(awk '{ print $1 }' "$T/man-names" | sort | uniq -d | paste -sd' ')
is "$dups" "" "each function is named by one man page"

# The callbacks: each member of cairn_callbacks_t described in
# cairn_driver(3) and in the guide.
callbacks=$(sed -n '/^typedef struct {/,/} cairn_callbacks_t;/p' "$HEADER" \
            | grep -oE '\(\*[a-z_]+\)' | tr -d '(*)')
is "$(wc -w <<<"$callbacks")" "8" "cairn_callbacks_t has the eight callbacks"
missing=""
for cb in $callbacks; do
    grep -q "^\.B $cb\$" "$MAN/cairn_driver.3" || missing="$missing man:$cb"
    grep -q "| \`$cb (" "$GUIDE" || missing="$missing guide:$cb"
done
is "$missing" "" "every callback is described in cairn_driver(3) and in the guide"

# 5. Installed: every man page and every example.
mk_list () {   # mk_list FILE VARIABLE: the words of VARIABLE's value in FILE
    sed -n "/^$2 *[+]*= *\\\\*\$/,/[^\\\\]\$/p; /^$2 *[+]*= *[^\\\\ ]/p" "$1" \
        | sed -e "s/^$2 *[+]*=//" -e 's/\\$//' | tr ' \t' '\n\n' | grep . | sort
}
is "$(mk_list "$S/doc/local.mk" dist_man3_MANS | paste -sd' ')" \
   "$(cd "$S" && ls doc/man/*.3 | sort | paste -sd' ')" "doc/local.mk installs every man page"
is "$(mk_list "$S/frameworks/local.mk" dist_examples_DATA | paste -sd' ')" \
   "$(cd "$S" && ls frameworks/examples/*/*.c | sort | paste -sd' ')" \
   "frameworks/local.mk installs every example"
grep -q 'doc/libframework.md' "$S/doc/local.mk"
ok $? "doc/local.mk installs the guide"

done_testing
