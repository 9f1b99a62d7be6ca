# mk/lint.mk: make lint (cppcheck, clang-tidy): see scripts/lint.sh
