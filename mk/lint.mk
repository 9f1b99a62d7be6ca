# mk/lint.mk: make lint: cppcheck and clang-tidy over agent/*.c and
# tests/fuzz/*.c (scripts/lint.sh; checks in .clang-tidy and
# mk/cppcheck.supp), counted by tests/run.  Uses the glibc headers of
# mk/sysdeps.sh lint and the generated graphql.h of the fuzz build.

LINT_STAMP	= build/lint/sysdeps.stamp

.PHONY: lint
lint: $(LINT_STAMP) build/fuzz/gen/graphql.h
	@bash tests/run "sh scripts/lint.sh build/fuzz/gen 2"

$(LINT_STAMP): mk/sysdeps.sh
	@mkdir -p $(@D)
	sh mk/sysdeps.sh lint
	touch $@
