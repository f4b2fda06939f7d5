# tests/fuzz: libFuzzer harnesses for the parsers and the handlers
# (doc/fuzzing.md). Included from tests/local.mk.
#
# `make check` links each harness with replay.c (a main that feeds it the
# files of its corpus) using the project's compiler and flags, and
# tests/fuzz/replay.sh replays tests/fuzz/corpus/<harness>/. `make fuzz`
# builds the same harnesses with clang's libFuzzer (no libtool: the
# sources are compiled into fuzz/ in the build directory) and runs each
# for FUZZ_SECONDS.

FUZZ_REPLAY = tests/fuzz/replay-codec tests/fuzz/replay-resources tests/fuzz/replay-app \
	tests/fuzz/replay-job tests/fuzz/replay-master tests/fuzz/replay-agent
check_PROGRAMS += $(FUZZ_REPLAY)
TESTS += tests/fuzz/replay.sh
EXTRA_DIST += tests/fuzz/replay.sh tests/fuzz/run.sh tests/fuzz/corpus
dist_doc_DATA += doc/fuzzing.md

FUZZ_CFLAGS_COMMON = $(TEST_UNIT_CFLAGS) $(SQLITE_CFLAGS)

tests_fuzz_replay_codec_SOURCES = tests/fuzz/codec.c tests/fuzz/replay.c tests/fuzz/fuzz.h
tests_fuzz_replay_codec_CFLAGS = $(FUZZ_CFLAGS_COMMON)
tests_fuzz_replay_codec_LDADD = $(TEST_UNIT_LIBS)

tests_fuzz_replay_resources_SOURCES = tests/fuzz/resources.c tests/fuzz/replay.c tests/fuzz/fuzz.h
tests_fuzz_replay_resources_CFLAGS = $(FUZZ_CFLAGS_COMMON)
tests_fuzz_replay_resources_LDADD = $(TEST_UNIT_LIBS)

# The app parser needs the library's task calls (driver.c), which
# libservice carries.
tests_fuzz_replay_app_SOURCES = tests/fuzz/app.c tests/fuzz/replay.c tests/fuzz/fuzz.h
tests_fuzz_replay_app_CFLAGS = $(FUZZ_CFLAGS_COMMON) -I$(top_srcdir)/frameworks/service
tests_fuzz_replay_app_LDADD = $(SERVICE_LIBS)

tests_fuzz_replay_job_SOURCES = tests/fuzz/job.c tests/fuzz/replay.c tests/fuzz/fuzz.h
tests_fuzz_replay_job_CFLAGS = $(FUZZ_CFLAGS_COMMON) -I$(top_srcdir)/frameworks/batch
tests_fuzz_replay_job_LDADD = frameworks/batch/libbatch.la libframework/libcairn.la \
	$(TEST_UNIT_LIBS) -lm

tests_fuzz_replay_master_SOURCES = tests/fuzz/master.c tests/fuzz/replay.c tests/fuzz/fuzz.h
tests_fuzz_replay_master_CFLAGS = $(FUZZ_CFLAGS_COMMON) -I$(top_srcdir)/master
tests_fuzz_replay_master_LDADD = master/libmaster.la $(TEST_UNIT_LIBS) $(SQLITE_LIBS)

tests_fuzz_replay_agent_SOURCES = tests/fuzz/agent.c tests/fuzz/replay.c tests/fuzz/fuzz.h
tests_fuzz_replay_agent_CFLAGS = $(FUZZ_CFLAGS_COMMON) -I$(top_srcdir)/agent $(CGROUP_CFLAGS)
tests_fuzz_replay_agent_LDADD = agent/libagent.la libframework/libcairn-store.la \
	$(TEST_UNIT_LIBS) $(SQLITE_LIBS) $(CGROUP_LIBS)

# The binary seeds (codec, master, agent) come from valid messages:
# `make fuzz-seeds` rewrites them in the source tree.
EXTRA_PROGRAMS += tests/fuzz/mkseeds
tests_fuzz_mkseeds_SOURCES = tests/fuzz/mkseeds.c tests/fuzz/fuzz.h
tests_fuzz_mkseeds_CFLAGS = $(TEST_UNIT_CFLAGS)
tests_fuzz_mkseeds_LDADD = $(TEST_UNIT_LIBS)

fuzz-seeds: tests/fuzz/mkseeds$(EXEEXT)
	tests/fuzz/mkseeds$(EXEEXT) $(srcdir)/tests/fuzz/corpus

# `make fuzz`: clang with libFuzzer, ASan and UBSan. The library sources
# are those of the daemons' convenience libraries, compiled once into
# fuzz/libcairn-fuzz.a; each harness links what it uses from it.
FUZZ_CC = clang
FUZZ_SECONDS = 60
FUZZ_HARNESSES = codec resources app job master agent
FUZZ_SANITIZE = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
FUZZ_CPPFLAGS = -I$(top_builddir) -I$(top_srcdir)/libframework -I$(top_srcdir)/tests/fuzz \
	-I$(top_srcdir)/master -I$(top_srcdir)/agent -I$(top_srcdir)/frameworks/service \
	-I$(top_srcdir)/frameworks/batch $(CZMQ_CFLAGS) $(ZMQ_CFLAGS) $(JANSSON_CFLAGS) \
	$(MSGPACK_CFLAGS) $(SQLITE_CFLAGS) $(CGROUP_CFLAGS)
FUZZ_LIBS = $(CZMQ_LIBS) $(ZMQ_LIBS) $(JANSSON_LIBS) $(MSGPACK_LIBS) $(SQLITE_LIBS) \
	$(CGROUP_LIBS) -lm -pthread
FUZZ_LIBSRC = $(libframework_libcairn_util_la_SOURCES) \
	$(libframework_libcairn_store_la_SOURCES) $(master_libmaster_la_SOURCES) \
	$(agent_libagent_la_SOURCES) libframework/driver.c \
	frameworks/service/app.c frameworks/service/app.h \
	frameworks/batch/job.c frameworks/batch/job.h \
	frameworks/batch/cron.c frameworks/batch/cron.h

fuzz/libcairn-fuzz.a: $(FUZZ_LIBSRC)
	@$(MKDIR_P) fuzz/obj
	@rm -f $@ fuzz/obj/*.o
	@for s in $(FUZZ_LIBSRC); do \
	  case $$s in *.c) ;; *) continue ;; esac; \
	  o=fuzz/obj/`echo $$s | sed 's|/|_|g; s|\.c$$|.o|'`; \
	  echo "  FUZZCC   $$s"; \
	  $(FUZZ_CC) $(FUZZ_SANITIZE) -fsanitize=fuzzer-no-link -std=gnu11 $(FUZZ_CPPFLAGS) \
	    -c $(srcdir)/$$s -o $$o || exit 1; \
	done
	$(AR) rcs $@ fuzz/obj/*.o

fuzz-build: fuzz/libcairn-fuzz.a
	@for h in $(FUZZ_HARNESSES); do \
	  echo "  FUZZLD   fuzz/$$h"; \
	  $(FUZZ_CC) $(FUZZ_SANITIZE) -fsanitize=fuzzer -std=gnu11 $(FUZZ_CPPFLAGS) \
	    $(srcdir)/tests/fuzz/$$h.c fuzz/libcairn-fuzz.a $(FUZZ_LIBS) -o fuzz/$$h || exit 1; \
	done

fuzz: fuzz-build
	$(SHELL) $(srcdir)/tests/fuzz/run.sh fuzz $(srcdir)/tests/fuzz/corpus \
		$(FUZZ_SECONDS) $(FUZZ_HARNESSES)

clean-local: clean-fuzz
clean-fuzz:
	rm -rf fuzz

.PHONY: fuzz fuzz-build fuzz-seeds clean-fuzz
