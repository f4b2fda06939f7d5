# frameworks/batch: cairn-batch, the bundled framework for batch jobs
# (doc/batch.md), its tests and its benchmark.

# The framework's modules, shared by the program and the unit tests.
noinst_LTLIBRARIES += frameworks/batch/libbatch.la
frameworks_batch_libbatch_la_SOURCES = \
	frameworks/batch/cron.c frameworks/batch/cron.h \
	frameworks/batch/job.c frameworks/batch/job.h \
	frameworks/batch/queue.c frameworks/batch/queue.h \
	frameworks/batch/jobstore.c frameworks/batch/jobstore.h \
	frameworks/batch/fetch.c frameworks/batch/fetch.h \
	frameworks/batch/scheduler.c frameworks/batch/scheduler.h
frameworks_batch_libbatch_la_CFLAGS = $(AM_CFLAGS) $(CZMQ_CFLAGS) $(ZMQ_CFLAGS) \
	$(JANSSON_CFLAGS) $(SQLITE_CFLAGS) $(CURL_CFLAGS)

BATCH_LIBS = frameworks/batch/libbatch.la libframework/libcairn-store.la \
	libframework/libcairn-httpd.la libframework/libcairn-httpc.la \
	libframework/libcairn-util.la libframework/libcairn.la \
	$(CZMQ_LIBS) $(ZMQ_LIBS) $(JANSSON_LIBS) $(SQLITE_LIBS) $(CURL_LIBS) \
	$(MICROHTTPD_LIBS) $(MSGPACK_LIBS) -lm

# The client commands are cli/batch.c, the same code as `cairn batch`.
bin_PROGRAMS += frameworks/batch/cairn-batch
frameworks_batch_cairn_batch_SOURCES = \
	frameworks/batch/main.c frameworks/batch/batch.h \
	frameworks/batch/run.c frameworks/batch/serve.c \
	frameworks/batch/client.h cli/batch.c cli/cli.c cli/cli.h
frameworks_batch_cairn_batch_CFLAGS = $(AM_CFLAGS) $(CZMQ_CFLAGS) $(ZMQ_CFLAGS) \
	$(JANSSON_CFLAGS) $(SQLITE_CFLAGS) $(CURL_CFLAGS) $(MICROHTTPD_CFLAGS)
frameworks_batch_cairn_batch_LDADD = $(BATCH_LIBS)

dist_doc_DATA += doc/batch.md

# Unit tests: cron, job definitions, the queue's decisions, the store.
check_PROGRAMS += tests/unit/batch
TESTS += tests/unit/batch
tests_unit_batch_SOURCES = tests/unit/batch.c
tests_unit_batch_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests -I$(top_srcdir)/frameworks/batch \
	$(CZMQ_CFLAGS) $(ZMQ_CFLAGS) $(JANSSON_CFLAGS) $(MSGPACK_CFLAGS) $(SQLITE_CFLAGS)
tests_unit_batch_LDADD = frameworks/batch/libbatch.la libframework/libcairn-store.la \
	libframework/libcairn-httpc.la libframework/libcairn-util.la libframework/libcairn.la \
	$(CZMQ_LIBS) $(ZMQ_LIBS) $(JANSSON_LIBS) $(SQLITE_LIBS) $(CURL_LIBS) $(MSGPACK_LIBS) -lm

# Integration tests: real master and agents (tests/lib.sh).
BATCH_TESTS = tests/integration/batch-run.sh tests/integration/batch-serve.sh
TESTS += $(BATCH_TESTS)
EXTRA_DIST += $(BATCH_TESTS)

# The benchmark (`make bench` runs it through tests/bench/run.sh) and the
# Slurm configuration it compares against.
EXTRA_DIST += tests/bench/batch.sh tests/bench/slurm/slurm.conf.in
