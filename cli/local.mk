# cli: cairn, the operator command line.
bin_PROGRAMS += cli/cairn
cli_cairn_SOURCES = cli/cairn.c cli/cli.c cli/cli.h cli/cluster.c cli/status.c cli/operate.c \
	cli/logs.c cli/run.c cli/events.c \
	cli/service.c cli/batch.c cli/keygen.c
cli_cairn_CFLAGS = $(AM_CFLAGS) $(CZMQ_CFLAGS) $(ZMQ_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS)
cli_cairn_LDADD = libframework/libcairn.la libframework/libcairn-httpc.la libframework/libcairn-util.la \
	$(CZMQ_LIBS) $(ZMQ_LIBS) $(JANSSON_LIBS) $(CURL_LIBS) $(MSGPACK_LIBS)
