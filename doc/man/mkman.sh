#!/bin/sh
# mkman.sh - builds a man page from its template and the programs' own
# --man and --help output, so the page lists exactly the flags --help
# does and the two cannot drift.
#
#   mkman.sh BUILDDIR VERSION TEMPLATE > PAGE
#
# In TEMPLATE, @VERSION@ becomes VERSION, and a line
#   @OPTIONS@ PROGRAM [ARGS]    becomes the output of BUILDDIR/PROGRAM ARGS --man
#   @COMMANDS@ PROGRAM [ARGS]   becomes the "Commands:" list of PROGRAM ARGS --help
#                               as a tagged paragraph per command
#   @HELPOPTIONS@ PROGRAM [ARGS]  the same for the "Options:" list, for the
#                               commands whose --help is written by hand
# A section heading in the --man output (".SH OPTIONS") may be renamed by
# a third form, "@OPTIONS:NAME@ PROGRAM ARGS", which makes it ".SS NAME".
set -eu
builddir=$1
version=$2
template=$3

roff () {
    sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
}

while IFS= read -r line; do
    case $line in
    @OPTIONS@*)
        set -- ${line#@OPTIONS@}
        prog=$1; shift
        "$builddir/$prog" "$@" --man
        ;;
    @OPTIONS:*)
        name=${line#@OPTIONS:}; name=${name%%@*}
        set -- ${line#@OPTIONS:*@}
        prog=$1; shift
        "$builddir/$prog" "$@" --man | sed "s/^\\.SH OPTIONS\$/.SS $name/"
        ;;
    @COMMANDS@*|@HELPOPTIONS@*)
        case $line in
        @COMMANDS@*) list=Commands; set -- ${line#@COMMANDS@} ;;
        *) list=Options; set -- ${line#@HELPOPTIONS@} ;;
        esac
        prog=$1; shift
        # Entries are "  NAME  TEXT", continued by lines indented further;
        # NAME ends at the first run of two or more spaces.
        "$builddir/$prog" "$@" --help |
        sed -n "/^$list:\$/,/^\$/p" | sed '1d;/^$/d' |
        while IFS= read -r entry; do
            case $entry in
            "   "*) printf '%s\n' "$entry" | sed 's/^ *//' | roff ;;
            *)  name=$(printf '%s' "$entry" | sed 's/^ *//; s/  .*//')
                text=$(printf '%s' "$entry" | sed 's/^ *//' | sed -n 's/^[^ ]*\( [^ ][^ ]*\)*  *//p')
                printf '.TP\n.B %s\n' "$(printf '%s' "$name" | roff)"
                if [ -n "$text" ] && [ "$text" != "$(printf '%s' "$entry" | sed 's/^ *//')" ]; then
                    printf '%s\n' "$text" | roff
                fi
                ;;
            esac
        done
        ;;
    *)
        printf '%s\n' "$line" | sed "s/@VERSION@/$version/g"
        ;;
    esac
done <"$template"
