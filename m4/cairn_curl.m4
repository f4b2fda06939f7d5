# CAIRN_CHECK_CURL: libcurl >= 7.68 (Debian: libcurl4-openssl-dev).
# The CLI reads the daemons' HTTP endpoints through it.
AC_DEFUN([CAIRN_CHECK_CURL], [
  PKG_CHECK_MODULES([CURL], [libcurl >= 7.68], [],
    [AC_MSG_ERROR([libcurl >= 7.68 not found: install the Debian package libcurl4-openssl-dev ($CURL_PKG_ERRORS)])])
])
