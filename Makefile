# Samsa: one non-recursive Makefile.
#
#   make            build bin/samsa-broker, bin/samsa-controller, bin/samsa-admin
#   make test       install what is missing, build, run every test (ends "N passed, N failed")
#   make run        install, build, start a local cluster in ./run and show a topic in use
#   make fmt        clang-format the tree;  make fmt-check  fail if it is not formatted
#   make clean
#
# BUILD and BIN may be overridden (e.g. BUILD=build-x) so that parallel builds do not collide.
# V=1 shows the commands.

BUILD ?= build
BIN   ?= bin
CC    ?= cc
V     ?= 0
Q      = $(if $(filter 1,$(V)),,@)
say    = $(if $(filter 1,$(V)),,@printf '  %-7s %s\n' $(1) $(2);)

PKGS        := libevent libevent_pthreads libprotobuf-c
PKG_CFLAGS  := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lzookeeper_mt -lpthread -lm \
               $(shell pkg-config --libs zlib liblz4 libzstd 2>/dev/null || echo -lz -llz4 -lzstd) -lsnappy
CRIT_LIBS   := $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)
RDK_LIBS    := $(shell pkg-config --libs rdkafka 2>/dev/null || echo -lrdkafka)

WARN     := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wconversion -Wformat=2 -Wvla
CPPFLAGS := -D_GNU_SOURCE -I. -Icommon -I$(BUILD)/proto $(PKG_CFLAGS)
OPT      ?= -O2 -g
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS   := $(WARN) $(OPT) -MMD -MP
GENFLAGS := -std=c11 $(OPT) -MMD -MP -w

# ---- sources -------------------------------------------------------------------------------
PROTOS     := $(wildcard proto/*.proto)
PB_C       := $(PROTOS:proto/%.proto=$(BUILD)/proto/%.pb-c.c)
PB_H       := $(PB_C:.c=.h)

MAINS      := broker/br_main.c controller/ctl_main.c controller/admin/adm_main.c
COMMON_SRC := $(wildcard common/*.c)
BR_SRC     := $(filter-out $(MAINS),$(wildcard broker/*.c))
CTL_SRC    := $(filter-out $(MAINS),$(wildcard controller/*.c))
ADM_SRC    := $(filter-out $(MAINS),$(wildcard controller/admin/*.c))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
ITEST_SRC  := $(wildcard tests/integration/*.c)
BENCH_SRC  := $(wildcard bench/*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)

# Normal objects live in $(BUILD)/o, sanitized ones (for unit tests) in $(BUILD)/san.
obj = $(patsubst %.c,$(BUILD)/o/%.o,$(1))
san = $(patsubst %.c,$(BUILD)/san/%.o,$(1))

PB_OBJ     := $(PB_C:$(BUILD)/%.c=$(BUILD)/o/%.o)
PB_SAN     := $(PB_C:$(BUILD)/%.c=$(BUILD)/san/%.o)

LIBSM      := $(BUILD)/libsm.a
LIBBR      := $(BUILD)/libbr.a
LIBCTL     := $(BUILD)/libctl.a
LIBADM     := $(BUILD)/libadm.a
SANLIBS    := $(BUILD)/san/libadm.a $(BUILD)/san/libctl.a $(BUILD)/san/libbr.a $(BUILD)/san/libsm.a

BINS       := $(BIN)/samsa-broker $(BIN)/samsa-controller $(BIN)/samsa-admin
UNIT_BINS  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
ITEST_BINS := $(ITEST_SRC:tests/integration/%.c=$(BUILD)/tests/integration/%)
BENCH_BINS := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
FUZZ_BINS  := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: all test check run deps unit itest benches fuzz fmt fmt-check clean
.DEFAULT_GOAL := all
.SECONDARY:

all: $(BINS)

# `test` installs first, then build in a fresh make so that pkg-config sees the
# packages that were just installed.
test:
	$(Q)scripts/install-deps.sh
	$(Q)$(MAKE) --no-print-directory -j$$(nproc) check

check: all unit itest benches fuzz
	$(Q)BUILD=$(BUILD) BIN=$(BIN) scripts/run-tests.sh

run:
	$(Q)scripts/install-deps.sh
	$(Q)$(MAKE) --no-print-directory -j$$(nproc) all
	$(Q)BIN=$(BIN) scripts/demo.sh

deps:
	$(Q)scripts/install-deps.sh

unit: $(UNIT_BINS)
itest: $(ITEST_BINS)
benches: $(BENCH_BINS)
fuzz: $(FUZZ_BINS)

# ---- generated protobuf code ---------------------------------------------------------------
$(BUILD)/proto/%.pb-c.c $(BUILD)/proto/%.pb-c.h &: proto/%.proto
	@mkdir -p $(dir $@)
	$(call say,PROTOC,$<)protoc-c --proto_path=proto --c_out=$(BUILD)/proto $<

$(BUILD)/o/proto/%.o: $(BUILD)/proto/%.c | $(PB_H)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CPPFLAGS) $(GENFLAGS) -c -o $@ $<

$(BUILD)/san/proto/%.o: $(BUILD)/proto/%.c | $(PB_H)
	@mkdir -p $(dir $@)
	$(call say,CC-SAN,$<)$(CC) $(CPPFLAGS) $(GENFLAGS) $(SAN) -c -o $@ $<

# ---- our code ------------------------------------------------------------------------------
$(BUILD)/o/%.o: %.c | $(PB_H)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/san/%.o: %.c | $(PB_H)
	@mkdir -p $(dir $@)
	$(call say,CC-SAN,$<)$(CC) $(CPPFLAGS) $(CFLAGS) $(SAN) -c -o $@ $<

$(LIBSM): $(call obj,$(COMMON_SRC)) $(PB_OBJ)
$(LIBBR): $(call obj,$(BR_SRC))
$(LIBCTL): $(call obj,$(CTL_SRC))
$(LIBADM): $(call obj,$(ADM_SRC))
$(BUILD)/san/libsm.a: $(call san,$(COMMON_SRC)) $(PB_SAN)
$(BUILD)/san/libbr.a: $(call san,$(BR_SRC))
$(BUILD)/san/libctl.a: $(call san,$(CTL_SRC))
$(BUILD)/san/libadm.a: $(call san,$(ADM_SRC))
$(BUILD)/%.a:
	@mkdir -p $(dir $@)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(BIN)/samsa-broker: $(call obj,broker/br_main.c) $(LIBBR) $(LIBSM)
$(BIN)/samsa-controller: $(call obj,controller/ctl_main.c) $(LIBCTL) $(LIBSM)
$(BIN)/samsa-admin: $(call obj,controller/admin/adm_main.c) $(LIBADM) $(LIBCTL) $(LIBSM)
$(BINS):
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(OPT) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/unit/%: $(BUILD)/san/tests/unit/%.o $(SANLIBS)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(OPT) $(SAN) -o $@ $^ $(CRIT_LIBS) $(PKG_LIBS)

$(BUILD)/tests/integration/%: $(BUILD)/o/tests/integration/%.o $(LIBADM) $(LIBCTL) $(LIBBR) $(LIBSM)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(OPT) -o $@ $^ $(RDK_LIBS) $(PKG_LIBS)

$(BUILD)/bench/%: $(BUILD)/o/bench/%.o $(LIBADM) $(LIBCTL) $(LIBBR) $(LIBSM)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(OPT) -o $@ $^ $(RDK_LIBS) $(PKG_LIBS)

# libFuzzer targets: clang, one binary per decoder, built from the sources directly.
FUZZ_CC    ?= clang
$(BUILD)/fuzz/%: tests/fuzz/%.c $(COMMON_SRC) $(BR_SRC) $(PB_C)
	@mkdir -p $(dir $@)
	$(call say,FUZZ,$@)$(FUZZ_CC) $(CPPFLAGS) -std=c11 -g -O1 -w -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $^ $(PKG_LIBS)

# ---- housekeeping --------------------------------------------------------------------------
FMT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

fmt:
	$(Q)clang-format -i $(FMT_FILES)

fmt-check:
	$(Q)clang-format --dry-run --Werror $(FMT_FILES)

clean:
	$(Q)rm -rf $(BUILD) $(BIN)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
