# package.cmake - the Debian package (`cmake --build build --target package`).
#
# Its files are install rules of their own component, "deb", that a plain
# `cmake --install` leaves out: the package puts the shim in the multiarch
# library directory and its configuration, service and log rotation under
# /etc, /lib and /var, where a prefix install has no business.
set(DEB_LIBDIR lib)
if(CMAKE_LIBRARY_ARCHITECTURE)
  set(DEB_LIBDIR lib/${CMAKE_LIBRARY_ARCHITECTURE})
endif()
set(PKG ${CMAKE_CURRENT_SOURCE_DIR}/scripts/package)
set(PKG_OUT ${CMAKE_CURRENT_BINARY_DIR}/package)

# Man pages and the changelog go in compressed, as Debian's policy says.
set(PKG_GZ)
foreach(f spanshim.1 spanshim-collector.1 changelog)
  add_custom_command(OUTPUT ${PKG_OUT}/${f}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PKG_OUT}
    COMMAND gzip -9n -c ${PKG}/${f} > ${PKG_OUT}/${f}.gz
    DEPENDS ${PKG}/${f} VERBATIM)
  list(APPEND PKG_GZ ${PKG_OUT}/${f}.gz)
endforeach()
add_custom_target(package_files ALL DEPENDS ${PKG_GZ})

install(TARGETS spanshim LIBRARY DESTINATION ${DEB_LIBDIR} COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES preload/spanshim-node.js DESTINATION ${DEB_LIBDIR} COMPONENT deb EXCLUDE_FROM_ALL)
install(TARGETS spanshim-collector spanshim-run RUNTIME DESTINATION bin
  COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${PKG_OUT}/spanshim.1.gz ${PKG_OUT}/spanshim-collector.1.gz
  DESTINATION share/man/man1 COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${PKG_OUT}/changelog.gz ${PKG}/copyright README.md
  DESTINATION share/doc/spanshim COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${PKG}/lintian-overrides DESTINATION share/lintian/overrides
  RENAME spanshim COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${PKG}/collector.conf ${PKG}/preload.conf DESTINATION /etc/spanshim
  COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${PKG}/logrotate DESTINATION /etc/logrotate.d RENAME spanshim
  COMPONENT deb EXCLUDE_FROM_ALL)
install(PROGRAMS ${PKG}/init.d DESTINATION /etc/init.d RENAME spanshim-collector
  COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${PKG}/spanshim-collector.service DESTINATION /lib/systemd/system
  COMPONENT deb EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME spanshim)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "spanshim developers <spanshim@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL deb)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
# libunwind is opened at run time, for call stacks only.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libunwind8")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "distributed tracing for programs nobody will recompile
libspanshim.so, preloaded into any dynamically linked program (spanshim run,
or system-wide through /etc/ld.so.preload for the programs
/etc/spanshim/preload.conf selects), records an OpenTelemetry span for every
request served and every call made (HTTP/1, HTTP/2, PostgreSQL, MySQL,
Redis, DNS), propagates W3C trace context, and sends the spans to
spanshim-collector, which writes OTLP JSON, draws traces and forwards them
to any OTLP backend.")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PKG}/postinst ${PKG}/prerm ${PKG}/postrm ${PKG}/conffiles
  ${PKG}/triggers)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
