# CAIRN_SANITIZER: --enable-sanitizer=address,undefined builds everything
# with the named sanitizers and no recovery, so any report fails the run.
AC_DEFUN([CAIRN_SANITIZER], [
  AC_ARG_ENABLE([sanitizer],
    [AS_HELP_STRING([--enable-sanitizer=LIST], [build with -fsanitize=LIST (e.g. address,undefined)])],
    [], [enable_sanitizer=no])
  SANITIZER_CFLAGS=
  SANITIZER_LDFLAGS=
  AS_IF([test "x$enable_sanitizer" != xno && test "x$enable_sanitizer" != x], [
    SANITIZER_CFLAGS="-fsanitize=$enable_sanitizer -fno-sanitize-recover=all -fno-omit-frame-pointer -g"
    SANITIZER_LDFLAGS="-fsanitize=$enable_sanitizer"
    save_CFLAGS=$CFLAGS; save_LDFLAGS=$LDFLAGS
    CFLAGS="$CFLAGS $SANITIZER_CFLAGS"; LDFLAGS="$LDFLAGS $SANITIZER_LDFLAGS"
    AC_MSG_CHECKING([whether $CC supports -fsanitize=$enable_sanitizer])
    AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])], [AC_MSG_RESULT([yes])],
      [AC_MSG_RESULT([no]); AC_MSG_ERROR([the compiler cannot build with -fsanitize=$enable_sanitizer])])
    CFLAGS=$save_CFLAGS; LDFLAGS=$save_LDFLAGS
  ])
  AM_CONDITIONAL([SANITIZE], [test "x$SANITIZER_CFLAGS" != x])
  AC_SUBST([SANITIZER_CFLAGS])
  AC_SUBST([SANITIZER_LDFLAGS])
])
