# frameworks: the bundled frameworks and the example schedulers. The
# examples are built against libcairn exactly as a user would build them
# (public header only), and installed as source.
examplesdir = $(docdir)/examples

CAIRN_EXAMPLES = \
	frameworks/examples/hello/hello \
	frameworks/examples/tutorial/tutorial \
	frameworks/examples/killtask/killtask \
	frameworks/examples/failover/failover \
	frameworks/examples/dispatch/dispatch
noinst_PROGRAMS += $(CAIRN_EXAMPLES)

frameworks_examples_hello_hello_SOURCES = frameworks/examples/hello/hello.c
frameworks_examples_hello_hello_LDADD = libframework/libcairn.la
# The tutorial in doc/libframework.md is this program, block by block
# (tests/integration/library-doc.sh compares them).
frameworks_examples_tutorial_tutorial_SOURCES = frameworks/examples/tutorial/tutorial.c
frameworks_examples_tutorial_tutorial_LDADD = libframework/libcairn.la
frameworks_examples_killtask_killtask_SOURCES = frameworks/examples/killtask/killtask.c
frameworks_examples_killtask_killtask_LDADD = libframework/libcairn.la
frameworks_examples_failover_failover_SOURCES = frameworks/examples/failover/failover.c
frameworks_examples_failover_failover_LDADD = libframework/libcairn.la
frameworks_examples_dispatch_dispatch_SOURCES = frameworks/examples/dispatch/dispatch.c
frameworks_examples_dispatch_dispatch_LDADD = libframework/libcairn.la

# Installed flat, as $(docdir)/examples/NAME.c: each builds on its own with
#   cc NAME.c $(pkg-config --cflags --libs cairn)
dist_examples_DATA = \
	frameworks/examples/hello/hello.c \
	frameworks/examples/tutorial/tutorial.c \
	frameworks/examples/killtask/killtask.c \
	frameworks/examples/failover/failover.c \
	frameworks/examples/dispatch/dispatch.c
