# CAIRN_CHECK_ZMQ: libzmq >= 4.3 (Debian: libzmq3-dev).
# Checked on its own because libczmq's flags only name -lczmq.
AC_DEFUN([CAIRN_CHECK_ZMQ], [
  PKG_CHECK_MODULES([ZMQ], [libzmq >= 4.3], [],
    [AC_MSG_ERROR([ZeroMQ >= 4.3 not found: install the Debian package libzmq3-dev ($ZMQ_PKG_ERRORS)])])
])
