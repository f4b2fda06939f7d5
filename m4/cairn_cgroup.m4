# CAIRN_CHECK_CGROUP: libcgroup >= 2.0 (Debian: libcgroup-dev).
AC_DEFUN([CAIRN_CHECK_CGROUP], [
  PKG_CHECK_MODULES([CGROUP], [libcgroup >= 2.0], [],
    [AC_MSG_ERROR([libcgroup >= 2.0 not found: install the Debian package libcgroup-dev ($CGROUP_PKG_ERRORS)])])
])
