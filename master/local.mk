# master: cairn-master. The state and handlers live in a convenience
# library so unit tests can drive them without sockets.
noinst_LTLIBRARIES += master/libmaster.la
master_libmaster_la_SOURCES = \
	master/master.c master/master.h \
	master/allocator.c master/allocator.h \
	master/registry.c master/registry.h \
	master/acl.c master/acl.h
master_libmaster_la_CFLAGS = $(AM_CFLAGS) $(CZMQ_CFLAGS) $(ZMQ_CFLAGS) $(JANSSON_CFLAGS) \
	$(SQLITE_CFLAGS)
master_libmaster_la_LIBADD = libframework/libcairn-store.la libframework/libcairn-util.la \
	$(SQLITE_LIBS)

sbin_PROGRAMS += master/cairn-master
master_cairn_master_SOURCES = master/main.c
master_cairn_master_CFLAGS = $(AM_CFLAGS) $(CZMQ_CFLAGS) $(ZMQ_CFLAGS) $(JANSSON_CFLAGS)
master_cairn_master_LDADD = master/libmaster.la libframework/libcairn-httpd.la \
	libframework/libcairn-util.la $(CZMQ_LIBS) $(ZMQ_LIBS) $(JANSSON_LIBS) \
	$(MICROHTTPD_LIBS) $(MSGPACK_LIBS) $(SQLITE_LIBS)
