# CAIRN_CHECK_MICROHTTPD: libmicrohttpd >= 0.9.73 (Debian: libmicrohttpd-dev).
# 0.9.73 has MHD_create_response_from_buffer_with_free_callback_cls (zero-copy responses).
AC_DEFUN([CAIRN_CHECK_MICROHTTPD], [
  PKG_CHECK_MODULES([MICROHTTPD], [libmicrohttpd >= 0.9.73], [],
    [AC_MSG_ERROR([libmicrohttpd >= 0.9.73 not found: install the Debian package libmicrohttpd-dev ($MICROHTTPD_PKG_ERRORS)])])
])
