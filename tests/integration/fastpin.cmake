# test_fastpin: the lockless pin path (test_fastpin.c).
# Included by CMakeLists.txt in this directory.
#
#   test_fastpin      2 MiB-align namespace: PMD leaves (and PTEs)
#   test_fastpin_4k   4 KiB align: PTE leaves only
#   test_fastpin_1g   1 GiB align: PUD leaves (a 4 GiB sparse image)
daxlease_add_it(test_fastpin CLIENT TIMEOUT 300)
find_package(Threads REQUIRED)
target_link_libraries(test_fastpin PRIVATE Threads::Threads)

foreach(variant "4k;4096" "1g;1073741824")
  list(GET variant 0 suffix)
  list(GET variant 1 align)
  add_test(NAME test_fastpin_${suffix} COMMAND test_fastpin)
  set_tests_properties(test_fastpin_${suffix} PROPERTIES SKIP_RETURN_CODE 77
    TIMEOUT 300 LABELS integration ENVIRONMENT
    "DAXLEASE_DAEMON=$<TARGET_FILE:daxleased>;DAXLEASE_FASTPIN_ALIGN=${align}")
endforeach()
