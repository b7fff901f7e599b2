# git-thrum: one non-recursive GNU Makefile.
#   make                 build ./git-thrum
#   make check           build and run every test (unit, then end-to-end)
#   make check SANITIZE=1  the same under AddressSanitizer + UBSan
#   make demo            a scripted tour on a throw-away repository
#   make mutate          one fault at a time from tests/mutants.txt: the
#                        tests named must fail with each (MUTANTS=a,b: some)
#   make install prefix=DIR
#   SHARED=1             link sqlite3, json-c and inih as shared libraries
#   make doc             man pages (asciidoctor)
# DEVELOPER=1 turns warnings into errors; V=1 shows the commands.

prefix ?= $(HOME)
bindir = $(prefix)/bin
moduledir = $(prefix)/lib/git-thrum
sharedir = $(prefix)/share/git-thrum
mandir = $(prefix)/share/man
completiondir = $(prefix)/share/bash-completion/completions

CC ?= cc
CFLAGS ?= -O2 -g
PKGS = sqlite3 json-c inih libsodium
THRUM_VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

# pkg-config runs when a recipe needs it, after the dependency check
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) libgit2)
PKG_LIBS = $(shell pkg-config --libs $(PKGS))
CMOCKA_LIBS = $(shell pkg-config --libs cmocka)
# git-thrum links sqlite3, json-c and inih statically (Debian's -dev
# packages ship the archives): binding a shared libsqlite3's symbols costs
# 0.3 ms at every start, a third of what a command like send may take.
# SHARED=1 links them as shared libraries instead.
ifdef SHARED
PROGRAM_LIBS = $(PKG_LIBS)
else
PROGRAM_LIBS = -Wl,-Bstatic $(shell pkg-config --libs-only-l $(PKGS)) \
	-Wl,-Bdynamic -lm -lpthread
endif
GIT2_LIBS = $(shell pkg-config --libs libgit2)

WARN = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla
ifdef DEVELOPER
WARN += -Werror
endif
SAN =
ifdef SANITIZE
SAN = -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
endif

ALL_CFLAGS = -std=c99 -D_POSIX_C_SOURCE=200809L $(CFLAGS) $(WARN) $(SAN) \
	-Isrc -MMD -MP $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SAN)

ifndef V
QUIET_CC = @echo '   CC ' $@;
QUIET_LINK = @echo '   LINK' $@;
QUIET_AR = @echo '   AR ' $@;
QUIET_GEN = @echo '   GEN' $@;
endif

# build trees are separate for sanitizer builds, so objects never mix
ifdef FUZZ
O = build/fuzz
SAN = -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
else ifdef SANITIZE
O = build/sanitize
else
O = build/default
endif

LIB_OBJS = \
	$(O)/src/agents.o \
	$(O)/src/blob-cache.o \
	$(O)/src/clock.o \
	$(O)/src/config.o \
	$(O)/src/config-cache.o \
	$(O)/src/context.o \
	$(O)/src/core.o \
	$(O)/src/daemon.o \
	$(O)/src/daemon-client.o \
	$(O)/src/daemon-cycle.o \
	$(O)/src/daemon-peers.o \
	$(O)/src/date.o \
	$(O)/src/event.o \
	$(O)/src/event-id.o \
	$(O)/src/event-tags.o \
	$(O)/src/event-wc.o \
	$(O)/src/format.o \
	$(O)/src/format-escape.o \
	$(O)/src/format-read.o \
	$(O)/src/format-work.o \
	$(O)/src/gitx-load.o \
	$(O)/src/groups.o \
	$(O)/src/hooks.o \
	$(O)/hook-scripts.o \
	$(O)/src/identity.o \
	$(O)/src/mcp.o \
	$(O)/src/mcp-tools.o \
	$(O)/src/mcp-wait.o \
	$(O)/src/lockfile.o \
	$(O)/src/merge.o \
	$(O)/src/messaging.o \
	$(O)/src/pager.o \
	$(O)/src/parse-ahead.o \
	$(O)/src/parse-options.o \
	$(O)/src/peer.o \
	$(O)/src/projection.o \
	$(O)/src/purge.o \
	$(O)/src/projection-apply.o \
	$(O)/src/projection-clean.o \
	$(O)/src/projection-directory.o \
	$(O)/src/projection-group.o \
	$(O)/src/projection-lines.o \
	$(O)/src/projection-log.o \
	$(O)/src/projection-query.o \
	$(O)/src/projection-read.o \
	$(O)/src/projection-rebuild.o \
	$(O)/src/projection-search.o \
	$(O)/src/projection-sign.o \
	$(O)/src/projection-vouch.o \
	$(O)/src/projection-work.o \
	$(O)/src/repo.o \
	$(O)/src/rpc.o \
	$(O)/src/run-command.o \
	$(O)/src/session.o \
	$(O)/src/sign.o \
	$(O)/src/store.o \
	$(O)/src/strbuf.o \
	$(O)/src/strvec.o \
	$(O)/src/sync.o \
	$(O)/src/sync-commit.o \
	$(O)/src/sync-clones.o \
	$(O)/src/sync-merge.o \
	$(O)/src/sync-net.o \
	$(O)/src/sync-status.o \
	$(O)/src/synctree.o \
	$(O)/src/ulid.o \
	$(O)/src/usage.o \
	$(O)/src/utf8.o \
	$(O)/src/watch.o \
	$(O)/src/work-context.o \
	$(O)/src/wrapper.o

CMD_OBJS = \
	$(O)/src/cmd-init.o \
	$(O)/src/cmd-config.o \
	$(O)/src/cmd-daemon.o \
	$(O)/src/cmd-peer.o \
	$(O)/src/cmd-fsck.o \
	$(O)/src/cmd-group.o \
	$(O)/src/cmd-hooks.o \
	$(O)/src/cmd-inbox.o \
	$(O)/src/cmd-mcp.o \
	$(O)/src/cmd-overview.o \
	$(O)/src/cmd-message.o \
	$(O)/src/cmd-migrate.o \
	$(O)/src/cmd-purge.o \
	$(O)/src/cmd-rotate-key.o \
	$(O)/src/cmd-quickstart.o \
	$(O)/src/cmd-rebuild.o \
	$(O)/src/cmd-search.o \
	$(O)/src/cmd-send.o \
	$(O)/src/cmd-sent.o \
	$(O)/src/cmd-session.o \
	$(O)/src/cmd-setup.o \
	$(O)/src/cmd-setup-agents.o \
	$(O)/src/cmd-sync.o \
	$(O)/src/cmd-team.o \
	$(O)/src/cmd-thread.o \
	$(O)/src/cmd-wait.o \
	$(O)/src/cmd-who-has.o \
	$(O)/src/cmd-whoami.o

# the longest scripts start first, so that the two jobs end together
# (prove runs a script named twice once)
SLOW_TESTS = ./t8300-daemon-leaks.sh ./t7100-mcp.sh ./t5006-sync-memory.sh

UNIT_TESTS = \
	tests/unit/t-core \
	tests/unit/t-date \
	tests/unit/t-event \
	tests/unit/t-gitx-commit \
	tests/unit/t-gitx-load \
	tests/unit/t-format \
	tests/unit/t-lockfile \
	tests/unit/t-merge \
	tests/unit/t-parse-ahead \
	tests/unit/t-peer \
	tests/unit/t-projection \
	tests/unit/t-projection-directory \
	tests/unit/t-projection-log \
	tests/unit/t-projection-search \
	tests/unit/t-run-command \
	tests/unit/t-sign \
	tests/unit/t-store \
	tests/unit/t-strbuf \
	tests/unit/t-ulid \
	tests/unit/t-utf8

LIB = $(O)/libthrum.a
PROGRAM = git-thrum
# libgit2 is loaded on first use, from this module (see src/gitx.h)
MODULE = git-thrum-git2.so
DEPS = $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d) $(O)/git-thrum.d $(O)/src/gitx.pic.d \
	$(O)/src/gitx-commit.pic.d $(O)/bench/gen-history.d $(O)/bench/alternate.d \
	$(patsubst %,$(O)/%.d,$(UNIT_TESTS) $(TEST_PROGRAMS))

.PHONY: all check unit-test test demo install doc doc-deps clean deps \
	test-deps FORCE fuzz fuzz-run bench bench-scale test-helpers mutate
.DEFAULT_GOAL := all
# keep objects of the unit tests (make would delete them as intermediate)
.SECONDARY:

all: $(PROGRAM) $(MODULE)

deps:
	@tools/ensure-deps build

test-deps:
	@tools/ensure-deps test

$(O)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

HOOK_SCRIPTS = hooks/pre-push hooks/reference-transaction

# the hook scripts are built into the binary
$(O)/hook-scripts.c: $(HOOK_SCRIPTS) tools/embed-hooks
	@mkdir -p $(dir $@)
	$(QUIET_GEN)tools/embed-hooks $(HOOK_SCRIPTS) >$@+ && mv $@+ $@

$(O)/hook-scripts.o: $(O)/hook-scripts.c | deps
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	$(QUIET_AR)rm -f $@ && $(AR) rcs $@ $^

# the binary at the top is the one tests and git run; build/.current
# names the build it came from, so switching SANITIZE relinks it
# the version is rewritten only when `git describe` changes
$(O)/version.c: FORCE
	@mkdir -p $(dir $@)
	@echo 'const char thrum_version[] = "$(THRUM_VERSION)";' | \
		cmp -s - $@ || \
		echo 'const char thrum_version[] = "$(THRUM_VERSION)";' >$@

$(O)/version.o: $(O)/version.c
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# -rdynamic: the module calls back into the binary (strbuf, error, ...)
# relink when the way of linking changes (SHARED=1 or not)
$(O)/link-flags: FORCE | deps
	@mkdir -p $(dir $@)
	@echo '$(PROGRAM_LIBS)' | cmp -s - $@ || echo '$(PROGRAM_LIBS)' >$@

$(PROGRAM): $(O)/git-thrum.o $(O)/version.o $(CMD_OBJS) $(LIB) build/.current \
		$(O)/link-flags
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -rdynamic -o $@ $(O)/git-thrum.o \
		$(O)/version.o $(CMD_OBJS) $(LIB) $(PROGRAM_LIBS) -ldl

MODULE_OBJS = $(O)/src/gitx.pic.o $(O)/src/gitx-commit.pic.o

$(O)/src/%.pic.o: src/%.c | deps
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<

$(MODULE): $(MODULE_OBJS) build/.current
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -shared -o $@ $(MODULE_OBJS) \
		$(GIT2_LIBS)

build/.current: FORCE
	@mkdir -p build
	@echo $(O) | cmp -s - $@ || echo $(O) > $@

$(O)/tests/unit/%.o: tests/unit/%.c | test-deps
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

tests/unit/%: $(O)/tests/unit/%.o $(LIB) build/.current
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS) \
		$(CMOCKA_LIBS)

# the module's code, with libgit2 linked in (the binary never links it)
tests/unit/t-gitx-commit: $(O)/tests/unit/t-gitx-commit.o \
		$(O)/src/gitx-commit.pic.o $(LIB) build/.current
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $< $(O)/src/gitx-commit.pic.o \
		$(LIB) $(PKG_LIBS) $(GIT2_LIBS) $(CMOCKA_LIBS)

unit-test: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "*** $$t"; ./$$t; done

test: $(PROGRAM) $(MODULE) | test-deps
	@cd tests && prove --timer -j2 $(PROVE_OPTS) $(SLOW_TESTS) ./t[0-9]*.sh

check: test-deps
	@$(MAKE) --no-print-directory unit-test
	@$(MAKE) --no-print-directory test

# LD_PRELOAD shims of the shell tests (tests/helper/*.c): built without
# the sanitizers, which a preloaded library cannot carry
TEST_SHIMS = tests/helper/fail-fsync.so tests/helper/lock-hook.so

tests/helper/%.so: tests/helper/%.c
	$(QUIET_LINK)$(CC) -std=c99 $(CFLAGS) $(WARN) -fPIC -shared -o $@ $< -ldl

# programs of the shell tests, on the library (test-peer crafts nudges)
TEST_PROGRAMS = tests/helper/test-peer tests/helper/test-sign

$(O)/tests/helper/%.o: tests/helper/%.c | test-deps
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

tests/helper/test-%: $(O)/tests/helper/test-%.o $(LIB) build/.current
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS)

test-helpers: $(TEST_SHIMS) $(TEST_PROGRAMS)
test: $(TEST_SHIMS) $(TEST_PROGRAMS)

# libFuzzer targets (clang): each runs FUZZ_SECONDS from the corpus in
# tests/fuzz/corpus/<target>, into a scratch corpus under build/fuzz
FUZZ_TARGETS = event merge rpc
FUZZ_SECONDS ?= 60
FUZZ_BINS = $(patsubst %,build/fuzz/fuzz-%,$(FUZZ_TARGETS))

fuzz:
	@tools/ensure-deps fuzz
	@$(MAKE) --no-print-directory FUZZ=1 CC=clang fuzz-run

fuzz-run: $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz/corpus-$$t; \
		cp tests/fuzz/corpus/$$t/* build/fuzz/corpus-$$t/; \
		echo "*** fuzz-$$t for $(FUZZ_SECONDS)s"; \
		build/fuzz/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) \
			-max_len=65536 -print_final_stats=1 \
			-artifact_prefix=build/fuzz/crash-$$t- \
			build/fuzz/corpus-$$t 2>build/fuzz/fuzz-$$t.log || \
			{ tail -n 40 build/fuzz/fuzz-$$t.log; exit 1; }; \
		grep -E "stat::number_of_executed_units|cov:.*DONE|Done" \
			build/fuzz/fuzz-$$t.log | tail -n 2; \
	done

build/fuzz/fuzz-%: $(O)/tests/fuzz/fuzz-%.o $(LIB)
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $< $(LIB) \
		$(PKG_LIBS)

demo: $(PROGRAM) $(MODULE)
	@tools/demo

# the mutation check of the tests: each mutant of tests/mutants.txt is
# applied alone to a copy of the project in /tmp, built, and must make the
# tests it names fail (see tools/mutate); MUTANTS=a,b runs only those
mutate: | test-deps
	@MUTANTS="$(MUTANTS)" tools/mutate

# benchmarks (README, Performance): ratios against reference commands
# timed in the same run; QUICK=1 for a short run on small histories
BENCH_TOOLS = $(O)/bench/gen-history $(O)/bench/alternate

$(O)/bench/gen-history: $(O)/bench/gen-history.o $(LIB)
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS)

$(O)/bench/alternate: $(O)/bench/alternate.o
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $< -lm

bench: $(PROGRAM) $(MODULE) $(BENCH_TOOLS)
	@tools/ensure-deps bench
	@GEN_HISTORY=$(CURDIR)/$(O)/bench/gen-history \
		ALTERNATE=$(CURDIR)/$(O)/bench/alternate QUICK=$(QUICK) \
		bench/run

# many clones with daemons on one remote (bench/scale): delivery delays,
# pushes and give-ups per N; QUICK=1 for N = 4 and 8
bench-scale: $(PROGRAM) $(MODULE)
	@tools/ensure-deps bench
	@QUICK=$(QUICK) bench/scale

install: $(PROGRAM) $(MODULE) doc
	install -d "$(DESTDIR)$(bindir)" "$(DESTDIR)$(moduledir)" \
		"$(DESTDIR)$(sharedir)/templates" "$(DESTDIR)$(sharedir)/hooks" \
		"$(DESTDIR)$(completiondir)" "$(DESTDIR)$(mandir)/man1" \
		"$(DESTDIR)$(mandir)/man5"
	install -m 755 $(PROGRAM) "$(DESTDIR)$(bindir)/"
	install -m 644 $(MODULE) "$(DESTDIR)$(moduledir)/"
	install -m 644 templates/* "$(DESTDIR)$(sharedir)/templates/"
	install -m 755 $(HOOK_SCRIPTS) "$(DESTDIR)$(sharedir)/hooks/"
	install -m 644 contrib/completion/git-thrum.bash \
		"$(DESTDIR)$(completiondir)/git-thrum"
	install -m 644 $(MAN1) "$(DESTDIR)$(mandir)/man1/"
	install -m 644 $(MAN5) "$(DESTDIR)$(mandir)/man5/"

# man pages (asciidoctor): git thrum --help and git help thrum open them
MAN1 = Documentation/git-thrum.1 Documentation/git-thrum-mcp.1
MAN5 = Documentation/gitthrum-format.5

doc: $(MAN1) $(MAN5)

doc-deps:
	@tools/ensure-deps doc

Documentation/git-thrum.1: Documentation/git-thrum.adoc \
	Documentation/config/thrum.adoc | doc-deps
	$(QUIET_GEN)asciidoctor -b manpage -a mansource='git-thrum $(THRUM_VERSION)' \
		-o $@ $<

Documentation/git-thrum-mcp.1: Documentation/git-thrum-mcp.adoc | doc-deps
	$(QUIET_GEN)asciidoctor -b manpage -a mansource='git-thrum $(THRUM_VERSION)' \
		-o $@ $<

Documentation/gitthrum-format.5: Documentation/gitthrum-format.adoc | doc-deps
	$(QUIET_GEN)asciidoctor -b manpage -a mansource='git-thrum $(THRUM_VERSION)' \
		-o $@ $<

clean:
	rm -rf build $(PROGRAM) $(MODULE) $(UNIT_TESTS) $(TEST_SHIMS) \
		tests/test-results \
		tests/trash\ directory.* Documentation/*.1 Documentation/*.5

-include $(DEPS)
