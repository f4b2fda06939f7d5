# master: cairn-master. The state and handlers live in a convenience
# library so unit tests can drive them without sockets.
noinst_LTLIBRARIES += master/libmaster.la
master_libmaster_la_SOURCES = \
	master/master.c master/master.h \
	master/allocator.c master/allocator.h \
	master/registry.c master/registry.h \
	master/registry-zk.c master/registry-zk.h \
	master/acl.c master/acl.h
master_libmaster_la_CFLAGS = $(AM_CFLAGS) $(CZMQ_CFLAGS) $(ZMQ_CFLAGS) $(JANSSON_CFLAGS) \
	$(SQLITE_CFLAGS) $(ZOOKEEPER_CFLAGS)
master_libmaster_la_LIBADD = libframework/libcairn-store.la libframework/libcairn-util.la \
	$(SQLITE_LIBS) $(ZOOKEEPER_LIBS)

sbin_PROGRAMS += master/cairn-master
# files.c forwards reads of tasks' files to their agents with libcurl
# (libcairn-httpc), each in a thread of its own.
master_cairn_master_SOURCES = master/main.c master/files.c master/files.h
master_cairn_master_CFLAGS = $(AM_CFLAGS) $(CZMQ_CFLAGS) $(ZMQ_CFLAGS) $(JANSSON_CFLAGS)
master_cairn_master_LDADD = master/libmaster.la libframework/libcairn-httpd.la \
	libframework/libcairn-httpc.la libframework/libcairn-util.la $(CZMQ_LIBS) $(ZMQ_LIBS) \
	$(JANSSON_LIBS) $(MICROHTTPD_LIBS) $(MSGPACK_LIBS) $(SQLITE_LIBS)

# The web UI (webui/): its files are embedded in cairn-master at build
# time by webui/embed.sh (POSIX sh and od), so the master serves /ui/
# with nothing installed beside it.
WEBUI_FILES = webui/index.html webui/app.css webui/app.js
master_cairn_master_SOURCES += master/webui.c master/webui.h
nodist_master_cairn_master_SOURCES = master/webui-assets.c
master_cairn_master_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/master
BUILT_SOURCES += master/webui-assets.c
CLEANFILES += master/webui-assets.c
EXTRA_DIST += webui/embed.sh $(WEBUI_FILES)
master/webui-assets.c: $(top_srcdir)/webui/embed.sh $(top_srcdir)/webui/index.html \
		$(top_srcdir)/webui/app.css $(top_srcdir)/webui/app.js
	$(AM_V_GEN)$(MKDIR_P) master && $(SHELL) $(top_srcdir)/webui/embed.sh $(top_srcdir)/webui $@
