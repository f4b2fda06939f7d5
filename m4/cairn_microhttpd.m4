# CAIRN_CHECK_MICROHTTPD: libmicrohttpd >= 0.9.71 (Debian: libmicrohttpd-dev).
# 0.9.71 is the first release whose handlers return enum MHD_Result.
AC_DEFUN([CAIRN_CHECK_MICROHTTPD], [
  PKG_CHECK_MODULES([MICROHTTPD], [libmicrohttpd >= 0.9.71], [],
    [AC_MSG_ERROR([libmicrohttpd >= 0.9.71 not found: install the Debian package libmicrohttpd-dev ($MICROHTTPD_PKG_ERRORS)])])
])
