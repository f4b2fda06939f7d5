# CAIRN_CHECK_SQLITE: SQLite >= 3.31 (Debian: libsqlite3-dev).
# The master keeps its durable registry (admitted and removed agents) in
# it. 3.31 (Ubuntu 20.04's; Debian 12 has 3.40) has all it uses: UPSERT
# (3.24), SQLITE_PREPARE_PERSISTENT (3.20), sqlite3_system_errno (3.16).
AC_DEFUN([CAIRN_CHECK_SQLITE], [
  PKG_CHECK_MODULES([SQLITE], [sqlite3 >= 3.31], [],
    [AC_MSG_ERROR([sqlite3 >= 3.31 not found: install the Debian package libsqlite3-dev ($SQLITE_PKG_ERRORS)])])
])
