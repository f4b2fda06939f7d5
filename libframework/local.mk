# libframework: libcairn (public) and the internal library the daemons,
# the CLI and the tests link.

# Protocol, resource model and shared utilities; no libmicrohttpd/curl.
noinst_LTLIBRARIES += libframework/libcairn-util.la
libframework_libcairn_util_la_SOURCES = \
	libframework/cairn.h \
	libframework/error.c libframework/error.h \
	libframework/names.c \
	libframework/resources.c libframework/resources.h \
	libframework/proto.c libframework/proto.h \
	libframework/flags.c libframework/flags.h \
	libframework/log.c libframework/log.h \
	libframework/transport.c libframework/transport.h \
	libframework/ids.c libframework/ids.h \
	libframework/objects.c libframework/objects.h \
	libframework/util.c libframework/util.h \
	libframework/jsonw.c libframework/jsonw.h \
	libframework/jcheck.c libframework/jcheck.h \
	libframework/zk.c libframework/zk.h
libframework_libcairn_util_la_CFLAGS = $(AM_CFLAGS) $(CZMQ_CFLAGS) $(ZMQ_CFLAGS) \
	$(MSGPACK_CFLAGS) $(JANSSON_CFLAGS) $(ZOOKEEPER_CFLAGS)
libframework_libcairn_util_la_LIBADD = $(CZMQ_LIBS) $(ZMQ_LIBS) $(MSGPACK_LIBS) \
	$(JANSSON_LIBS) $(ZOOKEEPER_LIBS) -lm

include_HEADERS += libframework/cairn.h

# Durable state in one SQLite file, with group commit (store.h): under
# the master's registry and the agent's checkpoint.
noinst_LTLIBRARIES += libframework/libcairn-store.la
libframework_libcairn_store_la_SOURCES = libframework/store.c libframework/store.h
libframework_libcairn_store_la_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
libframework_libcairn_store_la_LIBADD = libframework/libcairn-util.la $(SQLITE_LIBS)

# HTTP server glue (libmicrohttpd thread <-> event loop) for the daemons.
noinst_LTLIBRARIES += libframework/libcairn-httpd.la
libframework_libcairn_httpd_la_SOURCES = libframework/httpd.c libframework/httpd.h \
	libframework/restapi.c libframework/restapi.h
libframework_libcairn_httpd_la_CFLAGS = $(AM_CFLAGS) $(CZMQ_CFLAGS) $(ZMQ_CFLAGS) \
	$(MICROHTTPD_CFLAGS) $(JANSSON_CFLAGS)
libframework_libcairn_httpd_la_LIBADD = libframework/libcairn-util.la $(MICROHTTPD_LIBS)

# HTTP client (libcurl) for the CLI and the bundled frameworks.
noinst_LTLIBRARIES += libframework/libcairn-httpc.la
libframework_libcairn_httpc_la_SOURCES = libframework/httpc.c libframework/httpc.h
libframework_libcairn_httpc_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(JANSSON_CFLAGS)
libframework_libcairn_httpc_la_LIBADD = libframework/libcairn-util.la $(CURL_LIBS) $(JANSSON_LIBS)

# libcairn: the public framework library. Only cairn_* symbols are exported.
lib_LTLIBRARIES += libframework/libcairn.la
libframework_libcairn_la_SOURCES = libframework/driver.c
libframework_libcairn_la_CFLAGS = $(AM_CFLAGS) $(CZMQ_CFLAGS) $(ZMQ_CFLAGS)
libframework_libcairn_la_LIBADD = libframework/libcairn-util.la
libframework_libcairn_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(LIBCAIRN_VERSION_INFO) \
	-export-symbols-regex '^cairn_'
pkgconfig_DATA += libframework/cairn.pc
