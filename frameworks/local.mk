# frameworks: the bundled frameworks and the example schedulers. The
# examples are built against libcairn exactly as a user would build them
# (public header only), and installed as source.
examplesdir = $(docdir)/examples

noinst_PROGRAMS += frameworks/examples/hello/hello
frameworks_examples_hello_hello_SOURCES = frameworks/examples/hello/hello.c
frameworks_examples_hello_hello_LDADD = libframework/libcairn.la

dist_examples_DATA = frameworks/examples/hello/hello.c
