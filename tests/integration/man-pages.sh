#!/bin/bash
# The programs' man pages list every flag their --help lists (they are
# generated from the same tables; this catches a page that was not
# regenerated, a hand-written help that was not taken in, or a template
# that lost its placeholder), and they render without groff warnings.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"

# page  program-and-arguments whose --help the page must cover
checks=(
    "doc/man/cairn-master.8|master/cairn-master"
    "doc/man/cairn-agent.8|agent/cairn-agent"
    "doc/man/cairn.1|cli/cairn"
    "doc/man/cairn-service.1|frameworks/service/cairn-service"
    "doc/man/cairn-service.1|cli/cairn service"
)
for sub in run serve submit status wait cancel logs schedules; do
    checks+=("doc/man/cairn-batch.1|frameworks/batch/cairn-batch $sub")
done

# A page as text, with roff's escapes undone: \- is -, \fX fonts go.
page_text () {
    sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\e/\\/g' -e 's/\\ / /g' "$1"
}

for c in "${checks[@]}"; do
    page=$B/${c%%|*}
    read -r -a cmd <<<"${c#*|}"
    if [ ! -f "$page" ]; then
        ok 1 "${page#$B/} is built"
        continue
    fi
    help=$("$B/${cmd[0]}" "${cmd[@]:1}" --help 2>&1)
    # The flags are the first words of the entries of the help's option
    # list: "  --name=VALUE  text" or "  --[no-]name  text".
    flags=$(sed -n '/^Options:$/,/^$/p' <<<"$help" | grep -oE '^  (-h, )?--(\[no-\])?[a-z][a-z0-9-]*' |
            sed -E 's/^  (-h, )?//; s/\[no-\]//' | sort -u)
    [ -n "$flags" ]
    ok $? "'${cmd[*]} --help' lists flags ($(wc -l <<<"$flags"))"
    text=$(page_text "$page")
    missing=""
    for f in $flags; do
        grep -qE -- "(^|[^a-z-])--(\[no-\])?${f#--}([^a-z-]|$)" <<<"$text" || missing="$missing $f"
    done
    is "$missing" "" "${page#$B/} has every flag of '${cmd[*]} --help'"
done

# The commands of a --help's "Commands:" list each have an entry.
for c in "doc/man/cairn.1|cli/cairn" "doc/man/cairn-service.1|cli/cairn service" \
         "doc/man/cairn-batch.1|frameworks/batch/cairn-batch"; do
    page=$B/${c%%|*}
    read -r -a cmd <<<"${c#*|}"
    commands=$("$B/${cmd[0]}" "${cmd[@]:1}" --help | sed -n '/^Commands:$/,/^$/p' |
               sed '1d;/^$/d' | awk '{ print $1 }')
    missing=""
    for name in $commands; do
        grep -q "^\.B $name\b" "$page" || missing="$missing $name"
    done
    is "$missing" "" "${page#$B/} has an entry for each of the $(wc -w <<<"$commands") commands of '${cmd[*]} --help'"
done

# Placeholders were all replaced and the version went in.
version=$(awk -F'"' '/^#define PACKAGE_VERSION/ { print $2 }' "$B/config.h")
for p in cairn-master.8 cairn-agent.8 cairn.1 cairn-service.1 cairn-batch.1; do
    ! grep -qE "@[A-Za-z:]*@|%[A-Z]+%" "$B/doc/man/$p"
    ok $? "$p has no placeholder left"
    grep -q "^\.TH .*\"Cairn $version\"" "$B/doc/man/$p"
    ok $? "$p carries version $version"
done

if command -v groff >/dev/null; then
    for p in cairn-master.8 cairn-agent.8 cairn.1 cairn-service.1 cairn-batch.1; do
        warnings=$(groff -man -Tutf8 -ww -z "$B/doc/man/$p" 2>&1)
        is "$warnings" "" "$p renders without groff warnings"
    done
else
    ok 0 "# SKIP groff is not installed"
fi
done_testing
