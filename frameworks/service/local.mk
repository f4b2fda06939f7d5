# frameworks/service: cairn-service, the framework for long-running
# services. The scheduler, the store and the REST API live in a
# convenience library so the unit test drives them without sockets.
#
# The driver (libframework/driver.c) is built into it rather than taken
# from libcairn.so: the program also needs the internal modules of
# libcairn-util (store, httpd, jcheck), and with both there would be two
# copies of the library's internals, each with its own thread-local
# error text, so cairn_strerror_last would miss half of the failures.
noinst_LTLIBRARIES += frameworks/service/libservice.la
frameworks_service_libservice_la_SOURCES = \
	frameworks/service/app.c frameworks/service/app.h \
	frameworks/service/svcdb.c frameworks/service/svcdb.h \
	frameworks/service/service.c frameworks/service/service.h \
	frameworks/service/api.c frameworks/service/api.h \
	libframework/driver.c
frameworks_service_libservice_la_CFLAGS = $(AM_CFLAGS) $(CZMQ_CFLAGS) $(ZMQ_CFLAGS) \
	$(JANSSON_CFLAGS) $(SQLITE_CFLAGS) $(MICROHTTPD_CFLAGS)

SERVICE_LIBS = frameworks/service/libservice.la \
	libframework/libcairn-httpd.la libframework/libcairn-store.la \
	libframework/libcairn-util.la $(CZMQ_LIBS) $(ZMQ_LIBS) $(JANSSON_LIBS) \
	$(MICROHTTPD_LIBS) $(MSGPACK_LIBS) $(SQLITE_LIBS) -lm

bin_PROGRAMS += frameworks/service/cairn-service
frameworks_service_cairn_service_SOURCES = frameworks/service/main.c
frameworks_service_cairn_service_CFLAGS = $(AM_CFLAGS) $(CZMQ_CFLAGS) $(ZMQ_CFLAGS) \
	$(JANSSON_CFLAGS)
frameworks_service_cairn_service_LDADD = $(SERVICE_LIBS)

# Tests: the scheduler without sockets, then real daemons.
check_PROGRAMS += tests/unit/service
TESTS += tests/unit/service
tests_unit_service_SOURCES = tests/unit/service.c
tests_unit_service_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests -I$(top_srcdir)/frameworks/service \
	$(CZMQ_CFLAGS) $(ZMQ_CFLAGS) $(JANSSON_CFLAGS) $(MSGPACK_CFLAGS) $(SQLITE_CFLAGS)
tests_unit_service_LDADD = $(SERVICE_LIBS)

SERVICE_TESTS = \
	tests/integration/service-basic.sh \
	tests/integration/service-upgrade.sh \
	tests/integration/service-failover.sh
TESTS += $(SERVICE_TESTS)
EXTRA_DIST += $(SERVICE_TESTS) tests/integration/service-lib.sh

dist_doc_DATA += doc/service.md
