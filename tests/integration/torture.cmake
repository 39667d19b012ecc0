# test_torture: DMA-after-free torture (test_torture.c, torture_*.c).
# Included by CMakeLists.txt in this directory.
#
#   test_torture               5,000 layout operations, socket pins
#   test_torture_long          100,000 layout operations (label "long")
#   test_torture_lockless_4k   lockless pins (daxlease_map_pin, pin_dma),
#   test_torture_lockless_2m   3 threads per pinner, on a namespace of
#   test_torture_lockless_1g   4 KiB, 2 MiB, 1 GiB align: PTE, PMD, PUD
#                              leaves (1g: a 4 GiB sparse image)
#
# The lockless variants run with DAXLEASE_TEST_PIN_WINDOW_US=50:
# libdaxlease sleeps 50 us between a lockless pin's first read of its
# entries and its increments.  On 2 shared cores the real window is a few
# instructions and a run meets it by luck (a build without the re-read,
# -DDAXLEASE_NEGATIVE_CONTROL=no-revalidate, was caught in 3 runs of 6);
# widened, the re-read must catch every race (it does: backoffs > 0, no
# mismatch) and the negative control fails every run.
#
# The fake NVDIMM goes to /dev/shm when there is one: it persists with
# msync, and on a disk every msync writes back every page the pinners
# dirtied - minutes of disk I/O that test nothing here.
daxlease_add_it(test_torture CLIENT TIMEOUT 300)
target_sources(test_torture PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/torture_common.c
  ${CMAKE_CURRENT_SOURCE_DIR}/torture_pinner.c
  ${CMAKE_CURRENT_SOURCE_DIR}/torture_race.c
  ${CMAKE_CURRENT_SOURCE_DIR}/torture_layout.c
  ${CMAKE_CURRENT_SOURCE_DIR}/torture_filler.c)
find_package(Threads REQUIRED)
target_link_libraries(test_torture PRIVATE Threads::Threads)

set(TORTURE_ENV "DAXLEASE_DAEMON=$<TARGET_FILE:daxleased>")
if(IS_DIRECTORY /dev/shm)
  list(APPEND TORTURE_ENV "TMPDIR=/dev/shm")
endif()

# torture_variant(NAME LABEL TIMEOUT VAR=VALUE...): the same binary
function(torture_variant name label timeout)
  add_test(NAME ${name} COMMAND test_torture)
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77
    TIMEOUT ${timeout} LABELS ${label}
    ENVIRONMENT "${TORTURE_ENV};${ARGN}")
endfunction()

set_tests_properties(test_torture PROPERTIES ENVIRONMENT "${TORTURE_ENV}")
torture_variant(test_torture_long long 3600 DAXLEASE_TORTURE_OPS=100000)
foreach(variant "4k;4096" "2m;2097152" "1g;1073741824")
  list(GET variant 0 suffix)
  list(GET variant 1 align)
  torture_variant(test_torture_lockless_${suffix} integration 300
    DAXLEASE_TORTURE_PIN=lockless DAXLEASE_TORTURE_ALIGN=${align}
    DAXLEASE_TEST_PIN_WINDOW_US=50)
endforeach()
