# CAIRN_CHECK_CZMQ: libczmq >= 4.2 (Debian: libczmq-dev).
AC_DEFUN([CAIRN_CHECK_CZMQ], [
  PKG_CHECK_MODULES([CZMQ], [libczmq >= 4.2], [],
    [AC_MSG_ERROR([CZMQ >= 4.2 not found: install the Debian package libczmq-dev ($CZMQ_PKG_ERRORS)])])
])
