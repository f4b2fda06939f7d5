# CAIRN_CHECK_JANSSON: jansson >= 2.14 (Debian: libjansson-dev).
AC_DEFUN([CAIRN_CHECK_JANSSON], [
  PKG_CHECK_MODULES([JANSSON], [jansson >= 2.14], [],
    [AC_MSG_ERROR([jansson >= 2.14 not found: install the Debian package libjansson-dev ($JANSSON_PKG_ERRORS)])])
])
