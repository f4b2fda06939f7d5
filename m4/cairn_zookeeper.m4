# CAIRN_CHECK_ZOOKEEPER: ZooKeeper's multi-threaded C client (Debian:
# libzookeeper-mt-dev). With --zk, masters elect their leader and keep
# the registry in ZooKeeper, and clients find the leader there. The
# package ships no pkg-config file; the synchronous calls are declared
# only with THREADED defined.
AC_DEFUN([CAIRN_CHECK_ZOOKEEPER], [
  ZOOKEEPER_CFLAGS="-DTHREADED"
  save_CPPFLAGS=$CPPFLAGS
  CPPFLAGS="$CPPFLAGS $ZOOKEEPER_CFLAGS"
  AC_CHECK_HEADER([zookeeper/zookeeper.h], [],
    [AC_MSG_ERROR([zookeeper/zookeeper.h not found: install the Debian package libzookeeper-mt-dev])])
  CPPFLAGS=$save_CPPFLAGS
  AC_CHECK_LIB([zookeeper_mt], [zoo_multi], [ZOOKEEPER_LIBS="-lzookeeper_mt"],
    [AC_MSG_ERROR([libzookeeper_mt with zoo_multi not found: install the Debian package libzookeeper-mt-dev])])
  AC_SUBST([ZOOKEEPER_CFLAGS])
  AC_SUBST([ZOOKEEPER_LIBS])
])
