# CAIRN_CHECK_MSGPACK: msgpack-c >= 4 (Debian: libmsgpack-dev).
# Upstream 6.x renamed the pkg-config module to msgpack-c; accept both.
AC_DEFUN([CAIRN_CHECK_MSGPACK], [
  PKG_CHECK_MODULES([MSGPACK], [msgpack >= 4], [],
    [PKG_CHECK_MODULES([MSGPACK], [msgpack-c >= 4], [],
      [AC_MSG_ERROR([msgpack-c >= 4 not found: install the Debian package libmsgpack-dev ($MSGPACK_PKG_ERRORS)])])])
])
