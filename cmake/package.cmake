# The Debian package (issue 15): `make deb` → build/fastfork_<version>_<arch>.deb, made by CPack
# from two install components: runtime (binaries, man pages, completions, docs) and system
# (/etc, the systemd unit). The system component is EXCLUDE_FROM_ALL, so a plain
# `cmake --install --prefix DIR` never writes to /etc; libraries and headers (development) are
# not in the .deb.
find_package(Python3 COMPONENTS Interpreter)

set(ff_dist ${PROJECT_BINARY_DIR}/dist)
file(MAKE_DIRECTORY ${ff_dist})

# Man pages and bash completions are generated from the binaries' own --help (dist/man/help2man.py),
# so they cannot drift from it. gzip -n: reproducible, as lintian wants.
set(ff_generated "")
foreach(name fastfork fastforkctl)
  set(exe $<TARGET_FILE:${name}>)
  add_custom_command(OUTPUT ${ff_dist}/${name}.8.gz ${ff_dist}/completions/${name}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${ff_dist}/completions
    COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/dist/man/help2man.py man ${exe} ${name} 8 ${ff_dist}/${name}.8
    COMMAND gzip -9nf ${ff_dist}/${name}.8
    COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/dist/man/help2man.py completion ${exe} ${name}
            ${ff_dist}/completions/${name}
    DEPENDS ${name} ${PROJECT_SOURCE_DIR}/dist/man/help2man.py
    COMMENT "man page and bash completion for ${name}")
  list(APPEND ff_generated ${ff_dist}/${name}.8.gz ${ff_dist}/completions/${name})
  install(FILES ${ff_dist}/${name}.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8 COMPONENT runtime)
  install(FILES ${ff_dist}/completions/${name} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
          COMPONENT runtime)
endforeach()
add_custom_command(OUTPUT ${ff_dist}/changelog.gz
  COMMAND gzip -9nc ${PROJECT_SOURCE_DIR}/dist/debian/changelog > ${ff_dist}/changelog.gz
  DEPENDS ${PROJECT_SOURCE_DIR}/dist/debian/changelog)
add_custom_target(ff_dist_files ALL DEPENDS ${ff_generated} ${ff_dist}/changelog.gz)

install(FILES ${PROJECT_SOURCE_DIR}/dist/debian/copyright ${ff_dist}/changelog.gz
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/fastfork COMPONENT runtime)

install(FILES dist/fastfork.json DESTINATION /etc/fastfork COMPONENT system EXCLUDE_FROM_ALL)
install(FILES dist/fastfork.logrotate DESTINATION /etc/logrotate.d RENAME fastfork
        COMPONENT system EXCLUDE_FROM_ALL)
install(FILES dist/fastfork.service DESTINATION /lib/systemd/system COMPONENT system EXCLUDE_FROM_ALL)
install(FILES dist/fastfork-package.conf DESTINATION /lib/systemd/system/fastfork.service.d
        RENAME package.conf COMPONENT system EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fastfork)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "fastfork maintainers <fastfork@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "pre-fork HTTP/1.1 server")
set(CPACK_PACKAGE_DESCRIPTION "fastfork is a multi-core HTTP/1.1 server: one master process supervises\n\
worker processes, each with its own SO_REUSEPORT socket and libuv loop,\n\
reloads without losing a request, and publishes live statistics in shared\n\
memory. fastforkctl reads them and controls a running server.")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime system)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION httpd)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/dist/debian/postinst ${PROJECT_SOURCE_DIR}/dist/debian/postrm
  ${PROJECT_SOURCE_DIR}/dist/debian/conffiles)
set(CPACK_OUTPUT_FILE_PREFIX ${PROJECT_BINARY_DIR})
include(CPack)
